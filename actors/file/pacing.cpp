#include "actors/file/pacing.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace wattline::file_io {

std::chrono::nanoseconds pacing::delay_for_bytes(uint64_t bytes) const {
  if (kind != mode::byte_rate || bits_per_second <= 0)
    return std::chrono::nanoseconds{0};
  double secs = static_cast<double>(bytes) * bits_per_byte / bits_per_second;
  return std::chrono::nanoseconds{static_cast<int64_t>(std::llround(secs * 1e9))};
}

std::variant<pacing, std::string> parse_pacing(std::string_view text) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
      s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
      s.remove_suffix(1);
    return s;
  };
  std::string_view s = trim(text);
  if (s == "as_fast_as_possible")
    return pacing{};
  if (s == "realtime")
    return pacing{pacing::mode::realtime, 0};
  std::string_view number = s;
  if (s.size() >= 4 && s.substr(s.size() - 4) == "baud")
    number = trim(s.substr(0, s.size() - 4));
  double bps = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), bps);
  if (number.empty() || ec != std::errc{} || end != number.data() + number.size() ||
      !std::isfinite(bps) || bps <= 0)
    return "invalid pacing '" + std::string(text) +
           "': expected as_fast_as_possible, realtime, or a line speed like '2400 baud'";
  return pacing{pacing::mode::byte_rate, bps};
}

std::string progress_bar(double fraction, int width) {
  if (std::isnan(fraction) || fraction < 0)
    fraction = 0;
  if (fraction > 1)
    fraction = 1;
  if (width < 1)
    width = 1;
  auto filled = static_cast<int>(fraction * width);
  std::string out = "\r[";
  for (int i = 0; i < width; ++i) {
    if (i < filled)
      out += '=';
    else if (i == filled && filled < width)
      out += '>';
    else
      out += ' ';
  }
  char pct[16];
  std::snprintf(pct, sizeof(pct), "] %5.1f%%", fraction * 100.0);
  out += pct;
  return out;
}

} // namespace wattline::file_io
