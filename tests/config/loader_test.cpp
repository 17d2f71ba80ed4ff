// Loading pipeline files: conversion of options per their declaration, defaults, multi-file
// merging, the engine and supervision sections, canonical config text, and error reporting that
// never throws.

#include "engine/config/loader.hpp"
#include "tests/config/config_test_support.hpp"
#include "tests/support/support.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace wattline {
namespace {

using test::count;
using test::fixed_env;
using test::render_all;

std::optional<pipeline_spec> load(const std::string& yaml, diagnostics& diags,
                                  std::map<std::string, std::string> env = {}) {
  return load_pipeline_texts({{"mem.yaml", yaml}}, diags, fixed_env(std::move(env)));
}

const char* minimal = R"(
sources:
  meter: { type: serial, device: /dev/ttyUSB0 }
transforms:
  decode: { type: dlms, inputs: [meter], key: "00112233" }
sinks:
  broker:
    type: mqtt
    inputs: decode
    broker: tcp://localhost:1883
    topic: meters/main
    qos: 1
    retain: true
)";

TEST(ConfigLoader, ConvertsOptionsAndFillsDefaults) {
  diagnostics diags;
  auto spec = load(minimal, diags);
  ASSERT_TRUE(spec) << render_all(diags);
  EXPECT_TRUE(diags.empty()) << render_all(diags);
  const auto* meter = spec->find("meter");
  ASSERT_NE(meter, nullptr);
  EXPECT_EQ(meter->type, "serial");
  EXPECT_EQ(meter->role, component_role::source);
  EXPECT_EQ(meter->opts.integer("baud"), 2400);
  EXPECT_EQ(meter->output_kind, data_kind::bytes);
  const auto* broker = spec->find("broker");
  EXPECT_EQ(broker->opts.integer("qos"), 1);
  EXPECT_TRUE(broker->opts.boolean("retain"));
  EXPECT_EQ(broker->opts.str("format"), "json");
  EXPECT_FALSE(broker->opts.has("password"));
  EXPECT_EQ(broker->inputs, std::vector<std::string>{"decode"});
  ASSERT_EQ(broker->input_locations.size(), 1u);
  EXPECT_EQ(broker->input_locations[0].line, 9);
  EXPECT_EQ(broker->input_locations[0].column, 13);
  EXPECT_EQ(broker->where.line, 7);
  EXPECT_EQ(broker->where.column, 3);
  EXPECT_EQ(broker->descriptor, component_registry::instance().find(component_role::sink, "mqtt"));
  EXPECT_EQ(broker->opts.file(), "mem.yaml");
  EXPECT_TRUE(broker->opts.raw().IsMap());
  EXPECT_EQ(spec->find("decode")->input_kind, data_kind::bytes);
  EXPECT_EQ(spec->find("decode")->output_kind, data_kind::records);
  EXPECT_EQ(spec->files, std::vector<std::string>{"mem.yaml"});
}

TEST(ConfigLoader, ConvertsNumbersListsAndYaml12Scalars) {
  diagnostics diags;
  auto spec = load(R"(
sources:
  gen: { type: generator, fields: voltage, count: 0x10 }
sinks:
  db: { type: influxdb, inputs: [gen], url: u, bucket: "2024", timeout_secs: 2, batch_size: "250" }
)",
                   diags);
  ASSERT_TRUE(spec) << render_all(diags);
  auto* gen = spec->find("gen");
  EXPECT_EQ(gen->opts.strings("fields"), std::vector<std::string>{"voltage"});
  EXPECT_EQ(gen->opts.integer("count"), 16);
  auto* db = spec->find("db");
  EXPECT_EQ(db->opts.str("bucket"), "2024");
  EXPECT_DOUBLE_EQ(db->opts.number("timeout_secs"), 2.0);
  EXPECT_EQ(db->opts.integer("batch_size"), 250);
  // Defaults of list options are parsed too.
  diagnostics d2;
  auto s2 = load("sources:\n  g: { type: generator }\nsinks:\n  f: { type: file, inputs: g, "
                 "path: p }\n",
                 d2);
  ASSERT_TRUE(s2) << render_all(d2);
  EXPECT_EQ(s2->find("g")->opts.strings("fields"), (std::vector<std::string>{"power", "energy"}));
}

