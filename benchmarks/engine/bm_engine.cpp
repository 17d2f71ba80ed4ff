// End-to-end engine throughput: records per second from a jsonl `file` source through two
// pass-through `tag` transforms into a `blackhole` sink, in-process on the real runtime, for
// several batch sizes (which is also the actor messaging cost per batch: one message per batch
// per edge, plus one acknowledgement).

#include "engine/config/loader.hpp"
#include "engine/runtime/graph.hpp"
#include "engine/runtime/messages.hpp"
#include "engine/status/metrics.hpp"

#include <benchmark/benchmark.h>
#include <caf/all.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace {

using namespace wattline;

const std::filesystem::path& input_file() {
  static const std::filesystem::path path = [] {
    auto p = std::filesystem::temp_directory_path() / "wattline-bm-engine.jsonl";
    std::ofstream out(p, std::ios::trunc);
    for (int i = 0; i < 200000; ++i)
      out << R"({"name":"smartmeter","time":"2026-03-01T00:00:00.)" << 100000 + i % 899999
          << R"(Z","tags":{"meter":"LGZ1030000004242"},"fields":{"ACTIVE_POWER_P":)" << i
          << R"(,"ACTIVE_ENERGY_P":)" << 6226327 + i << R"(,"VOLTAGE_L1":230.1,"CURRENT_L1":1.65}})"
          << '\n';
    return p;
  }();
  return path;
}

pipeline_spec make_spec(int64_t batch_size) {
  diagnostics diags;
  auto yaml = "sources:\n  in:\n    type: file\n    format: jsonl\n    progress: false\n"
              "    path: " +
              input_file().string() + "\n    batch_size: " + std::to_string(batch_size) +
              "\ntransforms:\n  a:\n    type: tag\n    inputs: [in]\n    tags: { site: home }\n"
              "  b:\n    type: tag\n    inputs: [a]\n    tags: { floor: ground }\n"
              "sinks:\n  out:\n    type: blackhole\n    inputs: [b]\n";
  auto spec = load_pipeline_texts({{"bench.yaml", yaml}}, diags);
  if (!spec) {
    for (const auto& d : diags.items())
      std::fputs(render(d).c_str(), stderr);
    std::abort();
  }
  return *spec;
}

void BM_EndToEndFileToBlackhole(benchmark::State& state) {
  auto spec = make_spec(state.range(0));
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  uint64_t records = 0;
  for (auto _ : state) {
    status::metrics_registry registry;
    auto stats = runtime::make_stats(registry, spec);
    caf::scoped_actor self{sys};
    auto graph = runtime::spawn_graph(sys, spec, self, stats);
    self->receive([](runtime::finished_atom, int) {});
    records += stats.back()->records_in.value();
  }
  state.counters["records_per_sec"] =
      benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EndToEndFileToBlackhole)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(5000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

} // namespace

BENCHMARK_MAIN();
