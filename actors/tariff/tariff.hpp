#pragma once

// The tariff transform's pure core (no CAF): annotates records with the active tariff and price,
// turns cumulative energy counters into per-record energy and cost (split exactly at tariff
// boundaries), and keeps totals per meter, tariff, local day and local month, emitted as
// `energy_cost` records when a period closes and persisted in the data directory.
//
// Time comes only from the records (`record::time_ns`); the core never reads the clock.
//
// Fields added to every record (see README.md):
//   tariff             string  active tariff at the record's time
//   price              double  import price per kWh at that time (unit "<currency>/kWh")
//   price_export       double  export price per kWh (only when some tariff has an export price)
// Added when the record carries the import / export counter and a previous value of the same
// meter is known:
//   energy_import_kwh  double  imported energy since the previous record (kWh)
//   cost_import        double  its cost, each part at the price of its tariff segment
//   energy_export_kwh  double  exported energy since the previous record (kWh)
//   credit_export      double  its credit at the export prices
//   counter_reset      bool    true when a counter went backwards (reset or rollover); the
//                              delta of that counter is then 0

#include "actors/tariff/calendar.hpp"
#include "actors/tariff/config.hpp"
#include "engine/record.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace wattline::tariff {

/// Energy inside the engine is an integer count of 1e-9 kWh (micro-watt-hours), so that the parts
/// of a split delta and the totals add up exactly.
inline constexpr double units_per_kwh = 1e9;

/// Converts a counter reading in kWh to energy units (rounded to the nearest unit).
int64_t kwh_to_units(double kwh);

/// One part of an energy delta, inside one calendar segment.
struct split_part {
  int64_t begin_ns = 0;
  int64_t end_ns = 0;
  uint32_t tariff = 0;
  int32_t day = 0;
  double price = 0;
  /// Energy in units of 1e-9 kWh; the parts of a split sum exactly to the delta.
  int64_t energy = 0;

  [[nodiscard]] double kwh() const { return static_cast<double>(energy) / units_per_kwh; }
  [[nodiscard]] double cost() const { return kwh() * price; }
};

/// Totals of one tariff within one period.
struct tariff_totals {
  int64_t import_energy = 0; ///< units of 1e-9 kWh
  int64_t export_energy = 0; ///< units of 1e-9 kWh
  double cost_import = 0;
  double credit_export = 0;
  /// True once any time of this tariff fell into the period.
  bool used = false;

  friend bool operator==(const tariff_totals&, const tariff_totals&) = default;
};

/// The open (not yet closed) period of one meter: a local day or a local month.
struct open_period {
  /// Local day number (days since 1970-01-01) or month number (year * 12 + month - 1);
  /// `none` while no period is open.
  int32_t key = none;
  /// Indexed like tariff_engine::tariff_names().
  std::vector<tariff_totals> tariffs;

  static constexpr int32_t none = INT32_MIN;
  friend bool operator==(const open_period&, const open_period&) = default;
};

/// Last reading of one cumulative counter.
struct counter_state {
  bool known = false;
  int64_t time_ns = 0;
  int64_t value = 0; ///< units of 1e-9 kWh

  friend bool operator==(const counter_state&, const counter_state&) = default;
};

/// Everything the engine remembers about one meter.
struct meter_state {
  counter_state import_counter;
  counter_state export_counter;
  open_period day;
  open_period month;

  friend bool operator==(const meter_state&, const meter_state&) = default;
};

/// Result of a state file operation.
struct io_result {
  bool ok = true;
  /// Human-readable error when !ok.
  std::string error;
};

/// The tariff transform core. Not thread-safe: one engine per actor.
class tariff_engine {
public:
  /// Builds the engine for `cfg` and loads the state file `state_dir/<instance>.tariff.json` when
  /// it exists. An empty `state_dir` keeps state in memory only. A corrupt state file is renamed
  /// to `<file>.bad`, the engine starts with empty totals and state_error() says so.
  tariff_engine(tariff_config cfg, std::filesystem::path state_dir,
                std::string instance = "tariff");

  /// Annotates `rec` in place (see the field list at the top of this header) and returns the
  /// `energy_cost` records of the periods that closed because of it, days before months.
  std::vector<record> process(record& rec);

  /// Writes the state file: temporary file, fsync, rename. Call it after process() returned
  /// closed periods, periodically, and on shutdown. Does nothing without a state directory.
  io_result save();

  /// True when the state changed since the last load or save.
  [[nodiscard]] bool dirty() const { return dirty_; }

  /// Empty, or why the state file could not be loaded (then the engine started fresh).
  [[nodiscard]] const std::string& state_error() const { return state_error_; }

  /// Path of the state file; empty without a state directory.
  [[nodiscard]] const std::filesystem::path& state_path() const { return state_path_; }

  /// Splits `energy` (units of 1e-9 kWh) consumed between `t0_ns` and `t1_ns` pro rata by time
  /// over the calendar segments, at import (`exported` false) or export prices. The parts sum
  /// exactly to `energy`; the rounding remainder goes to the last part. t1 == t0 gives one part.
  std::vector<split_part> split(int64_t t0_ns, int64_t t1_ns, int64_t energy, bool exported);

  /// Tariff names: those of the configuration, then names only found in the state file.
  [[nodiscard]] const std::vector<std::string>& tariff_names() const { return tariff_names_; }

  /// The state of meter `meter`, or nullptr when it has not been seen.
  [[nodiscard]] const meter_state* meter(const std::string& meter) const;

  [[nodiscard]] const tariff_config& config() const { return *cfg_; }
  [[nodiscard]] calendar& schedule() { return *calendar_; }

private:
  void load();
  void split_into(int64_t t0_ns, int64_t t1_ns, int64_t energy, bool exported,
                  std::vector<split_part>& parts);
  void add_part(const std::string& meter, meter_state& st, const split_part& p, bool exported,
                std::vector<record>& out);
  void advance(const std::string& meter, meter_state& st, int32_t day, std::vector<record>& out);
  void close(const std::string& meter, open_period& p, bool month, std::vector<record>& out);
  std::size_t tariff_index(const std::string& name);

  // The config lives on the heap so that the calendar's reference stays valid when the engine
  // is moved.
  std::unique_ptr<tariff_config> cfg_;
  std::unique_ptr<calendar> calendar_;
  std::vector<std::string> tariff_names_;
  std::unordered_map<std::string, meter_state> meters_;
  std::filesystem::path state_path_;
  std::string state_error_;
  std::string price_unit_;
  const std::string kwh_unit_ = "kWh";
  const std::string no_unit_;
  bool any_export_price_ = false;
  bool dirty_ = false;
  // Scratch buffers reused by process(), so a record allocates nothing for its split.
  std::vector<split_part> import_parts_;
  std::vector<split_part> export_parts_;
};

} // namespace wattline::tariff