TEST(ConfigLoader, OutputKindFollowsTheOptions) {
  diagnostics diags;
  auto spec = load(R"(
sources:
  raw: { type: file, path: a.bin, format: raw }
  lines: { type: file, path: a.jsonl }
transforms:
  dec: { type: dlms, inputs: raw }
sinks:
  out: { type: file, inputs: [dec, lines], path: out.jsonl }
)",
                   diags);
  ASSERT_TRUE(spec) << render_all(diags);
  EXPECT_EQ(spec->find("raw")->output_kind, data_kind::bytes);
  EXPECT_EQ(spec->find("lines")->output_kind, data_kind::records);
}

TEST(ConfigLoader, LoadsFilesAndDirectoriesInNameOrder) {
  test::temp_dir dir;
  std::filesystem::create_directory(dir / "conf.d");
  std::ofstream(dir / "conf.d" / "20-sinks.yaml")
      << "sinks:\n  out: { type: file, inputs: [meter], path: o }\n";
  std::ofstream(dir / "conf.d" / "10-sources.yml")
      << "sources:\n  meter: { type: file, path: m }\n";
  std::ofstream(dir / "conf.d" / "notes.txt") << "not yaml: [";
  std::ofstream(dir / "extra.yaml") << "sinks:\n  out2: { type: file, inputs: meter, path: o2 }\n";
  diagnostics diags;
  auto spec = load_pipelines({(dir / "conf.d").string(), (dir / "extra.yaml").string(),
                              (dir / "conf.d" / "10-sources.yml").string()},
                             diags, fixed_env({}));
  ASSERT_TRUE(spec) << render_all(diags);
  ASSERT_EQ(spec->files.size(), 3u) << "a file named twice is loaded once";
  EXPECT_EQ(spec->files[0], (dir / "conf.d" / "10-sources.yml").string());
  EXPECT_EQ(spec->files[1], (dir / "conf.d" / "20-sinks.yaml").string());
  EXPECT_EQ(spec->files[2], (dir / "extra.yaml").string());
  EXPECT_EQ(spec->nodes.size(), 3u);
  EXPECT_EQ(spec->find("out2")->where.file, (dir / "extra.yaml").string());
}

TEST(ConfigLoader, MissingPathAndEmptyDirectoryAreErrors) {
  test::temp_dir dir;
  diagnostics diags;
  auto spec = load_pipelines({(dir / "nope.yaml").string(), dir.path().string()}, diags);
  EXPECT_FALSE(spec);
  auto text = render_all(diags);
  EXPECT_NE(text.find("nope.yaml: error: no such pipeline file or directory"), std::string::npos)
      << text;
  EXPECT_NE(text.find("no *.yaml or *.yml pipeline files in directory"), std::string::npos) << text;
  EXPECT_NE(text.find("hint: give the path of a pipeline file"), std::string::npos) << text;
  EXPECT_NE(text.find("hint: only files ending in .yaml or .yml"), std::string::npos) << text;
  diagnostics none;
  EXPECT_FALSE(load_pipelines({}, none));
  EXPECT_EQ(render_all(none), "error: no pipeline files given\nhint: give one or more pipeline "
                              "files (*.yaml) or directories of them\n");
}

TEST(ConfigLoader, FileWithoutComponentsIsAnError) {
  diagnostics diags;
  EXPECT_FALSE(load("# nothing yet\n", diags));
  EXPECT_EQ(
      render_all(diags),
      "mem.yaml: error: no sources, transforms or sinks defined\nhint: define components "
      "under 'sources:', 'transforms:' and 'sinks:'; 'wattline describe' lists their types\n");
}

