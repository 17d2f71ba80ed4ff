// `${VAR}`, `${VAR:-fallback}`, `${file:PATH}` and `$${` in pipeline scalars, and the rule that a
// substituted value never reaches a diagnostic.

#include "engine/config/loader.hpp"
#include "engine/config/substitute.hpp"
#include "tests/config/config_test_support.hpp"
#include "tests/support/support.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace wattline {
namespace {

using test::fixed_env;
using test::render_all;

TEST(ConfigSubstitution, ReplacesSeveralVariablesInOneScalar) {
  auto r =
      substitute("tcp://${HOST}:${PORT}/x", fixed_env({{"HOST", "broker"}, {"PORT", "1883"}}), ".");
  EXPECT_EQ(r.error, "");
  EXPECT_TRUE(r.substituted);
  EXPECT_EQ(r.value, "tcp://broker:1883/x");
}

TEST(ConfigSubstitution, DoubleDollarEscapesALiteralReference) {
  auto r = substitute("cost $${HOME} and ${A}", fixed_env({{"A", "1"}}), ".");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.value, "cost ${HOME} and 1");
  auto plain = substitute("price $5 $$ {x}", fixed_env({}), ".");
  EXPECT_EQ(plain.value, "price $5 $$ {x}");
  EXPECT_FALSE(plain.substituted);
}

TEST(ConfigSubstitution, FallbackIsUsedWhenUnsetOrEmpty) {
  auto env = fixed_env({{"EMPTY", ""}, {"SET", "v"}});
  EXPECT_EQ(substitute("${UNSET:-localhost}", env, ".").value, "localhost");
  EXPECT_EQ(substitute("${EMPTY:-d}", env, ".").value, "d");
  EXPECT_EQ(substitute("${SET:-d}", env, ".").value, "v");
  EXPECT_EQ(substitute("${UNSET:-}", env, ".").value, "");
}

TEST(ConfigSubstitution, ReportsMissingVariableByNameOnly) {
  auto r = substitute("${NOPE}", fixed_env({}), ".");
  EXPECT_EQ(r.error, "environment variable 'NOPE' is not set");
  EXPECT_EQ(r.hint, "set NOPE in wattline's environment (export NOPE=..., or Environment= in a "
                    "systemd unit), or give a default: ${NOPE:-value}");
}

TEST(ConfigSubstitution, EveryExpansionErrorComesWithAHint) {
  test::temp_dir dir;
  for (const char* text :
       {"${OPEN", "${}", "${1X}", "${file:}", "${file:missing.txt}", "${NOPE}"}) {
    auto r = substitute(text, fixed_env({}), dir.path());
    EXPECT_FALSE(r.error.empty()) << text;
    EXPECT_FALSE(r.hint.empty()) << text;
  }
  EXPECT_NE(
      substitute("${file:missing.txt}", fixed_env({}), dir.path()).hint.find(dir.path().string()),
      std::string::npos);
  EXPECT_EQ(substitute("${file:missing.txt}", fixed_env({}), "").hint,
            "relative paths are read from the pipeline file's directory, here '.'");
}

TEST(ConfigSubstitution, UnsetVariableDiagnosticIsLocatedAndHinted) {
  diagnostics diags;
  auto spec = load_pipeline_texts(
      {{"mem.yaml", "sources:\n  gen: { type: generator }\nsinks:\n  a: { type: mqtt, inputs: "
                    "[gen], broker: \"${BROKER}\", topic: t }\n"}},
      diags, fixed_env({}));
  EXPECT_FALSE(spec);
  const auto text = render_all(diags);
  EXPECT_NE(text.find("mem.yaml:4:"), std::string::npos) << text;
  EXPECT_NE(text.find("error: environment variable 'BROKER' is not set"), std::string::npos)
      << text;
  EXPECT_NE(text.find("hint: set BROKER in wattline's environment"), std::string::npos) << text;
}

TEST(ConfigSubstitution, RejectsMalformedReferences) {
  auto env = fixed_env({});
  EXPECT_NE(substitute("${OPEN", env, ".").error.find("unterminated"), std::string::npos);
  EXPECT_NE(substitute("${}", env, ".").error.find("empty variable name"), std::string::npos);
  EXPECT_NE(substitute("${1X}", env, ".").error.find("invalid variable name"), std::string::npos);
  EXPECT_NE(substitute("${file:}", env, ".").error.find("empty file name"), std::string::npos);
}

