#include "tests/influxdb/influxd_server.hpp"

#include "tests/support/support.hpp"

#include <curl/curl.h>

#include <csignal>
#include <fstream>
#include <mutex>
#include <stdexcept>

namespace wattline::test {

namespace {

size_t append_body(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

http_reply perform(const std::string& url, const std::string_view* body,
                   std::string_view content_type, std::string_view user, std::string_view password,
                   const std::string& ca_file) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  http_reply reply;
  CURL* c = curl_easy_init();
  if (!c)
    throw std::runtime_error("curl_easy_init failed");
  char err[CURL_ERROR_SIZE] = {};
  curl_slist* headers = nullptr;
  std::string ct = "Content-Type: " + std::string{content_type};
  headers = curl_slist_append(headers, ct.c_str());
  headers = curl_slist_append(headers, "Expect:");
  std::string u{user}, p{password};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30'000L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &append_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply.body);
  if (!ca_file.empty())
    curl_easy_setopt(c, CURLOPT_CAINFO, ca_file.c_str());
  if (body) {
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  if (!u.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(c, CURLOPT_USERNAME, u.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, p.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  else
    reply.body = err[0] ? err : curl_easy_strerror(rc);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  return reply;
}

std::string escape_form(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xF]);
    }
  }
  return out;
}

} // namespace

http_reply http_post(const std::string& url, std::string_view body, std::string_view content_type,
                     std::string_view user, std::string_view password, const std::string& ca_file) {
  return perform(url, &body, content_type, user, password, ca_file);
}

http_reply http_get(const std::string& url, const std::string& ca_file) {
  return perform(url, nullptr, {}, {}, {}, ca_file);
}

int influx_series::column(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name)
      return static_cast<int>(i);
  return -1;
}

std::string influxd_server::binary() {
  auto path = find_program("influxd");
  if (path.empty())
    throw std::runtime_error("influxd not found on PATH (Debian package `influxdb`): run "
                             "scripts/install-deps.sh");
  return path;
}

influxd_server::influxd_server(influxd_options opts)
    : opts_(std::move(opts)), dir_(std::make_unique<temp_dir>()) {
  binary(); // fail early and clearly
  http_port_ = free_tcp_port();
  do
    rpc_port_ = free_tcp_port();
  while (rpc_port_ == http_port_);
  if (opts_.https)
    make_certificate();
  // Another test process may take a port between free_tcp_port() and influxd's bind: on a failed
  // first start, try fresh ports (a few times) before giving up.
  for (int attempt = 1;; ++attempt) {
    write_config();
    try {
      start();
      return;
    } catch (const std::runtime_error&) {
      if (attempt == 5 || log().find("address already in use") == std::string::npos)
        throw;
    }
    http_port_ = free_tcp_port();
    do
      rpc_port_ = free_tcp_port();
    while (rpc_port_ == http_port_);
  }
}

std::filesystem::path influxd_server::ca_file() const {
  return opts_.https ? dir_->path() / "cert.pem" : std::filesystem::path{};
}

void influxd_server::make_certificate() {
  auto openssl = find_program("openssl");
  if (openssl.empty())
    throw std::runtime_error("openssl not found on PATH: run scripts/install-deps.sh");
  const auto& d = dir_->path();
  child_process p({openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                   (d / "key.pem").string(), "-out", (d / "cert.pem").string(), "-days", "2",
                   "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"},
                  d / "openssl.log");
  if (p.wait(std::chrono::seconds(60)) != 0)
    throw std::runtime_error("openssl could not make a test certificate: " + p.log());
}

influxd_server::~influxd_server() {
  try {
    stop();
  } catch (...) {
  }
  proc_.reset();
}

const std::filesystem::path& influxd_server::dir() const {
  return dir_->path();
}