TEST(ConfigLoader, StrayCommaOrClosingBracketIsASyntaxErrorNotAnEndlessLoop) {
  // yaml-cpp 0.7's LoadAll loops forever, allocating, on these (jbeder/yaml-cpp#1040).
  for (const char* text : {",ources:\n  meter: { type", ",", "]\n", "}\n", "sources:\n,\n"}) {
    diagnostics diags;
    EXPECT_FALSE(load(text, diags)) << text;
    const auto rendered = render_all(diags);
    EXPECT_NE(rendered.find("error: YAML syntax error"), std::string::npos) << rendered;
    EXPECT_NE(rendered.find("hint: "), std::string::npos) << rendered;
  }
  diagnostics diags;
  EXPECT_FALSE(load(",ources:\n  meter: { type", diags));
  EXPECT_NE(render_all(diags).find("mem.yaml:1:1: error: YAML syntax error: unexpected ','"),
            std::string::npos)
      << render_all(diags);
}

TEST(ConfigLoader, SyntaxErrorOnATabIndentedLineSaysSo) {
  diagnostics diags;
  EXPECT_FALSE(load("sources:\n  gen:\n\ttype: generator\n", diags));
  const auto text = render_all(diags);
  EXPECT_NE(text.find("error: YAML syntax error"), std::string::npos) << text;
  EXPECT_NE(text.find("hint: this line is indented with a tab"), std::string::npos) << text;
}

TEST(ConfigLoader, EngineSectionMergesKeysFromSeveralFiles) {
  diagnostics diags;
  auto spec = load_pipeline_texts(
      {{"a.yaml", "engine:\n  log_level: debug\n  status_address: off\nsources:\n  g: { type: "
                  "generator }\n"},
       {"b.yaml", "engine:\n  data_dir: /tmp/w\n  shutdown_timeout_secs: 3\nsinks:\n  f: { type: "
                  "file, inputs: g, path: p }\n"}},
      diags, fixed_env({}));
  ASSERT_TRUE(spec) << render_all(diags);
  EXPECT_EQ(spec->engine.log_level, "debug");
  EXPECT_EQ(spec->engine.status_address, "");
  EXPECT_EQ(spec->engine.data_dir, "/tmp/w");
  EXPECT_EQ(spec->engine.shutdown_timeout_secs, 3);
  EXPECT_EQ(spec->engine.where.file, "a.yaml");
  EXPECT_EQ(spec->engine.where.line, 1);
}

TEST(ConfigLoader, EngineDefaultsWhenAbsent) {
  diagnostics diags;
  auto spec = load(minimal, diags);
  ASSERT_TRUE(spec);
  engine_settings defaults;
  EXPECT_EQ(spec->engine.log_level, defaults.log_level);
  EXPECT_EQ(spec->engine.status_address, defaults.status_address);
  EXPECT_EQ(spec->engine.data_dir, defaults.data_dir);
  EXPECT_EQ(spec->engine.shutdown_timeout_secs, defaults.shutdown_timeout_secs);
  EXPECT_FALSE(spec->engine.where.known());
}

TEST(ConfigLoader, EngineKeySetInTwoFilesPointsAtBoth) {
  diagnostics diags;
  auto spec = load_pipeline_texts(
      {{"a.yaml", "engine: { log_level: debug }\nsources:\n  g: { type: generator }\n"},
       {"b.yaml", "engine:\n  log_level: info\nsinks:\n  f: { type: file, inputs: g, path: p }\n"}},
      diags, fixed_env({}));
  EXPECT_FALSE(spec);
  ASSERT_EQ(diags.items().size(), 1u) << render_all(diags);
  const auto& d = diags.items()[0];
  EXPECT_EQ(d.message, "engine setting 'log_level' is set in more than one file");
  EXPECT_EQ(d.where, (source_location{"b.yaml", 2, 3}));
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_EQ(d.notes[0].where, (source_location{"a.yaml", 1, 11}));
}

TEST(ConfigLoader, EngineStatusAddressMustBeHostAndPort) {
  diagnostics diags;
  EXPECT_FALSE(load("engine: { status_address: localhost }\n", diags));
  EXPECT_NE(render_all(diags).find("expected host:port, got 'localhost'"), std::string::npos);
  diagnostics ok;
  auto spec = load("engine: { status_address: \"\" }\nsources:\n  g: { type: generator }\n"
                   "sinks:\n  f: { type: file, inputs: g, path: p }\n",
                   ok);
  ASSERT_TRUE(spec) << render_all(ok);
  EXPECT_EQ(spec->engine.status_address, "");
}

