// `fail` transform (test-only, hidden): passes records through and fails on demand, to prove
// supervision. It fails when its trigger file exists (the file is removed first, so each
// creation causes one failure), and optionally on every Nth batch.

#include "engine/component.hpp"
#include "engine/node_api.hpp"
#include "engine/pipeline_spec.hpp"

#include <filesystem>
#include <stdexcept>

namespace wattline::transforms {
namespace {

class fail_instance final : public component_instance {
public:
  explicit fail_instance(const node_spec& spec)
      : trigger_(spec.opts.str("trigger_file")), every_(spec.opts.integer("fail_every_batches")),
        fail_on_start_(spec.opts.boolean("fail_on_start")) {}

  void start(node_context& ctx) override {
    if (fail_on_start_)
      ctx.fail("injected", "failing on start as configured");
  }

  bool on_batch(batch& b, node_context& ctx) override {
    ++seen_;
    std::error_code ec;
    if (!trigger_.empty() && std::filesystem::remove(trigger_, ec))
      throw std::runtime_error("injected failure (trigger file " + trigger_ + ")");
    if (every_ > 0 && seen_ % every_ == 0) {
      ctx.fail("injected", "injected failure at batch " + std::to_string(seen_));
      return true;
    }
    ctx.emit(std::move(b));
    return true;
  }

private:
  std::string trigger_;
  int64_t every_;
  bool fail_on_start_;
  int64_t seen_ = 0;
};

component_descriptor describe_fail() {
  component_descriptor d;
  d.type = "fail";
  d.role = component_role::transform;
  d.summary = "Test-only: passes records through and fails on demand.";
  d.input = data_kind::records;
  d.output = data_kind::records;
  d.hidden = true;
  d.options = {
      {.name = "trigger_file", .doc = "Fail once each time this file exists (it is removed)."},
      {.name = "fail_every_batches",
       .type = option_type::integer,
       .doc = "Fail on every Nth batch (0: never).",
       .default_value = "0",
       .min = 0},
      {.name = "fail_on_start",
       .type = option_type::boolean,
       .doc = "Fail when starting.",
       .default_value = "false"},
  };
  d.make = [](const node_spec& s) { return std::make_unique<fail_instance>(s); };
  return d;
}

} // namespace
} // namespace wattline::transforms

WATTLINE_REGISTER_COMPONENT(wattline::transforms::describe_fail)