std::string influxd_server::url() const {
  return (opts_.https ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(http_port_);
}

std::string influxd_server::log() const {
  return read_file(dir_->path() / "influxd.log");
}

void influxd_server::write_config() {
  const auto& d = dir_->path();
  std::ofstream cfg(d / "influxdb.conf");
  // Usage reporting off: `reporting-disabled` upstream, `reporting-enabled` in Debian's build
  // (which ignores the other key).
  cfg << "reporting-disabled = true\n"
      << "reporting-enabled = false\n"
      << "bind-address = \"127.0.0.1:" << rpc_port_ << "\"\n"
      << "[meta]\n"
      << "  dir = \"" << (d / "meta").string() << "\"\n"
      << "  logging-enabled = false\n"
      << "[data]\n"
      << "  dir = \"" << (d / "data").string() << "\"\n"
      << "  wal-dir = \"" << (d / "wal").string() << "\"\n"
      << "  query-log-enabled = false\n"
      << "[monitor]\n"
      << "  store-enabled = false\n"
      << "[continuous_queries]\n"
      << "  enabled = false\n"
      << "[subscriber]\n"
      << "  enabled = false\n"
      << "[http]\n"
      << "  enabled = true\n"
      << "  bind-address = \"127.0.0.1:" << http_port_ << "\"\n"
      << "  auth-enabled = " << (opts_.auth_enabled ? "true" : "false") << "\n"
      << "  log-enabled = " << (opts_.http_log ? "true" : "false") << "\n"
      << "  pprof-enabled = false\n"
      << "  max-body-size = " << opts_.max_body_size << "\n"
      << "  https-enabled = " << (opts_.https ? "true" : "false") << "\n";
  if (opts_.https)
    cfg << "  https-certificate = \"" << (d / "cert.pem").string() << "\"\n"
        << "  https-private-key = \"" << (d / "key.pem").string() << "\"\n";
  cfg << "[ifql]\n"
      << "  enabled = false\n"
      << "[logging]\n"
      << "  level = \"" << opts_.log_level << "\"\n"
      << "  suppress-logo = true\n";
  if (!cfg)
    throw std::runtime_error("cannot write " + (d / "influxdb.conf").string());
}

bool influxd_server::running() {
  return proc_ && proc_->running();
}

void influxd_server::start() {
  if (running())
    return;
  proc_.reset();
  const auto& d = dir_->path();
  proc_ = std::make_unique<child_process>(
      std::vector<std::string>{binary(), "-config", (d / "influxdb.conf").string()},
      d / "influxd.log");
  const std::string ping = url() + "/ping";
  bool up = wait_until(
      [&] {
        if (!proc_->running())
          return true; // exited: stop waiting, reported below
        return http_get(ping, ca_file().string()).status == 204;
      },
      opts_.start_timeout, std::chrono::milliseconds(20));
  if (!up || !proc_->running())
    throw std::runtime_error("influxd did not answer " + ping + " within " +
                             std::to_string(opts_.start_timeout.count()) + " ms; log:\n" + log());
  if (opts_.auth_enabled && !admin_created_) {
    // With auth enabled and no user yet, InfluxDB accepts exactly this statement unauthenticated.
    std::string q = "q=" + escape_form("CREATE USER \"" + opts_.admin_user + "\" WITH PASSWORD '" +
                                       opts_.admin_password + "' WITH ALL PRIVILEGES");
    auto r = http_post(url() + "/query", q, "application/x-www-form-urlencoded", {}, {},
                       ca_file().string());
    if (r.status != 200)
      throw std::runtime_error("influxd: creating the admin user failed: " + r.body);
    admin_created_ = true;
  }
}

void influxd_server::stop() {
  if (!running())
    return;
  proc_->signal(SIGTERM);
  if (proc_->wait(std::chrono::seconds(15)) == -1) {
    proc_->signal(SIGKILL);
    proc_->wait(std::chrono::seconds(5));
  }
}

void influxd_server::kill() {
  if (!running())
    return;
  proc_->signal(SIGKILL);
  proc_->wait(std::chrono::seconds(5));
}

nlohmann::json influxd_server::query(std::string_view q, std::string_view db) {
  std::string target = url() + "/query?epoch=ns";
  if (!db.empty())
    target += "&db=" + escape_form(db);
  std::string body = "q=" + escape_form(q);
  const std::string user = opts_.auth_enabled ? opts_.admin_user : std::string{};
  const std::string pass = opts_.auth_enabled ? opts_.admin_password : std::string{};
  http_reply r =
      http_post(target, body, "application/x-www-form-urlencoded", user, pass, ca_file().string());
  if (r.status != 200)
    throw std::runtime_error("influxd query `" + std::string{q} + "` failed: HTTP " +
                             std::to_string(r.status) + ": " + r.body);
  auto json = nlohmann::json::parse(r.body);
  if (json.contains("results"))
    for (const auto& res : json["results"])
      if (res.contains("error"))
        throw std::runtime_error("influxd query `" + std::string{q} +
                                 "` failed: " + res["error"].get<std::string>());
  return json;
}

void influxd_server::create_database(std::string_view name) {
  std::string q = "CREATE DATABASE \"";
  q += name;
  q += "\"";
  query(q);
}

std::vector<influx_series> influxd_server::select(std::string_view q, std::string_view db) {
  auto json = query(q, db);
  std::vector<influx_series> out;
  const auto& res = json.at("results").at(0);
  if (!res.contains("series"))
    return out;
  for (const auto& s : res["series"]) {
    influx_series series;
    series.name = s.value("name", "");
    if (s.contains("tags"))
      for (auto it = s["tags"].begin(); it != s["tags"].end(); ++it)
        series.tags[it.key()] = it.value().get<std::string>();
    for (const auto& c : s.at("columns"))
      series.columns.push_back(c.get<std::string>());
    for (const auto& row : s.at("values")) {
      std::vector<nlohmann::json> values;
      for (const auto& v : row)
        values.push_back(v);
      series.values.push_back(std::move(values));
    }
    out.push_back(std::move(series));
  }
  return out;
}

int64_t influxd_server::count(std::string_view db, std::string_view measurement,
                              std::string_view field) {
  std::string q = "SELECT COUNT(\"";
  q += field;
  q += "\") FROM \"";
  q += measurement;
  q += "\"";
  auto series = select(q, db);
  if (series.empty() || series[0].values.empty())
    return 0;
  return series[0].values[0].at(1).get<int64_t>();
}

} // namespace wattline::test
