#include "actors/tariff/calendar.hpp"

#include <date/tz.h>

#include <algorithm>
#include <chrono>

namespace wattline::tariff {

namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;

constexpr int64_t ns_per_s = 1'000'000'000;

/// UTC nanoseconds of a local time; a time that occurs twice (autumn) means the first
/// occurrence, one that does not exist (spring) means the moment the clocks jump.
int64_t to_utc_ns(const date::time_zone& zone, date::local_seconds local) {
  auto sys = zone.to_sys(local, date::choose::earliest);
  return static_cast<int64_t>(sys.time_since_epoch().count()) * ns_per_s;
}

/// Prices of tariff `t` on local day `day`.
std::pair<double, double> prices_on(const tariff_def& t, date::local_days day) {
  double imp = t.import_price, exp = t.export_price;
  for (const auto& c : t.changes) {
    if (c.from > day)
      break;
    imp = c.import_price;
    exp = c.export_price;
  }
  return {imp, exp};
}

} // namespace

calendar::calendar(const tariff_config& cfg) : cfg_(cfg) {
  build_templates();
}

void calendar::build_templates() {
  for (int p = 0; p < day_type_count; ++p)
    for (int t = 0; t < day_type_count; ++t)
      templates_[p * day_type_count + t] =
          make_template(static_cast<day_type>(p), static_cast<day_type>(t));
}

std::vector<calendar::piece> calendar::make_template(day_type prev, day_type type) const {
  // Elementary intervals between all range edges; each gets the tariff of a range of the day
  // itself, else of the after-midnight part of a range of the previous day, else the default.
  const auto type_bit = 1u << static_cast<int>(type);
  const auto prev_bit = 1u << static_cast<int>(prev);
  std::vector<int> edges{0, seconds_per_day};
  for (const auto& r : cfg_.ranges) {
    if (r.days & type_bit) {
      edges.push_back(r.from_s);
      edges.push_back(r.crosses_midnight() ? seconds_per_day : r.to_s);
    }
    if ((r.days & prev_bit) && r.crosses_midnight())
      edges.push_back(r.to_s);
  }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  std::vector<piece> out;
  for (std::size_t i = 0; i + 1 < edges.size(); ++i) {
    int a = edges[i], b = edges[i + 1];
    auto tariff = static_cast<uint32_t>(cfg_.default_tariff);
    bool own = false;
    for (const auto& r : cfg_.ranges)
      if ((r.days & type_bit) && a >= r.from_s &&
          b <= (r.crosses_midnight() ? seconds_per_day : r.to_s)) {
        tariff = static_cast<uint32_t>(r.tariff);
        own = true;
        break;
      }
    if (!own)
      for (const auto& r : cfg_.ranges)
        if ((r.days & prev_bit) && r.crosses_midnight() && b <= r.to_s) {
          tariff = static_cast<uint32_t>(r.tariff);
          break;
        }
    if (out.empty() || out.back().tariff != tariff)
      out.push_back({a, tariff});
  }
  return out;
}

day_type calendar::type_of(int32_t day) const {
  date::local_days d{date::days{day}};
  if (cfg_.is_holiday(d))
    return cfg_.holiday_as;
  // ISO encoding: Monday 1 ... Sunday 7.
  return static_cast<day_type>(date::weekday{d}.iso_encoding() - 1);
}

int64_t calendar::day_start_ns(int32_t day) const {
  return to_utc_ns(*cfg_.zone, date::local_seconds{date::local_days{date::days{day}}});
}

int32_t calendar::local_day_of(int64_t t_ns) const {
  // Floor division so instants before the epoch land in the right second.
  int64_t s = t_ns / ns_per_s - ((t_ns % ns_per_s) < 0 ? 1 : 0);
  auto local = cfg_.zone->to_local(date::sys_seconds{seconds{s}});
  return static_cast<int32_t>(date::floor<date::days>(local).time_since_epoch().count());
}

void calendar::build(int32_t day, day_plan& out) {
  ++days_built_;
  const date::local_days d{date::days{day}};
  const auto& tmpl = templates_[static_cast<int>(type_of(day - 1)) * day_type_count +
                                static_cast<int>(type_of(day))];
  out.day = day;
  out.begin_ns = to_utc_ns(*cfg_.zone, date::local_seconds{d});
  out.end_ns = to_utc_ns(*cfg_.zone, date::local_seconds{d + date::days{1}});
  out.segments.clear();
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    int64_t begin = i == 0
                        ? out.begin_ns
                        : to_utc_ns(*cfg_.zone, date::local_seconds{d} + seconds{tmpl[i].start_s});
    int64_t end = i + 1 < tmpl.size()
                      ? to_utc_ns(*cfg_.zone, date::local_seconds{d} + seconds{tmpl[i + 1].start_s})
                      : out.end_ns;
    if (end <= begin)
      continue; // wholly inside the hour skipped in spring
    const auto& t = cfg_.tariffs[tmpl[i].tariff];
    auto [imp, exp] = prices_on(t, d);
    // Merge with the previous segment when a skipped piece separated two equal tariffs.
    if (!out.segments.empty() && out.segments.back().tariff == tmpl[i].tariff) {
      out.segments.back().end_ns = end;
      continue;
    }
    out.segments.push_back(segment{begin, end, tmpl[i].tariff, day, imp, exp});
  }
}

const segment& calendar::at(int64_t t_ns) {
  if (has_last_) {
    const auto& plan = cache_[last_plan_];
    const auto& seg = plan.segments[last_segment_];
    if (seg.contains(t_ns))
      return seg;
    // The common next step: the following segment of the same day.
    if (last_segment_ + 1 < plan.segments.size() &&
        plan.segments[last_segment_ + 1].contains(t_ns)) {
      ++last_segment_;
      return plan.segments[last_segment_];
    }
  }
  std::size_t slot = cache_size;
  for (std::size_t i = 0; i < cache_used_; ++i)
    if (cache_[i].begin_ns <= t_ns && t_ns < cache_[i].end_ns) {
      slot = i;
      break;
    }
  if (slot == cache_size) {
    if (cache_used_ < cache_size) {
      slot = cache_used_++;
    } else {
      slot = cache_next_;
      cache_next_ = (cache_next_ + 1) % cache_size;
    }
    build(local_day_of(t_ns), cache_[slot]);
  }
  const auto& segs = cache_[slot].segments;
  auto it = std::upper_bound(segs.begin(), segs.end(), t_ns,
                             [](int64_t t, const segment& s) { return t < s.begin_ns; });
  std::size_t idx = it == segs.begin() ? 0 : static_cast<std::size_t>(it - segs.begin()) - 1;
  last_plan_ = slot;
  last_segment_ = idx;
  has_last_ = true;
  return segs[idx];
}

} // namespace wattline::tariff