TEST(ConfigSubstitution, FileReferenceIsRelativeToBaseAndDropsOneTrailingNewline) {
  test::temp_dir dir;
  std::ofstream(dir / "token") << "abc123\n";
  std::ofstream(dir / "two") << "line\n\n";
  auto r = substitute("Bearer ${file:token}", fixed_env({}), dir.path());
  EXPECT_EQ(r.error, "");
  EXPECT_TRUE(r.substituted);
  EXPECT_EQ(r.value, "Bearer abc123");
  EXPECT_EQ(substitute("${file:two}", fixed_env({}), dir.path()).value, "line\n");
  auto abs = substitute("${file:" + (dir / "token").string() + "}", fixed_env({}), "/nowhere");
  EXPECT_EQ(abs.value, "abc123");
}

TEST(ConfigSubstitution, FileOverOneMebibyteOrAnEndlessDeviceIsAnError) {
  test::temp_dir dir;
  std::ofstream(dir / "big") << std::string((1 << 20) + 1, 'x');
  std::ofstream(dir / "limit") << std::string(1 << 20, 'y');
  auto big = substitute("${file:big}", fixed_env({}), dir.path());
  EXPECT_EQ(big.error, "file 'big' for '${file:big}' is larger than 1 MiB");
  EXPECT_FALSE(big.hint.empty());
  auto limit = substitute("${file:limit}", fixed_env({}), dir.path());
  EXPECT_EQ(limit.error, "");
  EXPECT_EQ(limit.value.size(), std::size_t{1} << 20);
  auto zero = substitute("${file:/dev/zero}", fixed_env({}), dir.path());
  EXPECT_EQ(zero.error, "file '/dev/zero' for '${file:/dev/zero}' is larger than 1 MiB");
}

TEST(ConfigSubstitution, UnreadableFileIsAnError) {
  test::temp_dir dir;
  auto r = substitute("${file:missing.txt}", fixed_env({}), dir.path());
  EXPECT_EQ(r.error, "cannot read file 'missing.txt' for '${file:missing.txt}'");
  auto d = substitute("${file:.}", fixed_env({}), dir.path());
  EXPECT_FALSE(d.error.empty());
}

