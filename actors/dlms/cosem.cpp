#include "actors/dlms/cosem.hpp"

#include <charconv>
#include <chrono>
#include <cstring>
#include <limits>

#include <date/date.h>
#include <date/tz.h>

namespace wattline::dlms {

namespace {

void append_uint(std::string& s, unsigned v) {
  char buf[4];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  s.append(buf, end);
}

bool parse_uint8(std::string_view s, uint8_t& out) {
  unsigned v = 0;
  if (s.empty())
    return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size() || v > 255)
    return false;
  out = static_cast<uint8_t>(v);
  return true;
}

} // namespace

namespace {

/// Decimal text of 0-255, padded to 3 characters, and its length.
struct decimal3 {
  std::array<char, 3> text{};
  uint8_t length = 0;
};

constexpr std::array<decimal3, 256> make_decimal3() {
  std::array<decimal3, 256> t{};
  for (unsigned v = 0; v < 256; ++v) {
    auto& d = t[v];
    if (v >= 100)
      d.text[d.length++] = static_cast<char>('0' + v / 100);
    if (v >= 10)
      d.text[d.length++] = static_cast<char>('0' + v / 10 % 10);
    d.text[d.length++] = static_cast<char>('0' + v % 10);
  }
  return t;
}

constexpr auto decimal3_table = make_decimal3();

/// Writes the decimal text of `v` at `p` (3 bytes stored, the padding overwritten later) and
/// returns the end of the text.
char* put_uint8(char* p, uint8_t v) noexcept {
  const auto& d = decimal3_table[v];
  std::memcpy(p, d.text.data(), 3);
  return p + d.length;
}

} // namespace

size_t obis_code::format(std::span<char, obis_text_capacity> out) const noexcept {
  char* p = out.data();
  p = put_uint8(p, a);
  *p++ = '-';
  p = put_uint8(p, b);
  *p++ = ':';
  p = put_uint8(p, c);
  *p++ = '.';
  p = put_uint8(p, d);
  *p++ = '.';
  p = put_uint8(p, e);
  *p++ = '*';
  p = put_uint8(p, f);
  return static_cast<size_t>(p - out.data());
}

std::string obis_code::to_string() const {
  std::array<char, obis_text_capacity> buf;
  return std::string(buf.data(), format(buf));
}

std::string obis_code::short_string() const {
  std::string s;
  append_uint(s, c);
  s.push_back('.');
  append_uint(s, d);
  s.push_back('.');
  append_uint(s, e);
  return s;
}

std::optional<obis_code> obis_code::parse(std::string_view text) {
  // Split on any of - : . * and remember the separators to tell the forms apart.
  std::vector<std::string_view> parts;
  std::string seps;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '-' || text[i] == ':' || text[i] == '.' || text[i] == '*') {
      parts.push_back(text.substr(start, i - start));
      if (i < text.size())
        seps.push_back(text[i]);
      start = i + 1;
    }
  }
  uint8_t v[6] = {1, 0, 0, 0, 0, 255};
  if (parts.size() == 3 && seps == "..") {
    for (int k = 0; k < 3; ++k)
      if (!parse_uint8(parts[static_cast<size_t>(k)], v[2 + k]))
        return std::nullopt;
  } else if ((parts.size() == 5 && seps == "-:..") || (parts.size() == 6 && seps == "-:..*") ||
             (parts.size() == 6 && seps == ".....")) {
    for (size_t k = 0; k < parts.size(); ++k)
      if (!parse_uint8(parts[k], v[k]))
        return std::nullopt;
  } else {
    return std::nullopt;
  }
  return obis_code{v[0], v[1], v[2], v[3], v[4], v[5]};
}

std::array<uint8_t, 12> encode_datetime(const cosem_datetime& dt) noexcept {
  const auto dev = static_cast<uint16_t>(dt.deviation);
  return {static_cast<uint8_t>(dt.year >> 8),
          static_cast<uint8_t>(dt.year & 0xFF),
          dt.month,
          dt.day,
          dt.weekday,
          dt.hour,
          dt.minute,
          dt.second,
          dt.hundredths,
          static_cast<uint8_t>(dev >> 8),
          static_cast<uint8_t>(dev & 0xFF),
          dt.status};
}

