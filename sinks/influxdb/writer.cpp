#include "sinks/influxdb/writer.hpp"

#include "sinks/influxdb/server_error.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <mutex>
#include <stdexcept>

namespace wattline::influxdb {

std::string_view to_string(write_status s) {
  switch (s) {
  case write_status::ok:
    return "ok";
  case write_status::partial:
    return "partial";
  case write_status::retry:
    return "retry";
  case write_status::split:
    return "split";
  case write_status::permanent:
    return "permanent";
  }
  return "ok";
}

namespace {

constexpr size_t max_response_bytes = 1 << 20;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string url_escape(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xF]);
    }
  }
  return out;
}

std::string base64(std::string_view s) {
  static constexpr char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (i + 1 == s.size()) {
    uint32_t v = uint8_t(s[i]) << 16;
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == s.size()) {
    uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8);
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size())
    return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

// Splits "scheme://user:pass@host:port/path" into the credential-free form and the userinfo.
void strip_userinfo(std::string_view url, std::string& clean, std::string& userinfo) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    clean = std::string{url};
    return;
  }
  auto host_begin = scheme_end + 3;
  auto host_end = url.find_first_of("/?#", host_begin);
  auto authority =
      url.substr(host_begin, host_end == std::string_view::npos ? std::string_view::npos
                                                                : host_end - host_begin);
  auto at = authority.rfind('@');
  if (at == std::string_view::npos) {
    clean = std::string{url};
    return;
  }
  userinfo = std::string{authority.substr(0, at)};
  clean = std::string{url.substr(0, host_begin)};
  clean += authority.substr(at + 1);
  if (host_end != std::string_view::npos)
    clean += url.substr(host_end);
}

} // namespace

/// Result of one HTTP exchange.
struct http_result {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string error; // curl's error text for code != CURLE_OK
  std::chrono::milliseconds retry_after{0};
};

struct writer::impl {
  CURL* curl = nullptr;
  curl_slist* write_headers = nullptr;
  curl_slist* query_headers = nullptr;
  std::string write_url;
  std::string query_url;
  std::string response;
  std::string retry_after_header;
  std::string influx_error_header;
  char errbuf[CURL_ERROR_SIZE] = {};
  z_stream zs{};
  bool zs_ready = false;
  std::string gz;
  std::vector<std::string> secrets;

  ~impl() {
    if (curl)
      curl_easy_cleanup(curl);
    curl_slist_free_all(write_headers);
    curl_slist_free_all(query_headers);
    if (zs_ready)
      deflateEnd(&zs);
  }

  static size_t on_body(char* data, size_t size, size_t n, void* self) {
    auto* me = static_cast<impl*>(self);
    size_t len = size * n;
    if (me->response.size() < max_response_bytes)
      me->response.append(data, std::min(len, max_response_bytes - me->response.size()));
    return len;
  }

  static size_t on_header(char* data, size_t size, size_t n, void* self) {
    auto* me = static_cast<impl*>(self);
    size_t len = size * n;
    std::string_view h{data, len};
    auto value = [&](size_t name_len) {
      auto v = h.substr(name_len);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
        v.remove_prefix(1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' '))
        v.remove_suffix(1);
      return std::string{v};
    };
    if (iequals_prefix(h, "retry-after:"))
      me->retry_after_header = value(12);
    else if (iequals_prefix(h, "x-influxdb-error:"))
      me->influx_error_header = value(17);
    else if (iequals_prefix(h, "http/")) { // new response (e.g. after 100 Continue)
      me->retry_after_header.clear();
      me->influx_error_header.clear();
    }
    return len;
  }

  // Compresses `body` into `gz`; false on a zlib error.
  bool compress(std::string_view body, int level) {
    if (!zs_ready) {
      if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
      zs_ready = true;
    } else {
      deflateReset(&zs);
    }
    gz.resize(deflateBound(&zs, body.size()) + 32);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
    zs.avail_in = static_cast<uInt>(body.size());
    zs.next_out = reinterpret_cast<Bytef*>(gz.data());
    zs.avail_out = static_cast<uInt>(gz.size());
    int rc = deflate(&zs, Z_FINISH);
    if (rc != Z_STREAM_END)
      return false;
    gz.resize(gz.size() - zs.avail_out);
    return true;
  }

  http_result perform(const std::string& url, curl_slist* headers, std::string_view body) {
    response.clear();
    retry_after_header.clear();
    influx_error_header.clear();
    errbuf[0] = 0;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    http_result r;
    r.code = curl_easy_perform(curl);
    if (r.code != CURLE_OK) {
      r.error = errbuf[0] ? errbuf : curl_easy_strerror(r.code);
      return r;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
    if (!retry_after_header.empty()) {
      int64_t secs = 0;
      const auto& h = retry_after_header;
      auto [p, ec] = std::from_chars(h.data(), h.data() + h.size(), secs);
      if (ec == std::errc{} && p == h.data() + h.size() && secs >= 0) {
        r.retry_after = std::chrono::seconds{secs};
      } else {
        time_t when = curl_getdate(h.c_str(), nullptr);
        time_t now = std::time(nullptr);
        if (when > now)
          r.retry_after = std::chrono::seconds{when - now};
      }
    }
    return r;
  }
};