TEST(ConfigSubstitution, LoaderSubstitutesInsideListsAndNestedMaps) {
  diagnostics diags;
  auto spec =
      load_pipeline_texts({{"mem.yaml", R"(
sources:
  gen: { type: generator, fields: ["${F1}", energy] }
sinks:
  db:
    type: influxdb
    inputs: gen
    url: "http://${HOST}:8086"
    bucket: b
    tags: { site: "${SITE}" }
)"}},
                          diags, fixed_env({{"F1", "power"}, {"HOST", "h"}, {"SITE", "home"}}));
  ASSERT_TRUE(spec) << render_all(diags);
  auto* db = spec->find("db");
  EXPECT_EQ(db->opts.str("url"), "http://h:8086");
  EXPECT_EQ(db->opts.raw()["tags"]["site"].Scalar(), "home");
  EXPECT_EQ(spec->find("gen")->opts.strings("fields"),
            (std::vector<std::string>{"power", "energy"}));
}

TEST(ConfigSubstitution, KeysAreNotSubstituted) {
  diagnostics diags;
  auto spec =
      load_pipeline_texts({{"mem.yaml", "sources:\n  gen:\n    type: generator\n    ${X}: 1\n"}},
                          diags, fixed_env({{"X", "count"}}));
  EXPECT_FALSE(spec);
  EXPECT_NE(render_all(diags).find("unknown option '${X}'"), std::string::npos);
}

TEST(ConfigSubstitution, AliasedScalarIsExpandedOnce) {
  diagnostics diags;
  auto spec = load_pipeline_texts({{"mem.yaml", R"(
sources:
  gen: { type: generator }
sinks:
  a: { type: mqtt, inputs: [gen], broker: &b "tcp://x", topic: &t "t/$${literal}" }
  b: { type: mqtt, inputs: [gen], broker: *b, topic: *t }
)"}},
                                  diags, fixed_env({}));
  ASSERT_TRUE(spec) << render_all(diags);
  EXPECT_EQ(spec->find("a")->opts.str("topic"), "t/${literal}");
  EXPECT_EQ(spec->find("b")->opts.str("topic"), "t/${literal}");
}

TEST(ConfigSubstitution, SubstitutedValuesNeverAppearInDiagnostics) {
  test::temp_dir dir;
  const std::string file_secret = "file-secret-7f3a9c";
  std::ofstream(dir / "secret.txt") << file_secret << "\n";
  std::ofstream(dir / "p.yaml") << R"(sources:
  gen: { type: "${S_TYPE}" }
  raw: { type: file, path: x, format: "${S_ENUM}", poll_interval_ms: "${S_INT}" }
  ser: { type: serial, device: d, baud: "${S_RANGE}" }
transforms:
  dec: { type: dlms, inputs: [ser], strict: "${file:secret.txt}", key: "${S_KEY}" }
sinks:
  out:
    type: mqtt
    inputs: ["${S_INPUT}", dec, raw]
    broker: tcp://b
    topic: t
    qos: "${S_QOS}"
    format: "${S_FORMAT}"
    password: "${S_PASSWORD}"
engine:
  status_address: "${S_ADDR}"
  log_level: "prefix-${S_LEVEL}"
)";
  std::map<std::string, std::string> secrets = {
      {"S_TYPE", "generatr-secret-1"},    {"S_ENUM", "jsnl-secret-2"},
      {"S_INT", "twelve-secret-3"},       {"S_RANGE", "99999999"},
      {"S_KEY", "key-secret-4"},          {"S_INPUT", "dek-secret-5"},
      {"S_QOS", "qos-secret-6"},          {"S_FORMAT", "jsom-secret-7"},
      {"S_PASSWORD", "hunter2-secret-8"}, {"S_ADDR", "addr-secret-9"},
      {"S_LEVEL", "level-secret-10"}};
  diagnostics diags;
  auto spec = load_pipelines({(dir / "p.yaml").string()}, diags, fixed_env(secrets));
  EXPECT_FALSE(spec);
  auto text = render_all(diags);
  // Every kind of problem was found ...
  EXPECT_NE(text.find("unknown source type"), std::string::npos) << text;
  EXPECT_NE(text.find("invalid value for option 'format'"), std::string::npos) << text;
  EXPECT_NE(text.find("'poll_interval_ms': expected integer"), std::string::npos) << text;
  EXPECT_NE(text.find("option 'baud' is out of range"), std::string::npos) << text;
  EXPECT_NE(text.find("'strict': expected boolean"), std::string::npos) << text;
  EXPECT_NE(text.find("unknown input"), std::string::npos) << text;
  EXPECT_NE(text.find("'status_address'"), std::string::npos) << text;
  EXPECT_NE(text.find("'log_level'"), std::string::npos) << text;
  // ... and no substituted value shows up in any of them.
  for (const auto& [name, value] : secrets)
    EXPECT_EQ(text.find(value), std::string::npos) << name << " leaked:\n" << text;
  EXPECT_EQ(text.find(file_secret), std::string::npos) << text;
  EXPECT_EQ(text.find("secret-"), std::string::npos) << text;
}

TEST(ConfigSubstitution, LiteralSecretOptionValueIsNotRepeatedInMessages) {
  diagnostics diags;
  // A secret with an allowed list is odd, but the rule must hold for any option kind.
  auto reg = component_registry{};
  reg.add({.type = "vault",
           .role = component_role::source,
           .output = data_kind::records,
           .options = {{.name = "mode", .allowed = {"a", "b"}, .secret = true},
                       {.name = "pin", .type = option_type::integer, .max = 9, .secret = true}}});
  auto out = load_pipeline_texts({{"mem.yaml", "sources:\n  v: { type: vault, mode: "
                                               "literal-secret-x, pin: 12345678 }\n"}},
                                 diags, fixed_env({}), reg);
  EXPECT_FALSE(out);
  auto text = render_all(diags);
  EXPECT_NE(text.find("got a secret value"), std::string::npos) << text;
  // The caret line quotes the file itself; the messages and hints must not.
  for (const auto& d : diags.items()) {
    EXPECT_EQ(d.message.find("literal-secret-x"), std::string::npos) << d.message;
    EXPECT_EQ(d.message.find("12345678"), std::string::npos) << d.message;
    EXPECT_EQ(d.hint.find("literal-secret-x"), std::string::npos) << d.hint;
  }
}

} // namespace
} // namespace wattline