namespace {

/// Wall time of a date-time as a duration since the local epoch; nullopt when not convertible.
std::optional<std::chrono::nanoseconds> wall_time_ns(const cosem_datetime& dt,
                                                     day_cache* days = nullptr) noexcept {
  using namespace std::chrono;
  if (dt.year == 0xFFFF || dt.year < 1970 || dt.year > 2200 || dt.month < 1 || dt.month > 12 ||
      dt.day < 1 || dt.day > 31 || dt.hour > 23 || dt.minute > 59 || dt.second > 59)
    return std::nullopt;
  if (dt.hundredths != 0xFF && dt.hundredths > 99)
    return std::nullopt;
  const uint32_t key = (uint32_t{dt.year} << 16) | (uint32_t{dt.month} << 8) | dt.day;
  int64_t day;
  if (days != nullptr && days->key == key) {
    day = days->day;
  } else {
    const date::year_month_day ymd{date::year{dt.year}, date::month{dt.month}, date::day{dt.day}};
    if (!ymd.ok())
      return std::nullopt;
    day = date::sys_days{ymd}.time_since_epoch().count();
    if (days != nullptr) {
      days->key = key;
      days->day = day;
    }
  }
  const auto wall = date::days{day} + hours{dt.hour} + minutes{dt.minute} + seconds{dt.second} +
                    milliseconds{dt.hundredths == 0xFF ? 0 : dt.hundredths * 10};
  return duration_cast<nanoseconds>(wall);
}

/// UTC of a wall time with a specified deviation.
std::optional<int64_t> with_deviation(const cosem_datetime& dt, std::chrono::nanoseconds wall_ns) {
  using namespace std::chrono;
  if (dt.deviation < -900 || dt.deviation > 900)
    return std::nullopt;
  return (wall_ns + duration_cast<nanoseconds>(minutes{dt.deviation})).count();
}

/// UTC of a wall time in `tz` (not null).
std::optional<int64_t> in_zone(const cosem_datetime& dt, std::chrono::nanoseconds wall_ns,
                               const date::time_zone& tz) noexcept {
  using namespace std::chrono;
  try {
    const date::local_time<nanoseconds> local{wall_ns};
    const auto choose = (dt.status != 0xFF && (dt.status & cosem_datetime::status_dst))
                            ? date::choose::earliest
                            : date::choose::latest;
    return tz.to_sys(local, choose).time_since_epoch().count();
  } catch (...) {
    return std::nullopt;
  }
}

/// Fills `cache` with the stretch of unambiguous local time around `local` in `tz`, or empties it
/// when `local` is ambiguous or nonexistent.
void fill_zone_cache(zone_offset_cache& cache, const date::time_zone& tz,
                     date::local_seconds local) noexcept {
  using namespace std::chrono;
  cache.zone = nullptr;
  try {
    const auto li = tz.get_info(local);
    if (li.result != date::local_info::unique)
      return;
    const auto& period = li.first;
    // Local times near the period's edges may also map into a neighbouring period (DST end) or
    // fall into a gap (DST start): keep only the stretch that belongs to this period alone.
    seconds before = period.offset;
    seconds after = period.offset;
    if (period.begin > date::sys_seconds::min() + seconds{1})
      before = std::max(before, tz.get_info(period.begin - seconds{1}).offset);
    if (period.end < date::sys_seconds::max())
      after = std::min(after, tz.get_info(period.end).offset);
    const auto begin = period.begin > date::sys_seconds::min() + hours{24}
                           ? (period.begin.time_since_epoch() + before).count()
                           : std::numeric_limits<int64_t>::min();
    const auto end = period.end < date::sys_seconds::max() - hours{24}
                         ? (period.end.time_since_epoch() + after).count()
                         : std::numeric_limits<int64_t>::max();
    if (begin >= end)
      return;
    cache.local_begin_s = begin;
    cache.local_end_s = end;
    cache.offset_s = period.offset.count();
    cache.zone = &tz;
  } catch (...) {
    cache.zone = nullptr;
  }
}

} // namespace