writer::writer(writer_options opts) : impl_(std::make_unique<impl>()), opts_(std::move(opts)) {
  std::string userinfo;
  strip_userinfo(opts_.url, display_url_, userinfo);
  while (!display_url_.empty() && display_url_.back() == '/')
    display_url_.pop_back();
  auto& s = impl_->secrets;
  for (const std::string* secret : {&opts_.password, &opts_.token}) {
    if (secret->empty())
      continue;
    s.push_back(*secret);
    s.push_back(url_escape(*secret));
  }
  if (!opts_.password.empty())
    s.push_back(base64(opts_.username + ":" + opts_.password));
  if (!userinfo.empty()) {
    s.push_back(userinfo);
    if (auto colon = userinfo.find(':'); colon != std::string::npos && colon + 1 < userinfo.size())
      s.push_back(userinfo.substr(colon + 1));
  }
  // Longest first, so that a secret containing another is replaced whole.
  std::sort(s.begin(), s.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });

  auto fail = [&](const std::string& why) {
    throw std::invalid_argument("influxdb sink \"" + opts_.name + "\" (" + display_url_ +
                                "): " + why);
  };
  if (!userinfo.empty())
    fail("the URL must not contain credentials; use username/password or token");
  if (!iequals_prefix(display_url_, "http://") && !iequals_prefix(display_url_, "https://"))
    fail("the URL must start with http:// or https://");
  if (opts_.api == api_version::v1 && opts_.database.empty())
    fail("v1 API needs a database");
  if (opts_.api == api_version::v2 && opts_.bucket.empty())
    fail("v2 API needs a bucket");
  if (opts_.gzip_level < 1 || opts_.gzip_level > 9)
    opts_.gzip_level = 1;

  // URLs.
  std::string auth_params;
  if (opts_.api == api_version::v1 && opts_.v1_auth == v1_auth_mode::query &&
      !opts_.username.empty())
    auth_params = "&u=" + url_escape(opts_.username) + "&p=" + url_escape(opts_.password);
  if (opts_.api == api_version::v1) {
    std::string_view prec;
    switch (opts_.time_precision) {
    case precision::ns:
      prec = "n";
      break;
    case precision::us:
      prec = "u";
      break;
    case precision::ms:
      prec = "ms";
      break;
    case precision::s:
      prec = "s";
      break;
    }
    impl_->write_url = display_url_ + "/write?db=" + url_escape(opts_.database);
    if (!opts_.retention_policy.empty())
      impl_->write_url += "&rp=" + url_escape(opts_.retention_policy);
    impl_->write_url += "&precision=";
    impl_->write_url += prec;
    impl_->write_url += auth_params;
    impl_->query_url = display_url_ + "/query";
    if (!auth_params.empty())
      impl_->query_url += "?" + auth_params.substr(1);
  } else {
    impl_->write_url = display_url_ + "/api/v2/write?bucket=" + url_escape(opts_.bucket);
    if (!opts_.org.empty())
      impl_->write_url += "&org=" + url_escape(opts_.org);
    impl_->write_url += "&precision=";
    impl_->write_url += to_string(opts_.time_precision);
    impl_->query_url = display_url_ + "/query";
  }

  // Headers.
  auto& wh = impl_->write_headers;
  auto& qh = impl_->query_headers;
  wh = curl_slist_append(wh, "Content-Type: text/plain; charset=utf-8");
  wh = curl_slist_append(wh, "Expect:");
  qh = curl_slist_append(qh, "Content-Type: application/x-www-form-urlencoded");
  qh = curl_slist_append(qh, "Expect:");
  if (opts_.gzip)
    wh = curl_slist_append(wh, "Content-Encoding: gzip");
  if (opts_.api == api_version::v2 && !opts_.token.empty()) {
    std::string h = "Authorization: Token " + opts_.token;
    wh = curl_slist_append(wh, h.c_str());
    qh = curl_slist_append(qh, h.c_str());
  }

  global_init();
  CURL* c = impl_->curl = curl_easy_init();
  if (!c)
    fail("curl_easy_init failed");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, impl_->errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &impl::on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, impl_.get());
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &impl::on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, impl_.get());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(opts_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opts_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "wattline-influxdb/0.1");
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, opts_.insecure_skip_verify ? 0L : 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, opts_.insecure_skip_verify ? 0L : 2L);
  if (!opts_.ca_file.empty())
    curl_easy_setopt(c, CURLOPT_CAINFO, opts_.ca_file.c_str());
  if (opts_.api == api_version::v1 && opts_.v1_auth == v1_auth_mode::basic &&
      !opts_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(c, CURLOPT_USERNAME, opts_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, opts_.password.c_str());
  }
}

