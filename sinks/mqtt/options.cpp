#include "sinks/mqtt/options.hpp"

#include <charconv>
#include <random>

#include <unistd.h>

namespace wattline::mqtt {

std::string broker_url::paho_uri() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return scheme + "://" + h + ":" + std::to_string(port);
}

std::string redact_url(std::string_view url) {
  auto scheme_end = url.find("://");
  size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  auto at = url.find('@', start);
  auto slash = url.find('/', start);
  if (at == std::string_view::npos || (slash != std::string_view::npos && slash < at))
    return std::string(url);
  return std::string(url.substr(0, start)) + std::string(url.substr(at + 1));
}

std::optional<broker_url> parse_broker_url(std::string_view url, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<broker_url> {
    if (error != nullptr)
      *error = "invalid MQTT broker URL '" + redact_url(url) + "': " + why;
    return std::nullopt;
  };
  broker_url out;
  auto sep = url.find("://");
  if (sep == std::string_view::npos)
    return fail("expected scheme://host[:port] with scheme tcp, mqtt, ssl or mqtts");
  std::string_view scheme = url.substr(0, sep);
  int default_port = 1883;
  if (scheme == "tcp" || scheme == "mqtt") {
    out.scheme = "tcp";
  } else if (scheme == "ssl" || scheme == "mqtts" || scheme == "tls") {
    out.scheme = "ssl";
    default_port = 8883;
  } else {
    return fail("unknown scheme '" + std::string(scheme) + "' (use tcp, mqtt, ssl or mqtts)");
  }
  std::string_view rest = url.substr(sep + 3);
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (slash + 1 != rest.size())
      return fail("a path is not allowed");
    rest = rest.substr(0, slash);
  }
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = userinfo.find(':');
    out.username = std::string(userinfo.substr(0, colon));
    if (colon != std::string_view::npos)
      out.password = std::string(userinfo.substr(colon + 1));
  }
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos)
      return fail("unclosed '[' in IPv6 address");
    out.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return fail("expected ':' after ']'");
      port_text = rest.substr(1);
    }
  } else {
    auto colon = rest.rfind(':');
    out.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos)
      port_text = rest.substr(colon + 1);
  }
  if (out.host.empty())
    return fail("missing host");
  out.port = default_port;
  if (!port_text.empty()) {
    int p = 0;
    auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
    if (r.ec != std::errc() || r.ptr != port_text.data() + port_text.size() || p <= 0 || p > 65535)
      return fail("bad port '" + std::string(port_text) + "'");
    out.port = p;
  }
  return out;
}

std::string default_client_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof(host), "host");
  std::random_device rd;
  std::uniform_int_distribution<unsigned> dist(0, 0xFFFFFF);
  char rnd[8];
  std::snprintf(rnd, sizeof(rnd), "%06x", dist(rd));
  return std::string("wattline-") + host + "-" + std::to_string(::getpid()) + "-" + rnd;
}

} // namespace wattline::mqtt
