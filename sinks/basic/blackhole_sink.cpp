// `blackhole` sink: counts and discards records. For benchmarks and for trying pipelines; with
// `delay_ms` it takes one batch per delay, which makes it a slow sink for backpressure tests.

#include "engine/component.hpp"
#include "engine/node_api.hpp"
#include "engine/pipeline_spec.hpp"

namespace wattline::sinks {
namespace {

class blackhole_instance final : public component_instance {
public:
  explicit blackhole_instance(const node_spec& spec) : delay_ms_(spec.opts.integer("delay_ms")) {}

  bool on_batch(batch&, node_context& ctx) override {
    if (delay_ms_ <= 0)
      return true;
    if (busy_)
      return false;
    busy_ = true;
    ctx.schedule(std::chrono::milliseconds(delay_ms_), 0);
    return true;
  }

  void on_timer(uint64_t, node_context& ctx) override {
    busy_ = false;
    ctx.ready();
  }

private:
  int64_t delay_ms_;
  bool busy_ = false;
};

component_descriptor describe_blackhole() {
  component_descriptor d;
  d.type = "blackhole";
  d.role = component_role::sink;
  d.summary = "Counts and discards records (benchmarks, trials, backpressure tests).";
  d.input = data_kind::records;
  d.options = {
      {.name = "delay_ms",
       .type = option_type::integer,
       .doc = "Accept at most one batch per this many milliseconds (0: no delay).",
       .default_value = "0",
       .min = 0,
       .max = 60000},
  };
  d.make = [](const node_spec& s) { return std::make_unique<blackhole_instance>(s); };
  return d;
}

} // namespace
} // namespace wattline::sinks

WATTLINE_REGISTER_COMPONENT(wattline::sinks::describe_blackhole)
