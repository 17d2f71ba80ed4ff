// Payload formats, topic templates and URL handling: pure functions, no broker.

#include "sinks/mqtt/client.hpp"
#include "sinks/mqtt/format.hpp"
#include "sinks/mqtt/options.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace wattline;
using namespace wattline::mqtt;

namespace {

record meter_record() {
  record r;
  r.name = "smartmeter";
  r.tags = {{"meter", "LGZ1030655933512"}, {"site", "home"}};
  r.time_ns = 1625583498'700000000;
  r.fields.push_back(field{"ACTIVE_POWER_P", 28.0, "W", "1-0:1.7.0*255"});
  r.fields.push_back(field{"ACTIVE_ENERGY_P", 1234567.5, "Wh", "1-0:1.8.0*255"});
  r.fields.push_back(field{"POWER_FACTOR", 0.941, "", "1-0:13.7.0*255"});
  return r;
}

topic_template tmpl(std::string_view text) {
  std::string err;
  auto t = topic_template::parse(text, &err);
  EXPECT_TRUE(t) << err;
  return *t;
}

} // namespace

TEST(MqttFormat, PythonFloatReprMatchesPython) {
  // Expected strings are what CPython's repr(float) / json.dumps print.
  EXPECT_EQ(python_float_repr(28.0), "28.0");
  EXPECT_EQ(python_float_repr(0.1), "0.1");
  EXPECT_EQ(python_float_repr(-2.5), "-2.5");
  EXPECT_EQ(python_float_repr(0.941), "0.941");
  EXPECT_EQ(python_float_repr(291341.0), "291341.0");
  EXPECT_EQ(python_float_repr(123.456), "123.456");
  EXPECT_EQ(python_float_repr(0.0001), "0.0001");
  EXPECT_EQ(python_float_repr(0.00001), "1e-05");
  EXPECT_EQ(python_float_repr(1.5e-7), "1.5e-07");
  EXPECT_EQ(python_float_repr(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(python_float_repr(1e16), "1e+16");
  EXPECT_EQ(python_float_repr(12345678901234567890.0), "1.2345678901234567e+19");
  EXPECT_EQ(python_float_repr(1e22), "1e+22");
  EXPECT_EQ(python_float_repr(0.0), "0.0");
  EXPECT_EQ(python_float_repr(-0.0), "-0.0");
  EXPECT_EQ(python_float_repr(230.10000000000002), "230.10000000000002");
}

TEST(MqttFormat, SmdcPayloadMatchesSmartmeterDatacollector) {
  // smartmeter-datacollector: topic smartmeter/<meter>/<TYPE>, payload
  // {"value": 28.0, "timestamp": 1625583498, "obis": "1.7.0"} (json.dumps spacing, float value,
  // integer epoch seconds, short C.D.E OBIS).
  std::vector<encoded_message> out;
  std::string err;
  ASSERT_EQ(encode(meter_record(), payload_format::smdc,
                   tmpl(default_topic_template(payload_format::smdc)), out, &err),
            3u)
      << err;
  EXPECT_EQ(out[0].topic, "smartmeter/LGZ1030655933512/ACTIVE_POWER_P");
  EXPECT_EQ(out[0].payload, R"({"value": 28.0, "timestamp": 1625583498, "obis": "1.7.0"})");
  EXPECT_EQ(out[1].topic, "smartmeter/LGZ1030655933512/ACTIVE_ENERGY_P");
  EXPECT_EQ(out[1].payload, R"({"value": 1234567.5, "timestamp": 1625583498, "obis": "1.8.0"})");
  EXPECT_EQ(out[2].payload, R"({"value": 0.941, "timestamp": 1625583498, "obis": "13.7.0"})");
}

TEST(MqttFormat, SmdcWritesIntegersAsFloatsAndSkipsStrings) {
  record r;
  r.name = "smartmeter";
  r.set_tag("meter", "m1");
  r.time_ns = 5'000'000'000;
  r.fields.push_back(field{"E", int64_t{42}, "Wh", "1.8.0"});
  r.fields.push_back(field{"TEXT", std::string("hello"), "", ""});
  r.fields.push_back(field{"FLAG", true, "", ""});
  std::vector<encoded_message> out;
  ASSERT_EQ(encode(r, payload_format::smdc, tmpl("smartmeter/{tags.meter}/{field}"), out), 2u);
  EXPECT_EQ(out[0].payload, R"({"value": 42.0, "timestamp": 5, "obis": "1.8.0"})");
  EXPECT_EQ(out[1].payload, R"({"value": 1.0, "timestamp": 5, "obis": ""})");
}

TEST(MqttFormat, JsonPayloadGolden) {
  record r = meter_record();
  r.fields.push_back(field{"COUNT", int64_t{-7}, "", ""});
  r.fields.push_back(field{"OK", true, "", ""});
  r.fields.push_back(field{"STATE", std::string("run \"1\""), "", ""});
  std::vector<encoded_message> out;
  ASSERT_EQ(encode(r, payload_format::json, tmpl("wattline/{tags.meter}/{name}"), out), 1u);
  EXPECT_EQ(out[0].topic, "wattline/LGZ1030655933512/smartmeter");
  EXPECT_EQ(out[0].payload,
            R"({"name":"smartmeter","time":1625583498700000000,)"
            R"("tags":{"meter":"LGZ1030655933512","site":"home"},)"
            R"("fields":{"ACTIVE_POWER_P":28.0,"ACTIVE_ENERGY_P":1234567.5,"POWER_FACTOR":0.941,)"
            R"("COUNT":-7,"OK":true,"STATE":"run \"1\""},)"
            R"("units":{"ACTIVE_POWER_P":"W","ACTIVE_ENERGY_P":"Wh"},)"
            R"("obis":{"ACTIVE_POWER_P":"1-0:1.7.0*255","ACTIVE_ENERGY_P":"1-0:1.8.0*255",)"
            R"("POWER_FACTOR":"1-0:13.7.0*255"}})");
}