bool utc_convertible(const cosem_datetime& dt) noexcept {
  // The checks of `wall_time_ns` and `with_deviation`.
  if (dt.year == 0xFFFF || dt.year < 1970 || dt.year > 2200 || dt.month < 1 || dt.month > 12 ||
      dt.day < 1 || dt.day > 31 || dt.hour > 23 || dt.minute > 59 || dt.second > 59)
    return false;
  if (dt.hundredths != 0xFF && dt.hundredths > 99)
    return false;
  static constexpr uint8_t month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (dt.year % 4 == 0 && dt.year % 100 != 0) || dt.year % 400 == 0;
  if (dt.day > month_days[dt.month - 1] + (dt.month == 2 && leap ? 1 : 0))
    return false;
  return !dt.deviation_specified() || (dt.deviation >= -900 && dt.deviation <= 900);
}

std::optional<int64_t> to_utc_ns(const cosem_datetime& dt, const date::time_zone* tz) noexcept {
  const auto wall_ns = wall_time_ns(dt);
  if (!wall_ns)
    return std::nullopt;
  if (dt.deviation_specified())
    return with_deviation(dt, *wall_ns);
  if (tz == nullptr)
    return wall_ns->count();
  return in_zone(dt, *wall_ns, *tz);
}

std::optional<int64_t> to_utc_ns(const cosem_datetime& dt, const date::time_zone* tz,
                                 zone_offset_cache& cache) noexcept {
  using namespace std::chrono;
  const auto wall_ns = wall_time_ns(dt, &cache.days);
  if (!wall_ns)
    return std::nullopt;
  if (dt.deviation_specified())
    return with_deviation(dt, *wall_ns);
  if (tz == nullptr)
    return wall_ns->count();
  const auto local_s = floor<seconds>(*wall_ns);
  if (cache.zone != tz || local_s.count() < cache.local_begin_s ||
      local_s.count() >= cache.local_end_s) {
    const auto t = in_zone(dt, *wall_ns, *tz);
    if (t)
      fill_zone_cache(cache, *tz, date::local_seconds{local_s});
    return t;
  }
  return (*wall_ns - duration_cast<nanoseconds>(seconds{cache.offset_s})).count();
}

apdu_status parse_data_notification(std::span<const uint8_t> apdu,
                                    data_notification& out) noexcept {
  if (apdu.empty() || apdu[0] != apdu_data_notification)
    return apdu_status::malformed;
  if (apdu.size() < 6)
    return apdu_status::truncated;
  out.invoke_id = (static_cast<uint32_t>(apdu[1]) << 24) | (static_cast<uint32_t>(apdu[2]) << 16) |
                  (static_cast<uint32_t>(apdu[3]) << 8) | apdu[4];
  out.time.reset();
  size_t pos = 5;
  const uint8_t first = apdu[pos];
  if (first == 0x00) {
    pos += 1;
  } else if (first == 0x0C || first == 0x19) {
    if (apdu.size() < pos + 13)
      return apdu_status::truncated;
    read_datetime(apdu.data() + pos + 1, out.time.emplace());
    pos += 13;
  } else if (first == 0x09) {
    if (apdu.size() < pos + 2)
      return apdu_status::truncated;
    const size_t n = apdu[pos + 1];
    if (n >= 0x80)
      return apdu_status::malformed;
    if (apdu.size() < pos + 2 + n)
      return apdu_status::truncated;
    if (n == 12)
      read_datetime(apdu.data() + pos + 2, out.time.emplace());
    pos += 2 + n;
  } else {
    return apdu_status::malformed;
  }
  out.body_offset = pos;
  return pos < apdu.size() ? apdu_status::ok : apdu_status::truncated;
}

apdu_status parse_gbt(std::span<const uint8_t> apdu, gbt_block& out) noexcept {
  if (apdu.empty() || apdu[0] != apdu_general_block_transfer)
    return apdu_status::malformed;
  if (apdu.size() < 7)
    return apdu_status::truncated;
  out.last = (apdu[1] & 0x80U) != 0;
  out.streaming = (apdu[1] & 0x40U) != 0;
  out.window = apdu[1] & 0x3FU;
  out.number = static_cast<uint16_t>((apdu[2] << 8) | apdu[3]);
  out.ack = static_cast<uint16_t>((apdu[4] << 8) | apdu[5]);
  size_t pos = 6;
  size_t n = 0;
  switch (read_ber_length(apdu, pos, n)) {
  case axdr_status::ok:
    break;
  case axdr_status::truncated:
    return apdu_status::truncated;
  default:
    return apdu_status::malformed;
  }
  if (n > apdu.size() - pos)
    return apdu_status::truncated;
  out.data = apdu.subspan(pos, n);
  out.size = pos + n;
  return apdu_status::ok;
}