writer::~writer() = default;

std::string writer::redact(std::string text) const {
  for (const auto& secret : impl_->secrets) {
    if (secret.empty())
      continue;
    for (size_t p = text.find(secret); p != std::string::npos; p = text.find(secret, p + 3))
      text.replace(p, secret.size(), "***");
  }
  return text;
}

encoder_options writer::matching_encoder_options() const {
  encoder_options e;
  e.time_precision = opts_.time_precision;
  e.uints = opts_.api == api_version::v2 ? uint_encoding::unsigned_suffix
                                         : uint_encoding::integer_clamped;
  return e;
}

int writer::query(std::string_view statement, std::string& body) {
  std::string form = "q=" + url_escape(statement);
  auto r = impl_->perform(impl_->query_url, impl_->query_headers, form);
  body = impl_->response;
  if (r.code != CURLE_OK)
    body = redact(r.error);
  return r.code == CURLE_OK ? static_cast<int>(r.status) : 0;
}

namespace {

enum class verdict {
  stored,    // 2xx
  content,   // the data is at fault: attribute / isolate
  too_large, // 413
  transient, // retry later
  fatal,     // retrying cannot help
};

bool is_tls_config_error(CURLcode c) {
  return c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CACERT_BADFILE ||
         c == CURLE_SSL_CERTPROBLEM || c == CURLE_UNSUPPORTED_PROTOCOL ||
         c == CURLE_URL_MALFORMAT || c == CURLE_SSL_CIPHER;
}

} // namespace

