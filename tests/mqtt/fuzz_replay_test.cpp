// Runs the libFuzzer entry point of the MQTT payload decoder (tests/fuzz/mqtt_decode_fuzz.cpp,
// compiled in with g++) over valid messages of every format and over bounded, seeded random
// mutations of them. The entry point aborts on a broken invariant, so passing means: no crash,
// well-formed records, and json records that survive an encode/decode round trip.

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace wattline::mqtt {
namespace {

std::vector<std::string> corpus() {
  auto make = [](uint8_t selector, std::string topic, std::string payload) {
    std::string s(1, static_cast<char>(selector));
    return s + topic + '\0' + payload;
  };
  return {
      make(0, "smartmeter/LGZ1030655933512/ACTIVE_POWER_P",
           R"({"value": 1520.0, "timestamp": 1772323200, "obis": "1.7.0"})"),
      make(0, "smartmeter/m1/ACTIVE_ENERGY_P", R"({"value": 1e300, "timestamp": 9e18})"),
      make(1 | 4, "wattline/m1/power",
           R"({"name":"power","time":1772323200000000007,"tags":{"meter":"m1"},)"
           R"("fields":{"P":1.5,"n":42,"u":18446744073709551615,"ok":true,"s":"x"},)"
           R"("units":{"P":"W"},"obis":{"P":"1-0:1.7.0*255"}})"),
      make(2 | 8, "home/kitchen/sensor1/temperature", "21.5"),
      make(2 | 8, "home/kitchen/sensor1/occupied", "true"),
      make(2 | 12, "count", "-9223372036854775808"),
      make(0, "smartmeter/m1/X", R"({"value": null, "timestamp": -1e300})"),
  };
}

TEST(MqttDecodeFuzzReplay, ValidMessagesOfEveryFormat) {
  for (const auto& input : corpus())
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

TEST(MqttDecodeFuzzReplay, SeededMutationsNeverCrash) {
  std::mt19937 rng(20261121);
  const auto inputs = corpus();
  for (int i = 0; i < 60'000; ++i) {
    std::string s = inputs[rng() % inputs.size()];
    const int edits = 1 + static_cast<int>(rng() % 6);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t pos = rng() % s.size();
      switch (rng() % 4) {
      case 0: // flip a bit
        s[pos] = static_cast<char>(s[pos] ^ (1 << (rng() % 8)));
        break;
      case 1: // replace with an interesting byte
        s[pos] = "{}[]\":,0-9e.\\\0/+#"[rng() % 18];
        break;
      case 2: // cut
        s.resize(pos + 1);
        break;
      default: // duplicate a slice
        s.insert(pos, s.substr(rng() % s.size(), rng() % 16));
        break;
      }
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
}

} // namespace
} // namespace wattline::mqtt
