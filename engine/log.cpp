#include "engine/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>

namespace wattline::log {

namespace {

std::atomic<int> min_level{static_cast<int>(log_level::info)};
std::mutex out_mutex;

struct limiter_entry {
  std::chrono::steady_clock::time_point window_start;
  int count = 0;
  uint64_t suppressed = 0;
};
std::mutex limiter_mutex;
std::map<std::string, limiter_entry, std::less<>> limiter;

constexpr int burst = 5;
constexpr auto window = std::chrono::seconds(10);

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  return buf;
}

} // namespace

bool set_level(std::string_view name) {
  static const std::pair<std::string_view, log_level> names[] = {
      {"trace", log_level::trace},     {"debug", log_level::debug},  {"info", log_level::info},
      {"warning", log_level::warning}, {"warn", log_level::warning}, {"error", log_level::error}};
  for (auto& [n, l] : names)
    if (n == name) {
      set_level(l);
      return true;
    }
  return false;
}

void set_level(log_level l) {
  min_level = static_cast<int>(l);
}

log_level level() {
  return static_cast<log_level>(min_level.load());
}

bool enabled(log_level l) {
  return static_cast<int>(l) >= min_level.load();
}

const char* to_string(log_level l) {
  switch (l) {
  case log_level::trace:
    return "trace";
  case log_level::debug:
    return "debug";
  case log_level::info:
    return "info";
  case log_level::warning:
    return "warning";
  case log_level::error:
    return "error";
  }
  return "info";
}

void write(log_level l, std::string_view scope, std::string_view message) {
  if (!enabled(l))
    return;
  std::string line = timestamp();
  line += ' ';
  line += to_string(l);
  line += " [";
  line += scope;
  line += "] ";
  line += message;
  line += '\n';
  std::lock_guard guard{out_mutex};
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void write_limited(log_level l, std::string_view scope, std::string_view key,
                   std::string_view message) {
  if (!enabled(l))
    return;
  uint64_t suppressed = 0;
  {
    std::string k{scope};
    k += '\x1f';
    k += key;
    std::lock_guard guard{limiter_mutex};
    auto now = std::chrono::steady_clock::now();
    auto& e = limiter[k];
    if (now - e.window_start >= window) {
      suppressed = e.suppressed;
      e = limiter_entry{now, 0, 0};
    }
    if (++e.count > burst) {
      ++e.suppressed;
      return;
    }
  }
  if (suppressed > 0)
    write(l, scope, "(" + std::to_string(suppressed) + " similar messages suppressed)");
  write(l, scope, message);
}

} // namespace wattline::log