TEST(ConfigLoader, SupervisionOverridesDefaults) {
  diagnostics diags;
  auto spec = load(R"(
sources:
  g:
    type: generator
    supervision: { initial_backoff_ms: 50, max_restarts: 2, on_failure: shutdown }
  h: { type: generator }
sinks:
  f: { type: file, inputs: [g, h], path: p, supervision: { on_failure: stop, window_secs: 5 } }
)",
                   diags);
  ASSERT_TRUE(spec) << render_all(diags);
  const auto& g = spec->find("g")->supervision;
  EXPECT_EQ(g.initial_backoff_ms, 50);
  EXPECT_EQ(g.max_restarts, 2);
  EXPECT_EQ(g.max_backoff_ms, 30000);
  EXPECT_EQ(g.on_failure, failure_policy::shutdown);
  EXPECT_EQ(spec->find("f")->supervision.on_failure, failure_policy::stop);
  EXPECT_EQ(spec->find("f")->supervision.window_secs, 5);
  supervision_policy defaults;
  EXPECT_EQ(spec->find("h")->supervision.max_restarts, defaults.max_restarts);
  EXPECT_EQ(spec->find("h")->supervision.on_failure, defaults.on_failure);
}

TEST(ConfigLoader, SupervisionIsValidatedLikeOptions) {
  diagnostics diags;
  EXPECT_FALSE(load(R"(
sources:
  g:
    type: generator
    supervision: { on_failure: panic, max_restart: 3, initial_backoff_ms: 500, max_backoff_ms: 100 }
sinks:
  f: { type: file, inputs: g, path: p }
)",
                    diags));
  auto text = render_all(diags);
  EXPECT_NE(text.find("invalid value for supervision setting 'on_failure': got 'panic'"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("allowed values: restart, stop, shutdown"), std::string::npos) << text;
  EXPECT_NE(text.find("unknown supervision setting 'max_restart'"), std::string::npos) << text;
  EXPECT_NE(text.find("did you mean 'max_restarts'?"), std::string::npos) << text;
  EXPECT_NE(text.find("'initial_backoff_ms' (500) is larger than 'max_backoff_ms' (100)"),
            std::string::npos)
      << text;
  // A default on one side counts too.
  diagnostics d2;
  EXPECT_FALSE(load("sources:\n  g:\n    type: generator\n    supervision: { max_backoff_ms: 50 "
                    "}\nsinks:\n  f: { type: file, inputs: g, path: p }\n",
                    d2));
  EXPECT_NE(render_all(d2).find("'initial_backoff_ms' (100) is larger than 'max_backoff_ms' (50)"),
            std::string::npos)
      << render_all(d2);
}

TEST(ConfigLoader, ConfigTextIsCanonicalAndIgnoresKeyOrderAndStyle) {
  diagnostics d1, d2;
  auto a = load("sources:\n  g: { type: generator, count: 3, interval_ms: 10 }\nsinks:\n  f: { "
                "type: file, inputs: g, path: p }\n",
                d1);
  auto b = load("sources:\n  g:\n    interval_ms: \"10\"\n    count: 3\n    type: generator\n"
                "sinks:\n  f: { type: file, inputs: g, path: p }\n",
                d2);
  ASSERT_TRUE(a && b) << render_all(d1) << render_all(d2);
  EXPECT_EQ(a->find("g")->config_text, b->find("g")->config_text);
  EXPECT_EQ(a->find("g")->config_text, "{count: 3, interval_ms: 10, type: generator}");
  EXPECT_NE(a->find("g")->config_text, a->find("f")->config_text);
}

