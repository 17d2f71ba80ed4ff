#include "sinks/mqtt/discovery.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace wattline::mqtt {

namespace {

using ojson = nlohmann::ordered_json;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// C and D of an OBIS code "A-B:C.D.E*F" or "C.D.E"; -1 when absent.
std::pair<int, int> obis_cd(std::string_view obis) {
  std::string s = short_obis(obis);
  int c = -1, d = -1;
  if (std::sscanf(s.c_str(), "%d.%d", &c, &d) != 2)
    return {-1, -1};
  return {c, d};
}

bool is_currency(std::string_view u) {
  return u.size() == 3 &&
         std::all_of(u.begin(), u.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool reactive_register(int c) {
  // 3/4: Q+/Q-, 5..8: quadrants, 23/24, 43/44, 63/64: per phase.
  return (c >= 3 && c <= 8) || c == 23 || c == 24 || c == 43 || c == 44 || c == 63 || c == 64;
}

} // namespace

sensor_class classify(const field& f) {
  if (std::holds_alternative<std::string>(f.value))
    return {};
  const std::string u = f.unit.str();
  const std::string key = lower(f.key);
  auto [c, d] = obis_cd(f.obis);
  auto m = [&](std::string dc, std::string sc, std::string unit) {
    return sensor_class{std::move(dc), std::move(sc), std::move(unit)};
  };
  if (u == "Wh" || u == "kWh" || u == "MWh" || u == "GWh")
    return m("energy", "total_increasing", u);
  if (u == "W" || u == "kW" || u == "MW" || u == "mW" || u == "GW")
    return m("power", "measurement", u);
  if (u == "var" || u == "kvar" || u == "VAr" || u == "kVAr")
    return m("reactive_power", "measurement", u[0] == 'k' ? "kvar" : "var");
  if (u == "varh" || u == "kvarh" || u == "VArh" || u == "kVArh")
    return m("reactive_energy", "total_increasing", u[0] == 'k' ? "kvarh" : "varh");
  if (u == "VA" || u == "kVA") {
    if (reactive_register(c) || key.find("reactive") != std::string::npos)
      return m("reactive_power", "measurement", u == "kVA" ? "kvar" : "var");
    return m("apparent_power", "measurement", u);
  }
  if (u == "VAh" || u == "kVAh") {
    if (reactive_register(c) || key.find("reactive") != std::string::npos)
      return m("reactive_energy", "total_increasing", u == "kVAh" ? "kvarh" : "varh");
    return m("", "total_increasing", u);
  }
  if (u == "A" || u == "mA")
    return m("current", "measurement", u);
  if (u == "V" || u == "mV" || u == "kV")
    return m("voltage", "measurement", u);
  if (u == "Hz" || u == "kHz")
    return m("frequency", "measurement", u);
  if (u == "°C" || u == "°F" || u == "K")
    return m("temperature", "measurement", u);
  bool pf_register = (c == 13 || c == 33 || c == 53 || c == 73) && d == 7;
  if (key.find("power_factor") != std::string::npos ||
      key.find("powerfactor") != std::string::npos || pf_register) {
    if (u.empty() || u == "%")
      return m("power_factor", "measurement", u);
  }
  if (u == "m³" || u == "m3" || u == "L" || u == "l") {
    std::string unit = u == "m3" ? "m³" : (u == "l" ? "L" : u);
    bool water = key.find("water") != std::string::npos;
    return m(water ? "water" : "gas", "total_increasing", unit);
  }
  if (is_currency(u))
    return m("monetary", "total", u);
  if (auto slash = u.find('/'); slash != std::string::npos && is_currency(u.substr(0, slash)))
    return m("monetary", "total", u);
  return m("", "measurement", u);
}

std::string discovery_id(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-')
      c = '_';
  return out;
}

std::string ha_status_topic(const discovery_options& opts) {
  return opts.prefix + "/status";
}

namespace {

std::string device_name(const record& r, const discovery_options& opts) {
  if (const auto* t = r.tag(opts.device_tag); t != nullptr && !t->empty())
    return t->str();
  return r.name;
}

std::string config_topic(const discovery_options& opts, const std::string& node,
                         const std::string& object) {
  return opts.prefix + "/sensor/" + node + "/" + object + "/config";
}

} // namespace

std::vector<encoded_message> discovery_messages(const record& r, const discovery_options& opts,
                                                std::string* error) {
  std::vector<encoded_message> out;
  auto tmpl = topic_template::parse(opts.state_topic_template, error);
  if (!tmpl)
    return out;
  const std::string dev = device_name(r, opts);
  const std::string node = discovery_id(dev);
  ojson device;
  device["identifiers"] = ojson::array({"wattline_" + node});
  device["name"] = dev;
  const auto* mf = r.tag("manufacturer");
  device["manufacturer"] = mf != nullptr ? *mf : opts.manufacturer;
  const auto* model = r.tag("model");
  device["model"] = model != nullptr ? *model : (opts.model.empty() ? r.name : opts.model);
  if (!opts.sw_version.empty())
    device["sw_version"] = opts.sw_version;
  ojson origin;
  origin["name"] = "wattline";
  if (!opts.sw_version.empty())
    origin["sw_version"] = opts.sw_version;

  std::optional<std::string> record_topic;
  if (opts.format == payload_format::json) {
    record_topic = tmpl->render(r, {}, error);
    if (!record_topic)
      return out;
  }
  for (const auto& f : r.fields) {
    if (opts.format == payload_format::smdc && std::holds_alternative<std::string>(f.value))
      continue; // smdc publishes numbers only
    std::string object = discovery_id(f.key);
    std::string state_topic;
    if (record_topic) {
      state_topic = *record_topic;
    } else {
      auto t = tmpl->render(r, f.key, error);
      if (!t) {
        out.clear();
        return out;
      }
      state_topic = std::move(*t);
    }
    sensor_class sc = classify(f);
    ojson j;
    j["name"] = f.key;
    j["unique_id"] = "wattline_" + node + "_" + object;
    j["state_topic"] = state_topic;
    switch (opts.format) {
    case payload_format::smdc:
      j["value_template"] = "{{ value_json.value }}";
      break;
    case payload_format::json:
      j["value_template"] = "{{ value_json.fields['" + f.key.str() + "'] }}";
      break;
    case payload_format::value:
      j["value_template"] = "{{ value }}";
      break;
    }
    if (!sc.unit.empty())
      j["unit_of_measurement"] = sc.unit;
    if (!sc.device_class.empty())
      j["device_class"] = sc.device_class;
    if (!sc.state_class.empty())
      j["state_class"] = sc.state_class;
    if (!opts.availability_topic.empty()) {
      j["availability_topic"] = opts.availability_topic;
      j["payload_available"] = opts.payload_online;
      j["payload_not_available"] = opts.payload_offline;
    }
    j["device"] = device;
    j["origin"] = origin;
    out.push_back(encoded_message{config_topic(opts, node, object), j.dump(), f.key.str()});
  }
  return out;
}

std::vector<encoded_message> discovery_removals(const record& r, const discovery_options& opts) {
  std::vector<encoded_message> out;
  const std::string node = discovery_id(device_name(r, opts));
  for (const auto& f : r.fields)
    out.push_back(encoded_message{config_topic(opts, node, discovery_id(f.key)), {}, f.key.str()});
  return out;
}

discovery_tracker::discovery_tracker(discovery_options opts) : opts_(std::move(opts)) {}

std::vector<encoded_message> discovery_tracker::announce(const record& r, std::string* error) {
  auto msgs = discovery_messages(r, opts_, error);
  std::vector<encoded_message> out;
  for (auto& m : msgs) {
    auto it = announced_.find(m.topic);
    if (it != announced_.end() && it->second == m.payload)
      continue;
    announced_[m.topic] = m.payload;
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<encoded_message> discovery_tracker::all() const {
  std::vector<encoded_message> out;
  out.reserve(announced_.size());
  for (const auto& [t, p] : announced_)
    out.push_back(encoded_message{t, p, {}});
  return out;
}

bool discovery_tracker::is_ha_birth(std::string_view topic, std::string_view payload) const {
  return topic == ha_status_topic(opts_) && payload == "online";
}

void discovery_tracker::forget(const std::string& topic) {
  announced_.erase(topic);
}

} // namespace wattline::mqtt
