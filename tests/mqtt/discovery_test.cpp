// Home Assistant MQTT discovery: pure message generation and the "already announced" tracker.

#include "sinks/mqtt/discovery.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace wattline;
using namespace wattline::mqtt;

namespace {

record meter_record() {
  record r;
  r.name = "smartmeter";
  r.tags = {{"meter", "LGZ.1030"}, {"model", "E450"}};
  r.time_ns = 1;
  r.fields = {field{"ACTIVE_ENERGY_P", 1234.5, "Wh", "1-0:1.8.0*255"},
              field{"ACTIVE_POWER_P", 28.0, "W", "1-0:1.7.0*255"},
              field{"CURRENT_L1", 1.2, "A", "1-0:31.7.0*255"},
              field{"VOLTAGE_L1", 230.1, "V", "1-0:32.7.0*255"},
              field{"REACTIVE_POWER_P", 3.0, "VA", "1-0:3.7.0*255"},
              field{"REACTIVE_ENERGY_P", 9.0, "VAh", "1-0:3.8.0*255"},
              field{"POWER_FACTOR", 0.94, "", "1-0:13.7.0*255"},
              field{"NET_FREQUENCY", 50.0, "Hz", "1-0:14.7.0*255"},
              field{"COST_TODAY", 1.25, "EUR", ""},
              field{"PRICE", 0.31, "EUR/kWh", ""}};
  return r;
}

discovery_options options() {
  discovery_options o;
  o.availability_topic = "wattline/host/availability";
  o.format = payload_format::smdc;
  o.state_topic_template = "smartmeter/{tags.meter}/{field}";
  return o;
}

nlohmann::json config_for(const std::vector<encoded_message>& msgs, const std::string& field) {
  for (const auto& m : msgs)
    if (m.field == field)
      return nlohmann::json::parse(m.payload);
  ADD_FAILURE() << "no config for " << field;
  return {};
}

} // namespace

TEST(MqttDiscovery, ConfigsHaveTheRequiredSchemaKeys) {
  auto msgs = discovery_messages(meter_record(), options());
  ASSERT_EQ(msgs.size(), 10u);
  EXPECT_EQ(msgs[0].topic, "homeassistant/sensor/LGZ_1030/ACTIVE_ENERGY_P/config");
  for (const auto& m : msgs) {
    // Topic: <prefix>/<component>/<node_id>/<object_id>/config, ids [a-zA-Z0-9_-].
    EXPECT_EQ(m.topic.rfind("homeassistant/sensor/", 0), 0u);
    EXPECT_EQ(m.topic.substr(m.topic.size() - 7), "/config");
    auto j = nlohmann::json::parse(m.payload);
    for (const char* key : {"name", "unique_id", "state_topic", "value_template", "device",
                            "availability_topic", "origin"})
      EXPECT_TRUE(j.contains(key)) << key << " missing in " << m.payload;
    EXPECT_EQ(j["unique_id"], "wattline_LGZ_1030_" + m.field);
    EXPECT_EQ(j["state_topic"], "smartmeter/LGZ.1030/" + m.field);
    EXPECT_EQ(j["value_template"], "{{ value_json.value }}");
    EXPECT_EQ(j["availability_topic"], "wattline/host/availability");
    EXPECT_EQ(j["payload_available"], "online");
    EXPECT_EQ(j["payload_not_available"], "offline");
    const auto& dev = j["device"];
    ASSERT_TRUE(dev["identifiers"].is_array());
    EXPECT_EQ(dev["identifiers"][0], "wattline_LGZ_1030");
    EXPECT_EQ(dev["name"], "LGZ.1030");
    EXPECT_EQ(dev["manufacturer"], "wattline");
    EXPECT_EQ(dev["model"], "E450");
    EXPECT_TRUE(j.contains("state_class")) << m.payload;
  }
}

TEST(MqttDiscovery, DeviceAndStateClassFollowTheKindOfQuantity) {
  auto msgs = discovery_messages(meter_record(), options());
  struct expect {
    const char* field;
    const char* device_class;
    const char* state_class;
    const char* unit;
  };
  for (const auto& e : std::vector<expect>{
           {"ACTIVE_ENERGY_P", "energy", "total_increasing", "Wh"},
           {"ACTIVE_POWER_P", "power", "measurement", "W"},
           {"CURRENT_L1", "current", "measurement", "A"},
           {"VOLTAGE_L1", "voltage", "measurement", "V"},
           // smdc's VA/VAh quirk on reactive registers becomes HA's var/varh.
           {"REACTIVE_POWER_P", "reactive_power", "measurement", "var"},
           {"REACTIVE_ENERGY_P", "reactive_energy", "total_increasing", "varh"},
           {"NET_FREQUENCY", "frequency", "measurement", "Hz"},
           {"COST_TODAY", "monetary", "total", "EUR"},
           {"PRICE", "monetary", "total", "EUR/kWh"},
       }) {
    auto j = config_for(msgs, e.field);
    EXPECT_EQ(j.value("device_class", ""), e.device_class) << e.field;
    EXPECT_EQ(j.value("state_class", ""), e.state_class) << e.field;
    EXPECT_EQ(j.value("unit_of_measurement", ""), e.unit) << e.field;
  }
  auto pf = config_for(msgs, "POWER_FACTOR");
  EXPECT_EQ(pf["device_class"], "power_factor");
  EXPECT_EQ(pf["state_class"], "measurement");
  EXPECT_FALSE(pf.contains("unit_of_measurement"));
}