TEST(ConfigLoader, ConfigTextHoldsSubstitutedValuesForReloadDiffs) {
  diagnostics d1, d2;
  const char* yaml = "sources:\n  g: { type: generator }\nsinks:\n  m: { type: mqtt, inputs: g, "
                     "broker: b, topic: t, password: \"${PW}\" }\n";
  auto a = load(yaml, d1, {{"PW", "one"}});
  auto b = load(yaml, d2, {{"PW", "two"}});
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->find("m")->config_text, b->find("m")->config_text);
  EXPECT_EQ(a->find("m")->opts.str("password"), "one");
}

TEST(ConfigLoader, CheckHookReportsNestedProblemsAtTheirLocation) {
  diagnostics diags;
  EXPECT_FALSE(load(R"(
sources:
  g: { type: generator }
sinks:
  db:
    type: influxdb
    inputs: g
    url: u
    bucket: b
    tags:
      site: home
      floor: [1, 2]
)",
                    diags));
  ASSERT_EQ(diags.items().size(), 1u) << render_all(diags);
  EXPECT_EQ(diags.items()[0].message, "tag 'floor' must have a plain value");
  EXPECT_EQ(diags.items()[0].where, (source_location{"mem.yaml", 12, 14}));
}

TEST(ConfigLoader, CheckHookStillReportsWhenOtherOptionsAreWrong) {
  diagnostics diags;
  EXPECT_FALSE(load("sources:\n  g: { type: generator }\nsinks:\n  db: { type: influxdb, inputs: "
                    "g, url: u, tags: [x] }\n",
                    diags));
  auto text = render_all(diags);
  // Every error in one run: the declared-option error and the component's own check.
  EXPECT_NE(text.find("missing required option 'bucket'"), std::string::npos) << text;
  EXPECT_NE(text.find("'tags' must be a map"), std::string::npos) << text;
}

TEST(ConfigLoader, HiddenComponentsLoadButAreNotSuggested) {
  diagnostics diags;
  auto spec = load("sources:\n  g: { type: generator }\nsinks:\n  c: { type: capture, inputs: g "
                   "}\n  x: { type: captur, inputs: g }\n",
                   diags);
  EXPECT_FALSE(spec);
  auto text = render_all(diags);
  EXPECT_NE(text.find("unknown sink type 'captur'"), std::string::npos) << text;
  EXPECT_EQ(text.find("did you mean 'capture'"), std::string::npos) << text;
  EXPECT_EQ(text.find("capture,"), std::string::npos) << text;
}

TEST(ConfigLoader, TypeOfAnotherRoleGetsAPlacementHint) {
  diagnostics diags;
  EXPECT_FALSE(load("sources:\n  m: { type: mqtt }\n", diags));
  EXPECT_NE(render_all(diags).find("hint: 'mqtt' is a sink type; put it under 'sinks'"),
            std::string::npos)
      << render_all(diags);
}

TEST(ConfigLoader, DetectsDuplicateKeysThatYamlCppAcceptsSilently) {
  // Regression guard: yaml-cpp 0.7 keeps both entries when iterating; operator[] sees only one.
  diagnostics diags;
  EXPECT_FALSE(load("sources:\n  g: { type: generator, count: 1, count: 2 }\n", diags));
  ASSERT_EQ(test::count(diags, severity::error), 1u) << render_all(diags);
  const auto& d = *std::find_if(diags.items().begin(), diags.items().end(),
                                [](auto& x) { return x.level == severity::error; });
  EXPECT_EQ(d.message, "duplicate key 'count'");
  EXPECT_EQ(d.where, (source_location{"mem.yaml", 2, 35}));
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_EQ(d.notes[0].level, severity::note);
  EXPECT_EQ(d.notes[0].where, (source_location{"mem.yaml", 2, 25}));
}

