#include "actors/dlms/obis_map.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace wattline::dlms {

namespace {

// smartmeter-datacollector DEFAULT_REGISTER_MAP (C.D.E, identifier, fixed factor), with the units
// corrected: var/varh for reactive quantities (smdc says VA/VAh), degrees for phase angles, and
// the full OBIS code text of channel 1-0. Sorted by C.D.E for binary search. Every text is a
// string literal: records borrow them (`field_text::borrowed`).
constexpr std::array<register_info, 60> map_table{{
    {1, 7, 0, "ACTIVE_POWER_P", "W", 1.0, "1-0:1.7.0*255"},
    {1, 8, 0, "ACTIVE_ENERGY_P", "Wh", 1.0, "1-0:1.8.0*255"},
    {1, 8, 1, "ACTIVE_ENERGY_P_T1", "Wh", 1.0, "1-0:1.8.1*255"},
    {1, 8, 2, "ACTIVE_ENERGY_P_T2", "Wh", 1.0, "1-0:1.8.2*255"},
    {2, 7, 0, "ACTIVE_POWER_N", "W", 1.0, "1-0:2.7.0*255"},
    {2, 8, 0, "ACTIVE_ENERGY_N", "Wh", 1.0, "1-0:2.8.0*255"},
    {2, 8, 1, "ACTIVE_ENERGY_N_T1", "Wh", 1.0, "1-0:2.8.1*255"},
    {2, 8, 2, "ACTIVE_ENERGY_N_T2", "Wh", 1.0, "1-0:2.8.2*255"},
    {3, 7, 0, "REACTIVE_POWER_P", "var", 1.0, "1-0:3.7.0*255"},
    {3, 8, 0, "REACTIVE_ENERGY_P", "varh", 1.0, "1-0:3.8.0*255"},
    {3, 8, 1, "REACTIVE_ENERGY_P_T1", "varh", 1.0, "1-0:3.8.1*255"},
    {3, 8, 2, "REACTIVE_ENERGY_P_T2", "varh", 1.0, "1-0:3.8.2*255"},
    {4, 7, 0, "REACTIVE_POWER_N", "var", 1.0, "1-0:4.7.0*255"},
    {4, 8, 0, "REACTIVE_ENERGY_N", "varh", 1.0, "1-0:4.8.0*255"},
    {4, 8, 1, "REACTIVE_ENERGY_N_T1", "varh", 1.0, "1-0:4.8.1*255"},
    {4, 8, 2, "REACTIVE_ENERGY_N_T2", "varh", 1.0, "1-0:4.8.2*255"},
    {5, 8, 0, "REACTIVE_ENERGY_Q1", "varh", 1.0, "1-0:5.8.0*255"},
    {5, 8, 1, "REACTIVE_ENERGY_Q1_T1", "varh", 1.0, "1-0:5.8.1*255"},
    {5, 8, 2, "REACTIVE_ENERGY_Q1_T2", "varh", 1.0, "1-0:5.8.2*255"},
    {6, 8, 0, "REACTIVE_ENERGY_Q2", "varh", 1.0, "1-0:6.8.0*255"},
    {6, 8, 1, "REACTIVE_ENERGY_Q2_T1", "varh", 1.0, "1-0:6.8.1*255"},
    {6, 8, 2, "REACTIVE_ENERGY_Q2_T2", "varh", 1.0, "1-0:6.8.2*255"},
    {7, 8, 0, "REACTIVE_ENERGY_Q3", "varh", 1.0, "1-0:7.8.0*255"},
    {7, 8, 1, "REACTIVE_ENERGY_Q3_T1", "varh", 1.0, "1-0:7.8.1*255"},
    {7, 8, 2, "REACTIVE_ENERGY_Q3_T2", "varh", 1.0, "1-0:7.8.2*255"},
    {8, 8, 0, "REACTIVE_ENERGY_Q4", "varh", 1.0, "1-0:8.8.0*255"},
    {8, 8, 1, "REACTIVE_ENERGY_Q4_T1", "varh", 1.0, "1-0:8.8.1*255"},
    {8, 8, 2, "REACTIVE_ENERGY_Q4_T2", "varh", 1.0, "1-0:8.8.2*255"},
    {13, 7, 0, "POWER_FACTOR", "", 0.001, "1-0:13.7.0*255"},
    {14, 7, 0, "NET_FREQUENCY", "Hz", 1.0, "1-0:14.7.0*255"},
    {21, 7, 0, "ACTIVE_POWER_P_L1", "W", 1.0, "1-0:21.7.0*255"},
    {21, 8, 0, "ACTIVE_ENERGY_P_L1", "Wh", 1.0, "1-0:21.8.0*255"},
    {22, 7, 0, "ACTIVE_POWER_N_L1", "W", 1.0, "1-0:22.7.0*255"},
    {22, 8, 0, "ACTIVE_ENERGY_N_L1", "Wh", 1.0, "1-0:22.8.0*255"},
    {23, 7, 0, "REACTIVE_POWER_P_L1", "var", 1.0, "1-0:23.7.0*255"},
    {24, 7, 0, "REACTIVE_POWER_N_L1", "var", 1.0, "1-0:24.7.0*255"},
    {31, 7, 0, "CURRENT_L1", "A", 0.01, "1-0:31.7.0*255"},
    {32, 7, 0, "VOLTAGE_L1", "V", 1.0, "1-0:32.7.0*255"},
    {33, 7, 0, "POWER_FACTOR_L1", "", 0.001, "1-0:33.7.0*255"},
    {41, 7, 0, "ACTIVE_POWER_P_L2", "W", 1.0, "1-0:41.7.0*255"},
    {41, 8, 0, "ACTIVE_ENERGY_P_L2", "Wh", 1.0, "1-0:41.8.0*255"},
    {42, 7, 0, "ACTIVE_POWER_N_L2", "W", 1.0, "1-0:42.7.0*255"},
    {42, 8, 0, "ACTIVE_ENERGY_N_L2", "Wh", 1.0, "1-0:42.8.0*255"},
    {43, 7, 0, "REACTIVE_POWER_P_L2", "var", 1.0, "1-0:43.7.0*255"},
    {44, 7, 0, "REACTIVE_POWER_N_L2", "var", 1.0, "1-0:44.7.0*255"},
    {51, 7, 0, "CURRENT_L2", "A", 0.01, "1-0:51.7.0*255"},
    {52, 7, 0, "VOLTAGE_L2", "V", 1.0, "1-0:52.7.0*255"},
    {53, 7, 0, "POWER_FACTOR_L2", "", 0.001, "1-0:53.7.0*255"},
    {61, 7, 0, "ACTIVE_POWER_P_L3", "W", 1.0, "1-0:61.7.0*255"},
    {61, 8, 0, "ACTIVE_ENERGY_P_L3", "Wh", 1.0, "1-0:61.8.0*255"},
    {62, 7, 0, "ACTIVE_POWER_N_L3", "W", 1.0, "1-0:62.7.0*255"},
    {62, 8, 0, "ACTIVE_ENERGY_N_L3", "Wh", 1.0, "1-0:62.8.0*255"},
    {63, 7, 0, "REACTIVE_POWER_P_L3", "var", 1.0, "1-0:63.7.0*255"},
    {64, 7, 0, "REACTIVE_POWER_N_L3", "var", 1.0, "1-0:64.7.0*255"},
    {71, 7, 0, "CURRENT_L3", "A", 0.01, "1-0:71.7.0*255"},
    {72, 7, 0, "VOLTAGE_L3", "V", 1.0, "1-0:72.7.0*255"},
    {73, 7, 0, "POWER_FACTOR_L3", "", 0.001, "1-0:73.7.0*255"},
    {81, 7, 40, "ANGLE_UI_L1", "deg", 1.0, "1-0:81.7.40*255"},
    {81, 7, 51, "ANGLE_UI_L2", "deg", 1.0, "1-0:81.7.51*255"},
    {81, 7, 62, "ANGLE_UI_L3", "deg", 1.0, "1-0:81.7.62*255"},
}};

constexpr size_t map_size = map_table.size();

/// True when `text` is "1-0:C.D.E*255" for the entry's C.D.E.
constexpr bool obis_text_matches(const register_info& r) {
  std::string_view t = r.obis_text;
  if (t.substr(0, 4) != "1-0:")
    return false;
  t.remove_prefix(4);
  const auto number = [&t](uint8_t want, char end) {
    unsigned v = 0;
    size_t digits = 0;
    while (digits < t.size() && t[digits] >= '0' && t[digits] <= '9')
      v = v * 10 + static_cast<unsigned>(t[digits++] - '0');
    if (digits == 0 || digits > 3 || v != want || digits >= t.size() || t[digits] != end)
      return false;
    t.remove_prefix(digits + 1);
    return true;
  };
  return number(r.c, '.') && number(r.d, '.') && number(r.e, '*') && t == "255";
}

constexpr bool all_obis_texts_match() {
  for (const auto& r : map_table)
    if (!obis_text_matches(r))
      return false;
  return true;
}
static_assert(all_obis_texts_match(), "map_table: obis_text must be 1-0:C.D.E*255 of its entry");
static_assert(map_size <= 64, "the decoder tracks emitted registers in a 64-bit mask");

const std::vector<profile_info>& profile_table() {
  static const std::vector<profile_info> table = [] {
    const std::vector<scale_override> voltages_tenth{
        {32, 7, 0, 0.1}, {52, 7, 0, 0.1}, {72, 7, 0, 0.1}};
    const std::vector<scale_override> currents_unit{
        {31, 7, 0, 1.0}, {51, 7, 0, 1.0}, {71, 7, 0, 1.0}};
    std::vector<profile_info> t;
    t.push_back({"generic", "any DLMS push meter; smartmeter-datacollector default map", {}, {}});
    t.push_back({"lge450", "Landis+Gyr E450 (CII, wired M-Bus)", {}, {}});
    t.push_back({"lge570", "Landis+Gyr E570 (currents already in A)", currents_unit, {}});
    t.push_back({"lge360", "Landis+Gyr E360 (P1; voltages in 0.1 V)", voltages_tenth, {}});
    t.push_back({"iskraam550", "Iskraemeco AM550 (P1; voltages in 0.1 V)", voltages_tenth, {}});
    t.push_back({"kamstrup_han", "Kamstrup OMNIPOWER with HAN module", {}, {}});
    // Kaifa MA304 (Norway, HAN/NVE lists): "KFM_001", meter id, meter type, then values.
    // Currents in mA, voltages in 0.1 V. List 1 carries the import power only.
    t.push_back(
        {"kaifa_no",
         "Kaifa MA304 (Norway HAN), value-only lists 1, 2 and 3 (1- and 3-phase)",
         {},
         {{"ACTIVE_POWER_P"},
          {"skip", "meter_id", "skip", "ACTIVE_POWER_P", "ACTIVE_POWER_N", "REACTIVE_POWER_P",
           "REACTIVE_POWER_N", "CURRENT_L1@-3", "VOLTAGE_L1@-1"},
          {"skip", "meter_id", "skip", "ACTIVE_POWER_P", "ACTIVE_POWER_N", "REACTIVE_POWER_P",
           "REACTIVE_POWER_N", "CURRENT_L1@-3", "CURRENT_L2@-3", "CURRENT_L3@-3", "VOLTAGE_L1@-1",
           "VOLTAGE_L2@-1", "VOLTAGE_L3@-1"},
          {"skip", "meter_id", "skip", "ACTIVE_POWER_P", "ACTIVE_POWER_N", "REACTIVE_POWER_P",
           "REACTIVE_POWER_N", "CURRENT_L1@-3", "VOLTAGE_L1@-1", "timestamp", "ACTIVE_ENERGY_P",
           "ACTIVE_ENERGY_N", "REACTIVE_ENERGY_P", "REACTIVE_ENERGY_N"},
          {"skip", "meter_id", "skip", "ACTIVE_POWER_P", "ACTIVE_POWER_N", "REACTIVE_POWER_P",
           "REACTIVE_POWER_N", "CURRENT_L1@-3", "CURRENT_L2@-3", "CURRENT_L3@-3", "VOLTAGE_L1@-1",
           "VOLTAGE_L2@-1", "VOLTAGE_L3@-1", "timestamp", "ACTIVE_ENERGY_P", "ACTIVE_ENERGY_N",
           "REACTIVE_ENERGY_P", "REACTIVE_ENERGY_N"}}});
    // Wiener Netze (Iskraemeco AM550 and others, optical interface): clock, +A, -A, +R, -R,
    // +P, -P, +Q, -Q.
    t.push_back({"wiener_netze",
                 "Wiener Netze value-only list (Iskraemeco AM550 and others)",
                 {},
                 {{"timestamp", "ACTIVE_ENERGY_P", "ACTIVE_ENERGY_N", "REACTIVE_ENERGY_P",
                   "REACTIVE_ENERGY_N", "ACTIVE_POWER_P", "ACTIVE_POWER_N", "REACTIVE_POWER_P",
                   "REACTIVE_POWER_N"}}});
    // Netz Burgenland L+G E450: voltages, currents (0.01 A), +P, -P, +A, -A, then three values
    // not identified publicly, then the meter id (14 values).
    t.push_back({"netz_burgenland",
                 "Netz Burgenland L+G E450 value-only list (positions 11-13 unidentified)",
                 {},
                 {{"VOLTAGE_L1", "VOLTAGE_L2", "VOLTAGE_L3", "CURRENT_L1@-2", "CURRENT_L2@-2",
                   "CURRENT_L3@-2", "ACTIVE_POWER_P", "ACTIVE_POWER_N", "ACTIVE_ENERGY_P",
                   "ACTIVE_ENERGY_N", "skip", "skip", "skip", "meter_id"}}});
    return t;
  }();
  return table;
}

} // namespace

