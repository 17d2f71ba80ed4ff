// `tariff` transform: adds the active tariff and price to every record, turns cumulative energy
// counters into energy and cost per record (split exactly at tariff boundaries, DST-correct),
// and emits `energy_cost` totals per meter, tariff, day and month. The core is
// actors/tariff/tariff.hpp; totals persist in the engine's data directory.

#include "actors/tariff/config.hpp"
#include "actors/tariff/tariff.hpp"
#include "engine/component.hpp"
#include "engine/node_api.hpp"
#include "engine/pipeline_spec.hpp"
#include "engine/yaml_location.hpp"

#include <algorithm>

namespace wattline::transforms {
namespace {

constexpr uint64_t save_token = 1;
constexpr auto save_interval = std::chrono::seconds(60);

class tariff_instance final : public component_instance {
public:
  explicit tariff_instance(const node_spec& spec) : spec_(spec) {}

  void start(node_context& ctx) override {
    diagnostics diags;
    auto cfg = tariff::parse_tariff_config(spec_.opts.raw(), spec_.opts.file(), diags);
    if (!cfg) {
      ctx.fail("config", "tariff configuration rejected at start");
      return;
    }
    engine_ = std::make_unique<tariff::tariff_engine>(
        std::move(*cfg), std::filesystem::path(ctx.data_dir()) / "tariff", ctx.id());
    if (!engine_->state_error().empty())
      ctx.error("state", engine_->state_error());
    ctx.schedule(save_interval, save_token);
  }

  bool on_batch(batch& b, node_context& ctx) override {
    std::vector<record> closed;
    for (auto& r : b.records) {
      auto periods = engine_->process(r);
      closed.insert(closed.end(), std::make_move_iterator(periods.begin()),
                    std::make_move_iterator(periods.end()));
    }
    if (!closed.empty()) {
      b.records.insert(b.records.end(), std::make_move_iterator(closed.begin()),
                       std::make_move_iterator(closed.end()));
      save(ctx);
    }
    ctx.emit(std::move(b));
    return true;
  }

  void on_timer(uint64_t, node_context& ctx) override {
    if (engine_->dirty())
      save(ctx);
    ctx.schedule(save_interval, save_token);
  }

  bool on_eof(node_context& ctx) override {
    save(ctx);
    return true;
  }

private:
  void save(node_context& ctx) {
    if (auto r = engine_->save(); !r.ok)
      ctx.error("state", r.error);
  }

  node_spec spec_;
  std::unique_ptr<tariff::tariff_engine> engine_;
};

component_descriptor describe_tariff() {
  component_descriptor d;
  d.type = "tariff";
  d.role = component_role::transform;
  d.summary = "Adds tariff and price to records, computes energy cost split exactly at tariff "
              "boundaries, and emits daily and monthly energy_cost totals.";
  d.input = data_kind::records;
  d.output = data_kind::records;
  d.blocking_io = true;
  // Top-level options come from the core; nested ones are checked by its parser.
  d.options = tariff::tariff_option_specs();
  d.check = [](const YAML::Node& node, const options&, const std::string& file,
               diagnostics& diags) {
    diagnostics own;
    (void)tariff::parse_tariff_config(node, file, own);
    // Unknown and duplicate top-level keys are already reported by the loader.
    std::vector<source_location> top_keys;
    for (auto it = node.begin(); it != node.end(); ++it)
      top_keys.push_back(location_of(it->first, file));
    for (const auto& item : own.items()) {
      bool at_top_key = std::find(top_keys.begin(), top_keys.end(), item.where) != top_keys.end();
      bool loader_reports = item.message.rfind("unknown tariff option", 0) == 0 ||
                            item.message.rfind("duplicate key", 0) == 0;
      if (!(at_top_key && loader_reports))
        diags.items_mutable().push_back(item);
    }
  };
  d.make = [](const node_spec& s) { return std::make_unique<tariff_instance>(s); };
  return d;
}

} // namespace
} // namespace wattline::transforms

WATTLINE_REGISTER_COMPONENT(wattline::transforms::describe_tariff)
