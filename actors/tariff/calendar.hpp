#pragma once

// The tariff calendar: maps a UTC instant to the segment of time around it in which tariff,
// prices and local day are all constant. The weekly schedule is precomputed into day templates
// (one per pair of previous-day type and day type); a day is turned into UTC segments once, with
// the tz lookups that needs, and kept in a small cache, so a lookup inside a cached day does no
// tz lookup and a lookup inside the previous segment is a pair of comparisons.

#include "actors/tariff/config.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace wattline::tariff {

/// A maximal interval [begin_ns, end_ns) of UTC time with one tariff, one pair of prices and one
/// local calendar day.
struct segment {
  int64_t begin_ns = 0;
  int64_t end_ns = 0;
  /// Index into tariff_config::tariffs.
  uint32_t tariff = 0;
  /// Local calendar day, days since 1970-01-01 (date::local_days).
  int32_t day = 0;
  /// Price per kWh imported, in the configured currency.
  double import_price = 0;
  /// Price per kWh exported; 0 when the tariff has no export price.
  double export_price = 0;

  [[nodiscard]] bool contains(int64_t t_ns) const { return begin_ns <= t_ns && t_ns < end_ns; }
  friend bool operator==(const segment&, const segment&) = default;
};

/// Tariff calendar for one configuration. Not thread-safe (lookups update the cache).
class calendar {
public:
  /// Precomputes the day templates of `cfg`; `cfg` must outlive the calendar.
  explicit calendar(const tariff_config& cfg);

  /// The segment that contains `t_ns` (UTC nanoseconds since the epoch).
  const segment& at(int64_t t_ns);

  /// UTC start of local day `day` (days since 1970-01-01), in nanoseconds.
  [[nodiscard]] int64_t day_start_ns(int32_t day) const;

  /// The day type of local day `day`, with holidays applied.
  [[nodiscard]] day_type type_of(int32_t day) const;

  /// Number of days turned into segments so far (cache misses), for tests and benchmarks.
  [[nodiscard]] uint64_t days_built() const { return days_built_; }

private:
  /// Start (seconds after local midnight) and tariff of one piece of a day template.
  struct piece {
    int start_s;
    uint32_t tariff;
  };
  struct day_plan {
    int32_t day = 0;
    int64_t begin_ns = 0;
    int64_t end_ns = 0;
    std::vector<segment> segments;
  };

  void build_templates();
  [[nodiscard]] std::vector<piece> make_template(day_type prev, day_type type) const;
  void build(int32_t day, day_plan& out);
  [[nodiscard]] int32_t local_day_of(int64_t t_ns) const;

  const tariff_config& cfg_;
  /// Indexed by prev * day_type_count + type.
  std::array<std::vector<piece>, day_type_count * day_type_count> templates_;
  static constexpr std::size_t cache_size = 4;
  std::array<day_plan, cache_size> cache_;
  std::size_t cache_used_ = 0;
  std::size_t cache_next_ = 0;
  /// The last segment returned: cache slot and index.
  std::size_t last_plan_ = 0;
  std::size_t last_segment_ = 0;
  bool has_last_ = false;
  uint64_t days_built_ = 0;
};

} // namespace wattline::tariff
