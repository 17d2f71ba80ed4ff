#include "tests/dlms/test_util.hpp"

#include <fstream>
#include <stdexcept>

#include <date/date.h>

#include "tests/support/support.hpp"

namespace wattline::dlms::test {

std::vector<uint8_t> from_hex(std::string_view hex) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else
      continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

const nlohmann::json& frames() {
  static const nlohmann::json j = [] {
    std::ifstream in(wattline::test::data_path("dlms/frames.json"));
    if (!in)
      throw std::runtime_error("tests/data/dlms/frames.json missing");
    return nlohmann::json::parse(in);
  }();
  return j;
}

std::vector<uint8_t> frame_bytes(size_t i) {
  return from_hex(frames().at(i).at("hex").get<std::string>());
}

options frame_options(size_t i) {
  static const char* const profile_of[25] = {
      "lge450",   "lge450",     "lge450",       "lge450",       "lge450",
      "lge450",   "lge450",     "lge570",       "lge570",       "lge570",
      "lge360",   "iskraam550", "iskraam550",   "kamstrup_han", "lge450",
      "lge450",   "generic",    "generic",      "generic",      "generic",
      "kaifa_no", "generic",    "kamstrup_han", "generic",      "wiener_netze"};
  const auto& e = frames().at(i);
  options o;
  o.profile = i < 25 ? profile_of[i] : "generic";
  o.timezone = "UTC";
  o.fallback_id = "fallback";
  if (e.at("key").is_string())
    (void)parse_key(e.at("key").get<std::string>(), o.key);
  if (e.at("auth_key").is_string())
    (void)parse_key(e.at("auth_key").get<std::string>(), o.auth_key);
  if (i == 21 || i == 23)
    o.framing = transport::raw;
  return o;
}

decode_result feed_all(decoder& dec, std::span<const uint8_t> bytes, chunking how, uint32_t seed) {
  decode_result all;
  switch (how) {
  case chunking::whole:
    dec.feed(bytes, receive_ns, all);
    break;
  case chunking::bytewise:
    for (size_t i = 0; i < bytes.size(); ++i)
      dec.feed(bytes.subspan(i, 1), receive_ns, all);
    break;
  case chunking::random: {
    std::mt19937 rng(seed);
    size_t at = 0;
    while (at < bytes.size()) {
      const size_t n = std::min<size_t>(bytes.size() - at, 1 + rng() % 97);
      dec.feed(bytes.subspan(at, n), receive_ns, all);
      at += n;
    }
    break;
  }
  }
  return all;
}

int64_t parse_iso(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec) != 6)
    throw std::runtime_error("bad time " + s);
  int64_t frac_ns = 0;
  if (auto dot = s.find('.'); dot != std::string::npos) {
    int64_t scale = 100000000;
    for (size_t i = dot + 1; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
      frac_ns += (s[i] - '0') * scale;
      scale /= 10;
    }
  }
  const auto days = date::sys_days{date::year{y} / mo / d}.time_since_epoch().count();
  return ((static_cast<int64_t>(days) * 86400 + h * 3600 + mi * 60 + sec) * 1000000000LL) + frac_ns;
}

bool has_error(const decode_result& r, error_kind kind) {
  for (const auto& e : r.errors)
    if (e.kind == kind)
      return true;
  return false;
}

} // namespace wattline::dlms::test