std::span<const register_info> register_map() noexcept {
  return std::span<const register_info>(map_table.data(), map_size);
}

namespace {

/// C.D.E -> map entry: open addressing over 256 slots (the map has at most 64 entries, so
/// lookups mostly take one probe, misses end at an empty slot). A slot holds C.D.E in bits
/// 0-23 and the entry index + 1 in bits 24-31; 0 = empty. The first entry of a C.D.E wins.
constexpr size_t register_slots = 256;

constexpr size_t register_slot(uint32_t key) {
  return static_cast<size_t>((key * 0x9E3779B1U) >> 24);
}

constexpr std::array<uint32_t, register_slots> make_register_index() {
  std::array<uint32_t, register_slots> t{};
  for (size_t i = 0; i < map_table.size(); ++i) {
    const uint32_t key = (static_cast<uint32_t>(map_table[i].c) << 16) |
                         (static_cast<uint32_t>(map_table[i].d) << 8) | map_table[i].e;
    for (size_t h = register_slot(key);; h = (h + 1) % register_slots) {
      if (t[h] == 0) {
        t[h] = key | (static_cast<uint32_t>(i + 1) << 24);
        break;
      }
      if ((t[h] & 0xFFFFFFU) == key)
        break; // duplicate C.D.E: keep the first
    }
  }
  return t;
}

static_assert(map_size < 255 && map_size <= register_slots / 2);
constexpr auto register_index = make_register_index();

} // namespace

