// libFuzzer entry point for the MQTT payload decoder: what an `mqtt` source parses from the
// network. Also compiled into mqtt_test (g++), which replays it over valid messages and bounded,
// seeded mutations of them.
//
// Input layout: byte 0 selects the format (bits 0-1: smdc, json, value) and the topic template
// (bits 2-3), then the topic up to the first NUL byte, then the payload. Checked invariants:
// nothing throws; a decoded record has a name and non-empty field keys; a json record without
// NaN values and duplicate keys encodes and decodes back to itself.
//
// Run (clang, ASan + UBSan):
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DWATTLINE_FUZZ=ON
//     -DWATTLINE_BENCHMARKS=OFF   (one command)
//   ninja -C build-fuzz mqtt_decode_fuzz
//   build-fuzz/tests/fuzz/mqtt_decode_fuzz -max_total_time=60 -max_len=1024

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sinks/mqtt/format.hpp"

namespace {

using namespace wattline;

void check(bool ok) {
  if (!ok)
    std::abort();
}

constexpr std::string_view templates[4] = {"smartmeter/{tags.meter}/{field}",
                                           "wattline/{tags.meter}/{name}",
                                           "home/{tags.room}/{tags.device}/{field}", "{field}"};

bool round_trippable(const record& r) {
  std::set<std::string> keys;
  for (const auto& f : r.fields) {
    if (!keys.insert(f.key.str()).second)
      return false;
    if (const auto* d = std::get_if<double>(&f.value); d != nullptr && !std::isfinite(*d))
      return false;
  }
  std::set<std::string> tags;
  for (const auto& [k, v] : r.tags)
    if (!tags.insert(k.str()).second)
      return false;
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1)
    return 0;
  const auto format = static_cast<mqtt::payload_format>(data[0] % 3);
  const auto tmpl = mqtt::topic_template::parse(templates[(data[0] >> 2) & 0x03]);
  check(tmpl.has_value());
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  auto nul = rest.find('\0');
  std::string_view topic = nul == std::string_view::npos ? rest : rest.substr(0, nul);
  std::string_view payload =
      nul == std::string_view::npos ? std::string_view{} : rest.substr(nul + 1);

  mqtt::decode_options opts;
  opts.default_time_ns = 1'772'323'200'000'000'000;
  std::string error;
  auto r = mqtt::decode(topic, payload, format, *tmpl, opts, &error);
  if (!r) {
    check(!error.empty());
    return 0;
  }
  check(!r->fields.empty());
  for (const auto& f : r->fields)
    check(!f.key.empty() || format == mqtt::payload_format::json);
  if (format != mqtt::payload_format::json || !round_trippable(*r))
    return 0;
  // json: encode and decode again gives the same record.
  std::vector<mqtt::encoded_message> out;
  auto json_tmpl = mqtt::topic_template::parse("wattline/out");
  check(json_tmpl.has_value());
  if (mqtt::encode(*r, format, *json_tmpl, out) != 1)
    return 0;
  auto again = mqtt::decode(out[0].topic, out[0].payload, format, *json_tmpl, opts);
  check(again.has_value());
  check(*again == *r);
  return 0;
}