TEST(MqttFormat, ValuePayloadGolden) {
  record r = meter_record();
  r.fields.push_back(field{"N", uint64_t{18446744073709551615ull}, "", ""});
  r.fields.push_back(field{"OK", false, "", ""});
  r.fields.push_back(field{"S", std::string("text"), "", ""});
  std::vector<encoded_message> out;
  ASSERT_EQ(encode(r, payload_format::value, tmpl("wattline/{tags.meter}/{field}"), out), 6u);
  EXPECT_EQ(out[0].topic, "wattline/LGZ1030655933512/ACTIVE_POWER_P");
  EXPECT_EQ(out[0].payload, "28.0");
  EXPECT_EQ(out[1].payload, "1234567.5");
  EXPECT_EQ(out[2].payload, "0.941");
  EXPECT_EQ(out[3].payload, "18446744073709551615");
  EXPECT_EQ(out[4].payload, "false");
  EXPECT_EQ(out[5].payload, "text");
  EXPECT_EQ(out[5].field, "S");
}

TEST(MqttFormat, TopicTemplateRendersTagsNameFieldAndAlternatives) {
  record r = meter_record();
  EXPECT_EQ(*tmpl("wattline/{tags.meter}/{field}").render(r, "P"), "wattline/LGZ1030655933512/P");
  EXPECT_EQ(*tmpl("{name}/{tags.site}-{tags.meter}/x").render(r),
            "smartmeter/home-LGZ1030655933512/x");
  EXPECT_EQ(*tmpl("a/{tags.device|tags.site|name}").render(r), "a/home");
  EXPECT_EQ(*tmpl("a/{tags.device|name}").render(r), "a/smartmeter");
  // Substituted values never split levels or form wildcards.
  r.set_tag("meter", "/dev/ttyUSB0+#");
  EXPECT_EQ(*tmpl("smartmeter/{tags.meter}/{field}").render(r, "P"), "smartmeter/_dev_ttyUSB0__/P");
}

TEST(MqttFormat, TopicTemplateMissingTagIsAnError) {
  record r = meter_record();
  std::string err;
  EXPECT_FALSE(tmpl("x/{tags.nope}").render(r, {}, &err));
  EXPECT_NE(err.find("tags.nope"), std::string::npos) << err;
  std::vector<encoded_message> out;
  EXPECT_EQ(encode(r, payload_format::value, tmpl("x/{tags.nope}/{field}"), out, &err), 0u);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(encode(r, payload_format::value, tmpl("x/{tags.meter}"), out, &err), 0u);
  EXPECT_NE(err.find("{field}"), std::string::npos) << err;
}