write_outcome writer::write(line_batch& batch) {
  write_outcome out;
  if (batch.empty())
    return out;

  const std::string prefix = "influxdb sink \"" + opts_.name + "\" (" + display_url_ + "): ";
  std::string raw_message;  // server text of the last response, as received
  std::string last_message; // the same, credentials redacted

  // One request; fills `last_message` and classifies the response.
  auto post = [&](const line_batch& b, http_result& r) -> verdict {
    ++out.requests;
    std::string_view body = b.payload();
    if (opts_.gzip) {
      if (!impl_->compress(body, opts_.gzip_level)) {
        raw_message = last_message = "gzip compression failed";
        return verdict::fatal;
      }
      body = impl_->gz;
    }
    r = impl_->perform(impl_->write_url, impl_->write_headers, body);
    out.http_status = r.code == CURLE_OK ? static_cast<int>(r.status) : 0;
    if (r.code != CURLE_OK) {
      raw_message = r.error;
      last_message = redact(r.error);
      return is_tls_config_error(r.code) ? verdict::fatal : verdict::transient;
    }
    if (r.status >= 200 && r.status < 300)
      return verdict::stored;
    raw_message = extract_error_message(impl_->response);
    if (raw_message.empty())
      raw_message = impl_->influx_error_header;
    last_message = redact(raw_message);
    if (r.status == 413)
      return verdict::too_large;
    if (r.status == 429 || r.status == 408)
      return verdict::transient;
    if (r.status == 401 || r.status == 403)
      return verdict::fatal;
    if (r.status >= 400 && is_content_error(raw_message))
      return verdict::content;
    if (r.status >= 500)
      return verdict::transient;
    return verdict::fatal;
  };
  auto describe = [&](const http_result& r) {
    if (r.code != CURLE_OK)
      return prefix + "request failed: " + last_message;
    std::string m = prefix + "HTTP " + std::to_string(r.status);
    if (r.status == 401 || r.status == 403)
      m += " (authentication failed: check username/password or token)";
    else if (r.status == 404)
      m += " (database, bucket or organisation not found)";
    if (!last_message.empty())
      m += ": " + last_message;
    return m;
  };
  auto reason = [&](const http_result& r, std::string_view why) {
    return "HTTP " + std::to_string(r.status) + ": " + std::string{why};
  };

  http_result r;
  verdict v = post(batch, r);
  switch (v) {
  case verdict::stored:
    out.status = write_status::ok;
    out.written = batch.size();
    batch.clear();
    return out;
  case verdict::too_large:
    out.message = describe(r);
    if (batch.size() > 1) {
      out.status = write_status::split;
      return out;
    }
    out.status = write_status::partial;
    out.rejected.push_back({std::string{batch.line(0)}, reason(r, "line larger than the server's "
                                                                  "maximum body size")});
    batch.clear();
    return out;
  case verdict::transient: {
    out.message = describe(r);
    out.retry_after = r.retry_after;
    bool counted = r.code == CURLE_OK && r.status >= 500 && r.status != 502 && r.status != 503 &&
                   r.status != 504 && raw_message.find("timeout") == std::string::npos;
    if (counted && ++batch.server_errors >= opts_.max_server_errors) {
      out.status = write_status::permanent;
      out.message += " (giving up on the batch after " + std::to_string(batch.server_errors) +
                     " server errors)";
      for (size_t i = 0; i < batch.size(); ++i)
        out.rejected.push_back(
            {std::string{batch.line(i)},
             reason(r, last_message + " (gave up after " + std::to_string(batch.server_errors) +
                           " server errors)")});
      batch.clear();
      return out;
    }
    out.status = write_status::retry;
    return out;
  }
  case verdict::fatal:
    out.status = write_status::permanent;
    out.message = describe(r);
    return out;
  case verdict::content:
    break;
  }

  // The data is at fault. Work through subsets of the batch: attribute what the server names,
  // re-send the rest when the server refused the whole request, bisect what it does not name.
  const std::string first_message = describe(r);
  struct item {
    std::vector<size_t> lines; // indices into `batch`
    bool answered = false;     // the response in `r`/`last_message` belongs to this item
  };
  std::vector<item> work;
  {
    item all;
    all.lines.resize(batch.size());
    for (size_t i = 0; i < batch.size(); ++i)
      all.lines[i] = i;
    all.answered = true;
    work.push_back(std::move(all));
  }
  size_t extra_requests = 0;
  std::vector<size_t> remaining; // for a retry outcome
  auto reject = [&](size_t idx, std::string why) {
    out.rejected.push_back({std::string{batch.line(idx)}, std::move(why)});
  };
  auto all_timestamped = [&](const std::vector<size_t>& lines) {
    return std::all_of(lines.begin(), lines.end(), [&](size_t i) {
      auto l = scan_line(batch.line(i));
      return l && l->has_timestamp;
    });
  };
  bool stop = false;
  write_status stop_status = write_status::retry;
  while (!work.empty()) {
    item it = std::move(work.back());
    work.pop_back();
    if (stop) {
      remaining.insert(remaining.end(), it.lines.begin(), it.lines.end());
      continue;
    }
    line_batch sub = it.lines.size() == batch.size() ? line_batch{} : batch.select(it.lines);
    const line_batch& req = it.lines.size() == batch.size() ? batch : sub;
    if (!it.answered) {
      ++extra_requests;
      v = post(req, r);
    } else {
      v = verdict::content;
    }
    if (v == verdict::stored) {
      out.written += it.lines.size();
      continue;
    }
    if (v == verdict::too_large) {
      if (it.lines.size() == 1) {
        reject(it.lines[0], reason(r, "line larger than the server's maximum body size"));
        continue;
      }
      size_t half = (it.lines.size() + 1) / 2;
      work.push_back({{it.lines.begin() + static_cast<ptrdiff_t>(half), it.lines.end()}, false});
      work.push_back({{it.lines.begin(), it.lines.begin() + static_cast<ptrdiff_t>(half)}, false});
      continue;
    }
    if (v == verdict::transient || v == verdict::fatal) {
      stop = true;
      stop_status = v == verdict::transient ? write_status::retry : write_status::permanent;
      out.message = describe(r);
      out.retry_after = r.retry_after;
      remaining.insert(remaining.end(), it.lines.begin(), it.lines.end());
      continue;
    }

    // Content error for the lines of `it`.
    const attribution a = attribute_error(raw_message, req);
    const bool budget = extra_requests < opts_.max_isolation_requests;
    std::vector<bool> named(it.lines.size(), false);
    for (const auto& [i, why] : a.unparsable) {
      named[i] = true;
      reject(it.lines[i], reason(r, redact(why)));
    }
    std::vector<size_t> rest; // lines not named as unparsable
    for (size_t i = 0; i < it.lines.size(); ++i)
      if (!named[i])
        rest.push_back(i);

    if (a.partial) {
      // The server stored every line it did not drop. Dropped lines are identified exactly when
      // the conflict description matches `dropped=N` lines (or nothing was dropped).
      std::vector<size_t> conflicting;
      for (size_t i : a.conflicting)
        if (!named[i])
          conflicting.push_back(i);
      uint64_t dropped = a.dropped.value_or(conflicting.size());
      if (conflicting.size() == dropped) {
        for (size_t i : conflicting)
          reject(it.lines[i], reason(r, last_message));
        out.written += rest.size() - conflicting.size();
        continue;
      }
      std::vector<size_t> cand;
      for (size_t i : rest)
        cand.push_back(it.lines[i]);
      if (dropped >= cand.size()) { // every remaining line was dropped
        for (size_t i : cand)
          reject(i, reason(r, last_message));
        continue;
      }
      // Re-sending stored lines is idempotent only when they carry timestamps.
      if (!budget || !all_timestamped(cand)) {
        for (size_t i : cand)
          reject(i, reason(r, last_message + " (the rejected lines could not be isolated; some "
                                             "of these lines may have been stored)"));
        continue;
      }
      size_t half = (cand.size() + 1) / 2;
      work.push_back({{cand.begin() + static_cast<ptrdiff_t>(half), cand.end()}, false});
      work.push_back({{cand.begin(), cand.begin() + static_cast<ptrdiff_t>(half)}, false});
      continue;
    }

    // The whole request was refused (nothing stored).
    std::vector<size_t> cand;
    for (size_t i : rest) {
      bool conflicting =
          std::find(a.conflicting.begin(), a.conflicting.end(), i) != a.conflicting.end();
      if (conflicting)
        reject(it.lines[i], reason(r, last_message));
      else
        cand.push_back(it.lines[i]);
    }
    if (cand.empty())
      continue;
    if (cand.size() < it.lines.size()) { // something was named: send the others again
      work.push_back({std::move(cand), false});
      continue;
    }
    if (cand.size() == 1) {
      reject(cand[0], reason(r, last_message));
      continue;
    }
    if (!budget) {
      for (size_t i : cand)
        reject(i, reason(r, last_message + " (the rejected lines could not be isolated)"));
      continue;
    }
    size_t half = (cand.size() + 1) / 2;
    work.push_back({{cand.begin() + static_cast<ptrdiff_t>(half), cand.end()}, false});
    work.push_back({{cand.begin(), cand.begin() + static_cast<ptrdiff_t>(half)}, false});
  }

  if (stop) {
    std::sort(remaining.begin(), remaining.end());
    uint32_t errors = batch.server_errors;
    line_batch rest = batch.select(remaining);
    rest.server_errors = errors;
    batch = std::move(rest);
    out.status = stop_status;
    // An unrecognised server error during isolation counts like one on the first request, so a
    // batch cannot cycle between content errors and server errors forever.
    bool counted = out.http_status >= 500 && out.http_status != 502 && out.http_status != 503 &&
                   out.http_status != 504 && raw_message.find("timeout") == std::string::npos;
    if (stop_status == write_status::retry && counted &&
        ++batch.server_errors >= opts_.max_server_errors) {
      out.status = write_status::permanent;
      for (size_t i = 0; i < batch.size(); ++i)
        out.rejected.push_back({std::string{batch.line(i)},
                                "HTTP " + std::to_string(out.http_status) + ": " + last_message +
                                    " (gave up after " + std::to_string(batch.server_errors) +
                                    " server errors)"});
      batch.clear();
    }
    if (out.status == write_status::retry && out.message.empty())
      out.message = first_message;
    return out;
  }
  batch.clear();
  out.status = out.rejected.empty() ? write_status::ok : write_status::partial;
  out.message = first_message;
  return out;
}

