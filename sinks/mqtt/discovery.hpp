#pragma once

// Home Assistant MQTT discovery: pure functions from records to retained config messages on
// `<prefix>/sensor/<node>/<object>/config`, plus the "already announced" bookkeeping. No I/O.

#include "engine/record.hpp"
#include "sinks/mqtt/format.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace wattline::mqtt {

/// How Home Assistant should treat one field.
struct sensor_class {
  /// HA device class ("energy", "power", "reactive_power", "current", "voltage", "monetary", ...);
  /// empty = none.
  std::string device_class;
  /// HA state class ("measurement", "total", "total_increasing"); empty = none (text sensors).
  std::string state_class;
  /// Unit of measurement for HA (smdc's "VA"/"VAh" for reactive quantities become "var"/"varh");
  /// empty = none.
  std::string unit;
};

/// Classifies a field by unit, OBIS code and key: energy counters (Wh, kWh, MWh) are
/// `energy`/`total_increasing`; power (W, kW) `power`/`measurement`; reactive power (var, or VA
/// on an OBIS reactive register) `reactive_power`/`measurement`; reactive energy
/// `reactive_energy`/`total_increasing`; current, voltage, frequency, power factor, temperature
/// `measurement`; currency codes (EUR) and prices (EUR/kWh) `monetary`/`total`; gas and water
/// volumes `total_increasing`; strings get no class.
sensor_class classify(const field& f);

/// Settings of discovery messages.
struct discovery_options {
  /// Discovery prefix.
  std::string prefix = "homeassistant";
  /// Availability topic of the publishing client (client_options::availability_topic); empty =
  /// no availability in the configs.
  std::string availability_topic;
  /// Payload on the availability topic meaning online.
  std::string payload_online = "online";
  /// Payload on the availability topic meaning offline.
  std::string payload_offline = "offline";
  /// Tag whose value identifies the device (one HA device per value); falls back to the record
  /// name when the tag is missing.
  std::string device_tag = "meter";
  /// Manufacturer shown in HA; the record's `manufacturer` tag wins when present.
  std::string manufacturer = "wattline";
  /// Model shown in HA; the record's `model` tag wins; empty = record name.
  std::string model;
  /// Software version in the device info and origin; empty = none.
  std::string sw_version;
  /// Payload format of the state messages (decides `value_template`).
  payload_format format = payload_format::smdc;
  /// Topic template of the state messages (decides `state_topic`).
  std::string state_topic_template = "smartmeter/{tags.meter}/{field}";
};

/// Replaces every character outside `[a-zA-Z0-9_-]` by `_` (HA node and object ids).
std::string discovery_id(std::string_view text);

/// The discovery config messages (retained, one per field) for a record, in field order. Returns
/// an empty list and sets `error` when the state topic cannot be rendered.
std::vector<encoded_message> discovery_messages(const record& r, const discovery_options& opts,
                                                std::string* error = nullptr);

/// The empty retained payload that deletes an entity from HA, for each config topic of a record.
std::vector<encoded_message> discovery_removals(const record& r, const discovery_options& opts);

/// The discovery topic HA publishes its birth/last will on: `<prefix>/status`.
std::string ha_status_topic(const discovery_options& opts);

/// Remembers what was announced: `announce` returns only new or changed configs; on HA's birth
/// message (`<prefix>/status` = `online`) `all()` gives everything to publish again. Not
/// thread-safe: owned by one actor.
class discovery_tracker {
public:
  /// Uses `opts` for every record.
  explicit discovery_tracker(discovery_options opts);

  /// Config messages for fields of `r` not announced yet (or whose config changed). They are
  /// recorded as announced at once; call `forget` for a topic if its publish failed.
  std::vector<encoded_message> announce(const record& r, std::string* error = nullptr);

  /// Every config announced so far (to publish again after HA restarts).
  [[nodiscard]] std::vector<encoded_message> all() const;

  /// True when (topic, payload) is HA's birth message; the caller then publishes `all()`.
  [[nodiscard]] bool is_ha_birth(std::string_view topic, std::string_view payload) const;

  /// Forgets one config topic so that the next record announces it again.
  void forget(const std::string& topic);

  /// Number of configs announced.
  [[nodiscard]] size_t size() const { return announced_.size(); }

  /// The options in use.
  [[nodiscard]] const discovery_options& options() const { return opts_; }

private:
  discovery_options opts_;
  std::map<std::string, std::string> announced_; // config topic -> payload
};

} // namespace wattline::mqtt