TEST(MqttFormat, TopicTemplateRejectsWildcardsAndUnknownPlaceholders) {
  std::string err;
  EXPECT_FALSE(topic_template::parse("a/+/b", &err));
  EXPECT_NE(err.find("wildcard"), std::string::npos);
  EXPECT_FALSE(topic_template::parse("a/#", &err));
  EXPECT_FALSE(topic_template::parse("a/{tag.meter}", &err));
  EXPECT_NE(err.find("unknown placeholder"), std::string::npos);
  EXPECT_FALSE(topic_template::parse("a/{name", &err));
  EXPECT_FALSE(topic_template::parse("a/name}", &err));
  EXPECT_FALSE(topic_template::parse("", &err));
}

TEST(MqttFormat, SubscriptionFilterAndMatchInvertRendering) {
  auto t = tmpl("pre/{tags.meter}/x-{field}");
  EXPECT_EQ(t.subscription_filter(), "pre/+/+");
  auto m = t.match("pre/m1/x-ACTIVE_POWER_P");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0], (std::pair<std::string, std::string>{"tags.meter", "m1"}));
  EXPECT_EQ((*m)[1], (std::pair<std::string, std::string>{"field", "ACTIVE_POWER_P"}));
  EXPECT_FALSE(t.match("pre/m1/y-P"));
  EXPECT_FALSE(t.match("pre/m1"));
  EXPECT_FALSE(t.match("pre/m1/x-P/extra"));
  EXPECT_FALSE(t.match("other/m1/x-P"));
}

TEST(MqttFormat, JsonRoundTripsRecords) {
  record r = meter_record();
  r.fields.push_back(field{"COUNT", int64_t{-7}, "", ""});
  r.fields.push_back(field{"OK", true, "", ""});
  r.fields.push_back(field{"STATE", std::string("x"), "", ""});
  r.fields.push_back(field{"BIG", uint64_t{18446744073709551615ull}, "", ""});
  std::vector<encoded_message> out;
  auto t = tmpl(default_topic_template(payload_format::json));
  ASSERT_EQ(encode(r, payload_format::json, t, out), 1u);
  std::string err;
  auto back = decode(out[0].topic, out[0].payload, payload_format::json, t, {}, &err);
  ASSERT_TRUE(back) << err;
  EXPECT_EQ(*back, r);
}