write_outcome writer::setup() {
  write_outcome out;
  if (opts_.api != api_version::v1)
    return out;
  const std::string prefix = "influxdb sink \"" + opts_.name + "\" (" + display_url_ + "): ";
  auto quote_ident = [](std::string_view id) {
    std::string q = "\"";
    for (char c : id) {
      if (c == '"' || c == '\\')
        q.push_back('\\');
      q.push_back(c);
    }
    q.push_back('"');
    return q;
  };
  // Runs a statement; returns the statement error text ("" when fine) or sets `out` on failure.
  auto run = [&](const std::string& stmt, std::string& stmt_error) -> bool {
    std::string body;
    ++out.requests;
    int status = query(stmt, body);
    out.http_status = status;
    if (status == 0) {
      out.status = write_status::retry;
      out.message = prefix + "request failed: " + body;
      return false;
    }
    if (status < 200 || status >= 300) {
      out.status = status >= 500 ? write_status::retry : write_status::permanent;
      out.message = prefix + "HTTP " + std::to_string(status);
      if (status == 401 || status == 403)
        out.message += " (authentication failed: check username/password)";
      out.message += ": " + redact(extract_error_message(body));
      return false;
    }
    stmt_error.clear();
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_object() && json.contains("results") && json["results"].is_array())
      for (const auto& res : json["results"])
        if (res.is_object() && res.contains("error") && res["error"].is_string())
          stmt_error = res["error"].get<std::string>();
    return true;
  };
  std::string err;
  if (opts_.create_database) {
    if (!run("CREATE DATABASE " + quote_ident(opts_.database), err))
      return out;
    if (!err.empty()) {
      out.status = write_status::permanent;
      out.message = prefix + "CREATE DATABASE failed: " + redact(err);
      return out;
    }
  }
  if (!opts_.retention_duration.empty() && !opts_.retention_policy.empty()) {
    std::string spec = " ON " + quote_ident(opts_.database) + " DURATION " +
                       opts_.retention_duration + " REPLICATION " +
                       std::to_string(opts_.retention_replication) +
                       (opts_.retention_default ? " DEFAULT" : "");
    if (!run("CREATE RETENTION POLICY " + quote_ident(opts_.retention_policy) + spec, err))
      return out;
    if (err.find("already exists") != std::string::npos) {
      if (!run("ALTER RETENTION POLICY " + quote_ident(opts_.retention_policy) + spec, err))
        return out;
    }
    if (!err.empty()) {
      out.status = write_status::permanent;
      out.message = prefix + "retention policy setup failed: " + redact(err);
      return out;
    }
  }
  return out;
}

} // namespace wattline::influxdb