apdu_status parse_ciphered(std::span<const uint8_t> apdu, ciphered_apdu& out) noexcept {
  if (apdu.empty() ||
      (apdu[0] != apdu_general_glo_ciphering && apdu[0] != apdu_general_ded_ciphering))
    return apdu_status::malformed;
  out.tag = apdu[0];
  size_t pos = 1;
  size_t st_len = 0;
  switch (read_ber_length(apdu, pos, st_len)) {
  case axdr_status::ok:
    break;
  case axdr_status::truncated:
    return apdu_status::truncated;
  default:
    return apdu_status::malformed;
  }
  if (st_len != 8)
    return apdu_status::malformed;
  if (apdu.size() < pos + 8)
    return apdu_status::truncated;
  std::memcpy(out.system_title.data(), apdu.data() + pos, 8);
  pos += 8;
  size_t len = 0;
  switch (read_ber_length(apdu, pos, len)) {
  case axdr_status::ok:
    break;
  case axdr_status::truncated:
    return apdu_status::truncated;
  default:
    return apdu_status::malformed;
  }
  if (len < 5)
    return apdu_status::malformed;
  if (len > apdu.size() - pos)
    return apdu_status::truncated;
  out.security_control = apdu[pos];
  out.invocation_counter = (static_cast<uint32_t>(apdu[pos + 1]) << 24) |
                           (static_cast<uint32_t>(apdu[pos + 2]) << 16) |
                           (static_cast<uint32_t>(apdu[pos + 3]) << 8) | apdu[pos + 4];
  const size_t tag_len = (out.security_control & 0x10U) ? 12 : 0;
  if (len < 5 + tag_len)
    return apdu_status::malformed;
  out.payload = apdu.subspan(pos + 5, len - 5 - tag_len);
  out.auth_tag = apdu.subspan(pos + len - tag_len, tag_len);
  out.size = pos + len;
  return apdu_status::ok;
}

bool has_llc(std::span<const uint8_t> b) noexcept {
  return b.size() >= 3 && b[0] == 0xE6 && (b[1] == 0xE7 || b[1] == 0xE6) && b[2] == 0x00;
}

apdu_status apdu_extent(std::span<const uint8_t> buf, size_t max_size, size_t& size,
                        std::vector<data_node>& scratch) {
  size_t skip = 0;
  if (!buf.empty() && buf[0] == 0xE6) {
    if (buf.size() < 3)
      return apdu_status::truncated;
    if (!has_llc(buf))
      return apdu_status::malformed;
    skip = 3;
  }
  const auto apdu = buf.subspan(skip, std::min(buf.size() - skip, max_size));
  if (apdu.empty())
    return apdu_status::truncated;
  apdu_status st = apdu_status::malformed;
  size_t n = 0;
  switch (apdu[0]) {
  case apdu_data_notification: {
    data_notification dn;
    st = parse_data_notification(apdu, dn);
    if (st != apdu_status::ok)
      break;
    scratch.clear();
    size_t pos = dn.body_offset;
    switch (parse_axdr(apdu, pos, scratch)) {
    case axdr_status::ok:
      n = pos;
      st = apdu_status::ok;
      break;
    case axdr_status::truncated:
      st = apdu_status::truncated;
      break;
    default:
      st = apdu_status::malformed;
      break;
    }
    break;
  }
  case apdu_general_block_transfer: {
    gbt_block b;
    st = parse_gbt(apdu, b);
    n = b.size;
    break;
  }
  case apdu_general_glo_ciphering:
  case apdu_general_ded_ciphering: {
    ciphered_apdu c;
    st = parse_ciphered(apdu, c);
    n = c.size;
    break;
  }
  default:
    return apdu_status::malformed;
  }
  // An APDU that still needs bytes although `max_size` are available is too large.
  if (st == apdu_status::truncated && buf.size() - skip >= max_size)
    return apdu_status::malformed;
  if (st == apdu_status::ok)
    size = skip + n;
  return st;
}

} // namespace wattline::dlms
