#include "actors/serial/backoff.hpp"
#include "actors/serial/line_settings.hpp"

#include <algorithm>
#include <gtest/gtest.h>

using namespace wattline::serial;

namespace {

bool mentions(const std::vector<setting_error>& errors, const std::string& option) {
  return std::any_of(errors.begin(), errors.end(),
                     [&](const setting_error& e) { return e.option == option; });
}

} // namespace

TEST(SerialLineSettings, ProfilesCarryTheReferenceLineSettings) {
  struct expected {
    const char* name;
    line_settings settings;
  };
  const expected table[] = {
      {"lge360", {9600, 8, parity::none, 1}},       {"lge450", {2400, 8, parity::even, 1}},
      {"lge570", {2400, 8, parity::even, 1}},       {"iskraam550", {115200, 8, parity::none, 1}},
      {"kamstrup_han", {2400, 8, parity::none, 1}}, {"generic_mbus", {2400, 8, parity::even, 1}},
      {"generic_p1", {115200, 8, parity::none, 1}}, {"generic", {2400, 8, parity::even, 1}},
  };
  for (const auto& e : table) {
    const profile* p = find_profile(e.name);
    ASSERT_NE(p, nullptr) << e.name;
    EXPECT_EQ(p->settings, e.settings) << e.name;
    EXPECT_FALSE(p->description.empty());
    EXPECT_TRUE(validate(p->settings).empty()) << e.name;
  }
  EXPECT_EQ(profiles().size(), std::size(table));
  EXPECT_EQ(find_profile("LGE450"), nullptr);
  EXPECT_EQ(to_string(find_profile("lge450")->settings), "2400 8E1");
  EXPECT_EQ(to_string(find_profile("iskraam550")->settings), "115200 8N1");
}

TEST(SerialLineSettings, OverridesReplaceOnlyTheGivenFields) {
  line_overrides o;
  o.baud_rate = 9600;
  o.parity = "Odd";
  auto r = resolve("lge450", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.settings, (line_settings{9600, 8, parity::odd, 1}));

  line_overrides o2;
  o2.data_bits = 7;
  o2.stop_bits = 2;
  o2.parity = "n";
  auto r2 = resolve("kamstrup_han", o2);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(to_string(r2.settings), "2400 7N2");

  auto r3 = resolve("");
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3.settings, find_profile("generic")->settings);
}

TEST(SerialLineSettings, BadValuesGiveClearErrorsWithAllowedValues) {
  line_overrides o;
  o.baud_rate = 0;
  o.data_bits = 9;
  o.parity = "mark";
  o.stop_bits = 3;
  auto r = resolve("lge450", o);
  ASSERT_EQ(r.errors.size(), 4u);
  for (const auto& e : r.errors) {
    EXPECT_FALSE(e.message.empty());
    EXPECT_FALSE(e.allowed.empty()) << e.option;
  }
  EXPECT_EQ(r.errors[0].option, "baud_rate");
  EXPECT_NE(r.errors[0].message.find("unsupported baud rate 0"), std::string::npos);
  EXPECT_NE(std::find(r.errors[0].allowed.begin(), r.errors[0].allowed.end(), "2400"),
            r.errors[0].allowed.end());
  EXPECT_EQ(r.errors[1].option, "data_bits");
  EXPECT_EQ(r.errors[1].allowed, (std::vector<std::string>{"5", "6", "7", "8"}));
  EXPECT_EQ(r.errors[2].option, "parity");
  EXPECT_NE(r.errors[2].message.find("'mark'"), std::string::npos);
  EXPECT_EQ(r.errors[2].allowed, (std::vector<std::string>{"none", "even", "odd"}));
  EXPECT_EQ(r.errors[3].option, "stop_bits");
  EXPECT_EQ(r.errors[3].allowed, (std::vector<std::string>{"1", "2"}));

  auto unknown = resolve("lge460");
  ASSERT_EQ(unknown.errors.size(), 1u);
  EXPECT_EQ(unknown.errors[0].option, "profile");
  EXPECT_NE(unknown.errors[0].message.find("lge450"), std::string::npos);
  EXPECT_EQ(unknown.errors[0].allowed, profile_names());

  line_overrides huge;
  huge.baud_rate = 5'000'000;
  EXPECT_TRUE(mentions(resolve("generic", huge).errors, "baud_rate"));
  EXPECT_TRUE(mentions(validate(line_settings{2400, 4, parity::none, 1}), "data_bits"));
}

TEST(SerialLineSettings, NonStandardBaudRatesAreValidButFlagged) {
  EXPECT_TRUE(is_standard_baud_rate(2400));
  EXPECT_TRUE(is_standard_baud_rate(115200));
  EXPECT_FALSE(is_standard_baud_rate(250000));
  EXPECT_TRUE(validate(line_settings{250000, 8, parity::none, 1}).empty());
  auto rates = allowed_baud_rates();
  EXPECT_TRUE(std::is_sorted(rates.begin(), rates.end()));
  EXPECT_EQ(rates.front(), 300u);
}

TEST(SerialLineSettings, ParityParsesLongAndShortNames) {
  EXPECT_EQ(parse_parity("EVEN"), parity::even);
  EXPECT_EQ(parse_parity("e"), parity::even);
  EXPECT_EQ(parse_parity("none"), parity::none);
  EXPECT_EQ(parse_parity("O"), parity::odd);
  EXPECT_FALSE(parse_parity("space").has_value());
  EXPECT_EQ(to_string(parity::odd), "odd");
}

TEST(SerialBackoff, GrowsExponentiallyUpToTheCapWithJitter) {
  backoff_policy p;
  p.initial = std::chrono::milliseconds(100);
  p.max = std::chrono::milliseconds(5000);
  p.jitter = 0.2;
  backoff b(p, 7);
  double base = 100;
  for (int i = 0; i < 12; ++i) {
    auto d = b.next().count();
    EXPECT_LE(d, static_cast<int64_t>(base)) << i;
    EXPECT_GE(d, static_cast<int64_t>(base * 0.8) - 1) << i;
    base = std::min(base * 2, 5000.0);
  }
  b.reset();
  EXPECT_LE(b.next().count(), 100);
}

TEST(SerialBackoff, JitterSpreadsReadersStartedTogether) {
  backoff a({}, 1), b({}, 2);
  bool differ = false;
  for (int i = 0; i < 5; ++i)
    differ = differ || a.next() != b.next();
  EXPECT_TRUE(differ);
}