const register_info* find_register(uint8_t c, uint8_t d, uint8_t e) noexcept {
  const uint32_t key = (static_cast<uint32_t>(c) << 16) | (static_cast<uint32_t>(d) << 8) | e;
  for (size_t h = register_slot(key);; h = (h + 1) % register_slots) {
    const uint32_t slot = register_index[h];
    if (slot == 0)
      return nullptr;
    if ((slot & 0xFFFFFFU) == key)
      return &map_table[(slot >> 24) - 1];
  }
}

const register_info* find_identifier(std::string_view identifier) noexcept {
  for (const auto& r : register_map())
    if (r.identifier == identifier)
      return &r;
  return nullptr;
}

std::span<const profile_info> profiles() noexcept {
  return profile_table();
}

const profile_info* find_profile(std::string_view name) noexcept {
  for (const auto& p : profile_table())
    if (p.name == name)
      return &p;
  return nullptr;
}

std::string_view unit_name(uint8_t code) noexcept {
  switch (code) {
  case 1:
    return "a";
  case 2:
    return "mo";
  case 3:
    return "wk";
  case 4:
    return "d";
  case 5:
    return "h";
  case 6:
    return "min";
  case 7:
    return "s";
  case 8:
    return "deg";
  case 9:
    return "degC";
  case 11:
    return "m";
  case 12:
    return "m/s";
  case 13:
    return "m3";
  case 14:
    return "m3";
  case 15:
    return "m3/h";
  case 16:
    return "m3/h";
  case 17:
    return "m3/d";
  case 18:
    return "m3/d";
  case 19:
    return "l";
  case 20:
    return "kg";
  case 21:
    return "N";
  case 22:
    return "Nm";
  case 23:
    return "Pa";
  case 24:
    return "bar";
  case 25:
    return "J";
  case 26:
    return "J/h";
  case 27:
    return "W";
  case 28:
    return "VA";
  case 29:
    return "var";
  case 30:
    return "Wh";
  case 31:
    return "VAh";
  case 32:
    return "varh";
  case 33:
    return "A";
  case 34:
    return "C";
  case 35:
    return "V";
  case 36:
    return "V/m";
  case 37:
    return "F";
  case 38:
    return "Ohm";
  case 40:
    return "Wb";
  case 41:
    return "T";
  case 42:
    return "A/m";
  case 43:
    return "H";
  case 44:
    return "Hz";
  case 48:
    return "V2h";
  case 49:
    return "A2h";
  case 50:
    return "kg/s";
  case 51:
    return "S";
  case 52:
    return "K";
  case 56:
    return "%";
  case 57:
    return "Ah";
  default:
    return {};
  }
}