TEST(MqttFormat, SmdcRoundTripsPayloadsAndValues) {
  record r = meter_record();
  auto t = tmpl(default_topic_template(payload_format::smdc));
  std::vector<encoded_message> out;
  ASSERT_EQ(encode(r, payload_format::smdc, t, out), 3u);
  record merged;
  for (const auto& m : out) {
    std::string err;
    auto back = decode(m.topic, m.payload, payload_format::smdc, t, {}, &err);
    ASSERT_TRUE(back) << err;
    EXPECT_EQ(back->name, "smartmeter");
    ASSERT_NE(back->tag("meter"), nullptr);
    EXPECT_EQ(*back->tag("meter"), "LGZ1030655933512");
    EXPECT_EQ(back->time_ns, 1625583498'000000000);
    ASSERT_EQ(back->fields.size(), 1u);
    const field* orig = r.find_field(back->fields[0].key);
    ASSERT_NE(orig, nullptr);
    EXPECT_EQ(back->fields[0].value, orig->value);
    EXPECT_EQ(back->fields[0].obis, short_obis(orig->obis));
    // Re-encoding gives the identical message.
    std::vector<encoded_message> again;
    ASSERT_EQ(encode(*back, payload_format::smdc, t, again), 1u);
    EXPECT_EQ(again[0], m);
  }
}

TEST(MqttFormat, ValueRoundTripsTypesAndTopicParts) {
  record r;
  r.name = "devolo";
  r.tags = {{"meter", "plug-1"}};
  r.time_ns = 77;
  r.fields = {field{"P", 12.5, "", ""},
              field{"N", int64_t{-3}, "", ""},
              field{"U", uint64_t{18446744073709551615ull}, "", ""},
              field{"ON", true, "", ""},
              field{"S", std::string("idle"), "", ""},
              field{"ROUND", 230.0, "", ""}};
  auto t = tmpl("home/{name}/{tags.meter}/{field}");
  std::vector<encoded_message> out;
  ASSERT_EQ(encode(r, payload_format::value, t, out), r.fields.size());
  decode_options o;
  o.default_time_ns = 77;
  for (size_t i = 0; i < out.size(); ++i) {
    std::string err;
    auto back = decode(out[i].topic, out[i].payload, payload_format::value, t, o, &err);
    ASSERT_TRUE(back) << err;
    record expect;
    expect.name = "devolo";
    expect.tags = {{"meter", "plug-1"}};
    expect.time_ns = 77;
    expect.fields = {r.fields[i]};
    EXPECT_EQ(*back, expect) << out[i].payload;
  }
}

TEST(MqttFormat, DecodeRejectsForeignTopicsAndBadPayloads) {
  auto t = tmpl("smartmeter/{tags.meter}/{field}");
  std::string err;
  EXPECT_FALSE(decode("other/m/P", "1", payload_format::value, t, {}, &err));
  EXPECT_NE(err.find("does not match"), std::string::npos);
  EXPECT_FALSE(decode("smartmeter/m/P", "not json", payload_format::smdc, t, {}, &err));
  EXPECT_FALSE(decode("smartmeter/m/P", R"({"value": "x"})", payload_format::smdc, t, {}, &err));
  EXPECT_FALSE(decode("x", "[1,2]", payload_format::json, t, {}, &err));
  EXPECT_FALSE(decode("x", R"({"name":"a"})", payload_format::json, t, {}, &err));
}

TEST(MqttFormat, PayloadFormatNamesParse) {
  EXPECT_EQ(parse_payload_format("smdc"), payload_format::smdc);
  EXPECT_EQ(parse_payload_format("json"), payload_format::json);
  EXPECT_EQ(parse_payload_format("value"), payload_format::value);
  EXPECT_FALSE(parse_payload_format("xml"));
  EXPECT_EQ(to_string(payload_format::smdc), "smdc");
}

TEST(MqttUrl, ParsesSchemesPortsAndCredentials) {
  auto u = parse_broker_url("mqtt://broker.lan");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->paho_uri(), "tcp://broker.lan:1883");
  u = parse_broker_url("mqtts://broker.lan");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->paho_uri(), "ssl://broker.lan:8883");
  EXPECT_TRUE(u->tls());
  u = parse_broker_url("ssl://alice:s3cret@10.0.0.1:18883");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->username, "alice");
  EXPECT_EQ(u->password, "s3cret");
  EXPECT_EQ(u->redacted(), "ssl://10.0.0.1:18883");
  u = parse_broker_url("tcp://[::1]:1884");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->paho_uri(), "tcp://[::1]:1884");
}

TEST(MqttUrl, ErrorsNeverShowThePassword) {
  std::string err;
  EXPECT_FALSE(parse_broker_url("http://bob:hunter2@host:1", &err));
  EXPECT_NE(err.find("unknown scheme"), std::string::npos);
  EXPECT_EQ(err.find("hunter2"), std::string::npos) << err;
  EXPECT_FALSE(parse_broker_url("tcp://bob:hunter2@host:99999", &err));
  EXPECT_EQ(err.find("hunter2"), std::string::npos) << err;
  EXPECT_FALSE(parse_broker_url("tcp://", &err));
  EXPECT_EQ(redact_url("tcp://bob:hunter2@host:1"), "tcp://host:1");
  std::string cerr;
  client_options o;
  o.url = "ftp://bob:hunter2@host";
  EXPECT_EQ(client::create(o, {}, &cerr), nullptr);
  EXPECT_EQ(cerr.find("hunter2"), std::string::npos) << cerr;
}

TEST(MqttUrl, DefaultClientIdIsUniqueAndNamesHostAndPid) {
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i)
    ids.insert(default_client_id());
  EXPECT_GT(ids.size(), 15u);
  const std::string id = *ids.begin();
  EXPECT_EQ(id.rfind("wattline-", 0), 0u) << id;
  EXPECT_NE(id.find("-" + std::to_string(::getpid()) + "-"), std::string::npos) << id;
}

TEST(MqttUrl, InvalidOptionsAreRefusedAtCreate) {
  std::string err;
  client_options o;
  o.qos = 3;
  EXPECT_EQ(client::create(o, {}, &err), nullptr);
  EXPECT_NE(err.find("qos"), std::string::npos);
  o.qos = 1;
  o.url = "ssl://127.0.0.1:1";
  o.tls.ca_file = "/nonexistent/ca.crt";
  EXPECT_EQ(client::create(o, {}, &err), nullptr);
  EXPECT_NE(err.find("CA file"), std::string::npos) << err;
}
