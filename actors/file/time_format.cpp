#include "actors/file/time_format.hpp"

#include <chrono>
#include <cstdio>
#include <limits>

namespace wattline::file_io {

namespace {

constexpr int64_t ns_per_sec = 1'000'000'000;

struct civil {
  int year;
  unsigned month, day, hour, minute, second;
  int64_t nanos; // [0, 1e9)
};

civil split(int64_t time_ns) {
  // Floor division so that negative times give a positive fraction.
  int64_t secs = time_ns / ns_per_sec;
  int64_t nanos = time_ns % ns_per_sec;
  if (nanos < 0) {
    nanos += ns_per_sec;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  using namespace std::chrono;
  year_month_day ymd{sys_days{std::chrono::days{days}}};
  return civil{static_cast<int>(ymd.year()),
               static_cast<unsigned>(ymd.month()),
               static_cast<unsigned>(ymd.day()),
               static_cast<unsigned>(sod / 3600),
               static_cast<unsigned>(sod / 60 % 60),
               static_cast<unsigned>(sod % 60),
               nanos};
}

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size())
    return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

} // namespace

std::string format_rfc3339(int64_t time_ns) {
  auto c = split(time_ns);
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02u:%02u:%02u", c.year, c.month, c.day,
                        c.hour, c.minute, c.second);
  std::string out(buf, static_cast<size_t>(n));
  if (c.nanos != 0) {
    char frac[16];
    std::snprintf(frac, sizeof(frac), "%09lld", static_cast<long long>(c.nanos));
    size_t len = 9;
    if (c.nanos % 1'000'000 == 0)
      len = 3;
    else if (c.nanos % 1'000 == 0)
      len = 6;
    out += '.';
    out.append(frac, len);
  }
  out += 'Z';
  return out;
}

std::optional<int64_t> parse_rfc3339(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (!digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
      !digits(s, 17, 2, sec))
    return std::nullopt;
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100'000'000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start)
      return std::nullopt;
  }
  int64_t offset_secs = 0;
  if (pos >= s.size())
    return std::nullopt;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_secs = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size())
    return std::nullopt;
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  // Seconds 60 (leap second) is accepted and folds into the next minute, as POSIX time does.
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60)
    return std::nullopt;
  int64_t days = sys_days{ymd}.time_since_epoch().count();
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_secs;
  // Range check in 128 bits: secs * 1e9 + nanos must fit int64.
  __int128 total = static_cast<__int128>(secs) * ns_per_sec + nanos;
  if (total > std::numeric_limits<int64_t>::max() || total < std::numeric_limits<int64_t>::min())
    return std::nullopt;
  return static_cast<int64_t>(total);
}

std::string format_file_stamp(int64_t time_ns) {
  auto c = split(time_ns);
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%04d%02u%02uT%02u%02u%02u.%09lldZ", c.year, c.month,
                        c.day, c.hour, c.minute, c.second, static_cast<long long>(c.nanos));
  return std::string(buf, static_cast<size_t>(n));
}

bool is_file_stamp(std::string_view s) {
  // YYYYMMDDTHHMMSS.nnnnnnnnnZ
  if (s.size() != 26 || s[8] != 'T' || s[15] != '.' || s[25] != 'Z')
    return false;
  for (size_t i = 0; i < 25; ++i) {
    if (i == 8 || i == 15)
      continue;
    if (s[i] < '0' || s[i] > '9')
      return false;
  }
  return true;
}

} // namespace wattline::file_io