TEST(ConfigLoader, MalformedYamlNeverThrows) {
  const char* cases[] = {
      "sources: [",
      "sources:\n  a: { type: file\n",
      "- just\n- a list\n",
      "sources: 3\n",
      "sources:\n  a: 3\n",
      "sources:\n  ? [a, b]\n  : x\n",
      "sinks:\n  s: {}\n",
      "sources:\n  a:\n",
      "sources:\n  a: { type: [x] }\n",
      "a: 1\n---\nb: 2\n",
      "engine: [1]\n",
      "sinks:\n  s: { inputs: {a: 1} }\n",
      "\t- tab\n",
      "{{{{",
      "sources: { \"a b\": { type: generator } }\n",
      "sources:\n  g: { type: generator, supervision: 5 }\n",
  };
  for (const char* text : cases) {
    diagnostics diags;
    std::optional<pipeline_spec> spec;
    EXPECT_NO_THROW(spec = load(text, diags)) << text;
    EXPECT_FALSE(spec) << text;
    EXPECT_TRUE(diags.has_errors()) << text;
  }
}

TEST(ConfigLoader, SurvivesRandomlyCorruptedFiles) {
  // A cheap fuzz pass: byte flips, deletions and insertions of YAML punctuation into a valid
  // file must never throw, and a failed load must always say why.
  const std::string base = minimal;
  const std::string alphabet = ":-{}[],&*!|>'\"#%@`?$ \n\t";
  uint32_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  for (int round = 0; round < 1500; ++round) {
    std::string text = base;
    for (int edits = 1 + static_cast<int>(next() % 4); edits > 0; --edits) {
      auto pos = next() % text.size();
      switch (next() % 3) {
      case 0:
        text[pos] = alphabet[next() % alphabet.size()];
        break;
      case 1:
        text.erase(pos, 1 + next() % 8);
        break;
      default:
        text.insert(pos, 1, alphabet[next() % alphabet.size()]);
      }
    }
    diagnostics diags;
    std::optional<pipeline_spec> spec;
    ASSERT_NO_THROW(spec = load(text, diags, {{"X", "1"}})) << text;
    if (!spec) {
      ASSERT_TRUE(diags.has_errors()) << text;
    }
  }
}

TEST(ConfigLoader, ThrowingCheckHookBecomesADiagnostic) {
  component_registry reg;
  reg.add({.type = "strict",
           .role = component_role::source,
           .output = data_kind::records,
           .options = {{.name = "limit", .type = option_type::any}},
           // Careless component code: as<T>() on whatever is there.
           .check = [](const YAML::Node& node, const options&, const std::string&, diagnostics&) {
             (void)node["limit"].as<int>();
           }});
  diagnostics diags;
  auto spec = load_pipeline_texts({{"mem.yaml", "sources:\n  s: { type: strict, limit: lots }\n"}},
                                  diags, fixed_env({}), reg);
  EXPECT_FALSE(spec);
  ASSERT_EQ(test::count(diags, severity::error), 1u) << render_all(diags);
  const auto& d = diags.items().back();
  EXPECT_EQ(d.message, "invalid settings for source type 'strict': bad conversion");
  EXPECT_EQ(d.where, (source_location{"mem.yaml", 2, 29}));
}

TEST(ConfigLoader, ReportsAllErrorsOfAFileInOneRun) {
  diagnostics diags;
  EXPECT_FALSE(load(R"(
sources:
  g: { type: generator, interval_ms: 0, colour: red }
sinks:
  m: { type: mqtt, inputs: [g], topic: t, qos: high }
  n: { type: nope, inputs: [g] }
)",
                    diags));
  EXPECT_EQ(count(diags, severity::error), 5u) << render_all(diags);
}

TEST(ConfigLoader, WarningsAloneStillGiveASpec) {
  diagnostics diags;
  auto spec = load("sources:\n  g: { type: generator }\n  unused: { type: generator }\nsinks:\n"
                   "  f: { type: file, inputs: g, path: p }\n",
                   diags);
  ASSERT_TRUE(spec);
  EXPECT_EQ(count(diags, severity::warning), 1u);
  EXPECT_FALSE(diags.has_errors());
}

TEST(ConfigLoader, EarlierErrorsInTheCollectorDoNotFailALaterLoad) {
  diagnostics diags;
  diags.error("unrelated", {});
  EXPECT_TRUE(load(minimal, diags));
}

TEST(ConfigLoader, ConfigErrorExitCodeIsExConfig) {
  EXPECT_EQ(exit_config_error, 78);
}

} // namespace
} // namespace wattline