std::optional<field_spec> parse_field_spec(std::string_view text, std::string& error) {
  field_spec spec;
  while (!text.empty() && text.front() == ' ')
    text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ')
    text.remove_suffix(1);
  if (text.empty() || text == "skip")
    return spec;
  if (text == "meter_id") {
    spec.what = field_spec::kind::meter_id;
    return spec;
  }
  if (text == "timestamp") {
    spec.what = field_spec::kind::timestamp;
    return spec;
  }
  std::string_view name = text;
  if (auto at = text.find('@'); at != std::string_view::npos) {
    name = text.substr(0, at);
    const auto s = text.substr(at + 1);
    int scaler = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), scaler);
    if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size() || scaler < -12 ||
        scaler > 12) {
      error = "field '" + std::string(text) + "': scaler after '@' must be an integer in -12..12";
      return std::nullopt;
    }
    spec.scaler = scaler;
  }
  spec.what = field_spec::kind::value;
  if (const auto* r = find_identifier(name)) {
    spec.obis = obis_code{1, 0, r->c, r->d, r->e, 255};
    return spec;
  }
  if (auto o = obis_code::parse(name)) {
    spec.obis = *o;
    return spec;
  }
  error = "field '" + std::string(text) +
          "': expected skip, meter_id, timestamp, an OBIS code (1-0:32.7.0*255) or an identifier "
          "(VOLTAGE_L1), optionally with @scaler";
  return std::nullopt;
}

} // namespace wattline::dlms