TEST(MqttDiscovery, ClassifyHandlesUnitsWithoutObis) {
  EXPECT_EQ(classify(field{"x", 1.0, "kWh", ""}).state_class, "total_increasing");
  EXPECT_EQ(classify(field{"x", 1.0, "kW", ""}).device_class, "power");
  EXPECT_EQ(classify(field{"x", 1.0, "kvar", ""}).device_class, "reactive_power");
  EXPECT_EQ(classify(field{"x", 1.0, "VA", ""}).device_class, "apparent_power");
  EXPECT_EQ(classify(field{"gas_total", 1.0, "m³", ""}).device_class, "gas");
  EXPECT_EQ(classify(field{"water_total", 1.0, "m3", ""}).device_class, "water");
  EXPECT_EQ(classify(field{"x", 1.0, "CHF", ""}).device_class, "monetary");
  auto s = classify(field{"state", std::string("on"), "", ""});
  EXPECT_TRUE(s.device_class.empty());
  EXPECT_TRUE(s.state_class.empty());
  auto other = classify(field{"angle", 0.5, "rad", ""});
  EXPECT_TRUE(other.device_class.empty());
  EXPECT_EQ(other.state_class, "measurement");
}

TEST(MqttDiscovery, JsonAndValueFormatsPointAtTheRightStateTopic) {
  auto o = options();
  o.format = payload_format::json;
  o.state_topic_template = "wattline/{tags.meter}/{name}";
  auto msgs = discovery_messages(meter_record(), o);
  auto j = config_for(msgs, "ACTIVE_POWER_P");
  EXPECT_EQ(j["state_topic"], "wattline/LGZ.1030/smartmeter");
  EXPECT_EQ(j["value_template"], "{{ value_json.fields['ACTIVE_POWER_P'] }}");
  o.format = payload_format::value;
  o.state_topic_template = "wattline/{tags.meter}/{field}";
  msgs = discovery_messages(meter_record(), o);
  j = config_for(msgs, "ACTIVE_POWER_P");
  EXPECT_EQ(j["state_topic"], "wattline/LGZ.1030/ACTIVE_POWER_P");
  EXPECT_EQ(j["value_template"], "{{ value }}");
}

TEST(MqttDiscovery, MissingAvailabilityTopicOmitsAvailability) {
  auto o = options();
  o.availability_topic.clear();
  auto j = config_for(discovery_messages(meter_record(), o), "ACTIVE_POWER_P");
  EXPECT_FALSE(j.contains("availability_topic"));
}

TEST(MqttDiscovery, TrackerAnnouncesOnlyNewOrChangedEntities) {
  discovery_tracker t(options());
  auto r = meter_record();
  EXPECT_EQ(t.announce(r).size(), 10u);
  EXPECT_TRUE(t.announce(r).empty()) << "same record, nothing new";
  r.time_ns = 99;
  r.fields[0].value = 2000.0;
  EXPECT_TRUE(t.announce(r).empty()) << "values do not change configs";
  r.fields.push_back(field{"ACTIVE_POWER_N", 0.0, "W", "1-0:2.7.0*255"});
  auto added = t.announce(r);
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0].field, "ACTIVE_POWER_N");
  r.fields[1].unit = "kW";
  EXPECT_EQ(t.announce(r).size(), 1u) << "changed unit re-announces";
  auto r2 = meter_record();
  r2.set_tag("meter", "second");
  EXPECT_EQ(t.announce(r2).size(), 10u) << "a new meter is a new device";
  EXPECT_EQ(t.size(), 21u);
  t.forget("homeassistant/sensor/second/PRICE/config");
  EXPECT_EQ(t.announce(r2).size(), 1u);
}

TEST(MqttDiscovery, TrackerReannouncesEverythingOnHomeAssistantBirth) {
  discovery_tracker t(options());
  t.announce(meter_record());
  EXPECT_TRUE(t.is_ha_birth("homeassistant/status", "online"));
  EXPECT_FALSE(t.is_ha_birth("homeassistant/status", "offline"));
  EXPECT_FALSE(t.is_ha_birth("other/status", "online"));
  EXPECT_EQ(ha_status_topic(t.options()), "homeassistant/status");
  auto all = t.all();
  EXPECT_EQ(all.size(), 10u);
  for (const auto& m : all)
    EXPECT_FALSE(m.payload.empty());
}

TEST(MqttDiscovery, RemovalsAreEmptyPayloadsOnTheConfigTopics) {
  auto rm = discovery_removals(meter_record(), options());
  ASSERT_EQ(rm.size(), 10u);
  EXPECT_EQ(rm[1].topic, "homeassistant/sensor/LGZ_1030/ACTIVE_POWER_P/config");
  EXPECT_TRUE(rm[1].payload.empty());
}
