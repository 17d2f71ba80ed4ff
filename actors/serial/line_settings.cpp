#include "actors/serial/line_settings.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace wattline::serial {

namespace {

constexpr std::array<profile, 8> profile_table{{
    {"lge360", {9600, 8, parity::none, 1}, "Landis+Gyr E360, P1 port (DLMS push)"},
    {"lge450", {2400, 8, parity::even, 1}, "Landis+Gyr E450, CII wired M-Bus (DLMS push)"},
    {"lge570", {2400, 8, parity::even, 1}, "Landis+Gyr E570, CII wired M-Bus (DLMS push)"},
    {"iskraam550", {115200, 8, parity::none, 1}, "Iskra AM550, P1 port (DLMS push)"},
    {"kamstrup_han",
     {2400, 8, parity::none, 1},
     "Kamstrup OMNIPOWER with HAN-NVE module, wired M-Bus (DLMS push)"},
    {"generic_mbus",
     {2400, 8, parity::even, 1},
     "any DLMS push meter behind a wired M-Bus slave converter (EN 13757-2 default 2400 8E1)"},
    {"generic_p1",
     {115200, 8, parity::none, 1},
     "any DLMS/DSMR push meter on a P1 port (115200 8N1)"},
    {"generic",
     {2400, 8, parity::even, 1},
     "unknown meter: 2400 8E1 like most wired M-Bus meters; override the line settings as needed"},
}};

// Every rate with a termios constant (B50 ... B4000000) on Linux.
constexpr std::array<uint32_t, 30> baud_table{
    50,     75,     110,     134,     150,     200,     300,     600,     1200,    1800,
    2400,   4800,   9600,    19200,   38400,   57600,   115200,  230400,  460800,  500000,
    576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000};

constexpr std::array<int, 4> data_bits_table{5, 6, 7, 8};
constexpr std::array<std::string_view, 3> parity_table{"none", "even", "odd"};
constexpr std::array<int, 2> stop_bits_table{1, 2};

std::vector<std::string> hint_list(std::span<const int> values) {
  std::vector<std::string> out;
  for (int v : values)
    out.push_back(std::to_string(v));
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      out += sep;
    out += items[i];
  }
  return out;
}

std::vector<std::string> baud_hints() {
  std::vector<std::string> out;
  for (auto b : allowed_baud_rates())
    out.push_back(std::to_string(b));
  return out;
}

setting_error baud_error(int64_t value) {
  return {"baud_rate",
          "unsupported baud rate " + std::to_string(value) + ": use a value from " +
              std::to_string(min_baud_rate) + " to " + std::to_string(max_baud_rate) +
              "; smart meters use 2400 (wired M-Bus), 9600 or 115200 (P1)",
          baud_hints()};
}

setting_error data_bits_error(int64_t value) {
  return {"data_bits",
          "unsupported data_bits " + std::to_string(value) + ": expected one of 5, 6, 7, 8",
          hint_list(data_bits_table)};
}

setting_error stop_bits_error(int64_t value) {
  return {"stop_bits", "unsupported stop_bits " + std::to_string(value) + ": expected 1 or 2",
          hint_list(stop_bits_table)};
}

std::vector<std::string> parity_hints() {
  return {std::string(parity_table[0]), std::string(parity_table[1]), std::string(parity_table[2])};
}

} // namespace

std::string_view to_string(parity p) {
  switch (p) {
  case parity::none:
    return "none";
  case parity::even:
    return "even";
  case parity::odd:
    return "odd";
  }
  return "none";
}

std::optional<parity> parse_parity(std::string_view text) {
  std::string lower;
  for (char c : text)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "none" || lower == "n")
    return parity::none;
  if (lower == "even" || lower == "e")
    return parity::even;
  if (lower == "odd" || lower == "o")
    return parity::odd;
  return std::nullopt;
}

std::string to_string(const line_settings& s) {
  char p = s.parity == parity::none ? 'N' : s.parity == parity::even ? 'E' : 'O';
  return std::to_string(s.baud_rate) + " " + std::to_string(s.data_bits) + p +
         std::to_string(s.stop_bits);
}

std::span<const profile> profiles() {
  return profile_table;
}

const profile* find_profile(std::string_view name) {
  for (const auto& p : profile_table)
    if (p.name == name)
      return &p;
  return nullptr;
}

std::vector<std::string> profile_names() {
  std::vector<std::string> out;
  for (const auto& p : profile_table)
    out.emplace_back(p.name);
  return out;
}

std::span<const uint32_t> allowed_baud_rates() {
  // The rates from 300 up: lower ones exist as constants but no meter uses them.
  return std::span<const uint32_t>(baud_table).subspan(6);
}

bool is_standard_baud_rate(uint32_t baud) {
  return std::find(baud_table.begin(), baud_table.end(), baud) != baud_table.end();
}

std::span<const int> allowed_data_bits() {
  return data_bits_table;
}

std::span<const std::string_view> allowed_parities() {
  return parity_table;
}

std::span<const int> allowed_stop_bits() {
  return stop_bits_table;
}

std::vector<setting_error> validate(const line_settings& s) {
  std::vector<setting_error> errors;
  if (s.baud_rate < min_baud_rate || s.baud_rate > max_baud_rate)
    errors.push_back(baud_error(s.baud_rate));
  if (s.data_bits < 5 || s.data_bits > 8)
    errors.push_back(data_bits_error(s.data_bits));
  if (s.parity != parity::none && s.parity != parity::even && s.parity != parity::odd)
    errors.push_back({"parity", "unsupported parity: expected none, even or odd", parity_hints()});
  if (s.stop_bits != 1 && s.stop_bits != 2)
    errors.push_back(stop_bits_error(s.stop_bits));
  return errors;
}

resolved_settings resolve(std::string_view profile_name, const line_overrides& overrides) {
  resolved_settings out;
  if (profile_name.empty())
    profile_name = "generic";
  const profile* p = find_profile(profile_name);
  if (p == nullptr) {
    out.errors.push_back({"profile",
                          "unknown profile '" + std::string(profile_name) + "': expected one of " +
                              join(profile_names(), ", "),
                          profile_names()});
    out.settings = find_profile("generic")->settings;
  } else {
    out.settings = p->settings;
  }
  if (overrides.baud_rate) {
    int64_t v = *overrides.baud_rate;
    if (v < min_baud_rate || v > max_baud_rate)
      out.errors.push_back(baud_error(v));
    else
      out.settings.baud_rate = static_cast<uint32_t>(v);
  }
  if (overrides.data_bits) {
    int64_t v = *overrides.data_bits;
    if (v < 5 || v > 8)
      out.errors.push_back(data_bits_error(v));
    else
      out.settings.data_bits = static_cast<int>(v);
  }
  if (overrides.parity) {
    if (auto par = parse_parity(*overrides.parity))
      out.settings.parity = *par;
    else
      out.errors.push_back(
          {"parity", "unsupported parity '" + *overrides.parity + "': expected none, even or odd",
           parity_hints()});
  }
  if (overrides.stop_bits) {
    int64_t v = *overrides.stop_bits;
    if (v != 1 && v != 2)
      out.errors.push_back(stop_bits_error(v));
    else
      out.settings.stop_bits = static_cast<int>(v);
  }
  return out;
}

} // namespace wattline::serial
