#include "actors/tariff/tariff.hpp"

#include <date/date.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace wattline::tariff {

namespace {

int32_t month_of(int32_t day) {
  date::year_month_day ymd{date::local_days{date::days{day}}};
  return static_cast<int32_t>(static_cast<int>(ymd.year()) * 12 +
                              static_cast<int>(static_cast<unsigned>(ymd.month())) - 1);
}

int32_t first_day_of_month(int32_t month) {
  int y = month >= 0 ? month / 12 : (month - 11) / 12;
  unsigned m = static_cast<unsigned>(month - y * 12) + 1;
  date::local_days d{date::year{y} / date::month{m} / date::day{1}};
  return static_cast<int32_t>(d.time_since_epoch().count());
}

std::string day_text(int32_t day) {
  return date::format("%F", date::local_days{date::days{day}});
}

std::string month_text(int32_t month) {
  return day_text(first_day_of_month(month)).substr(0, 7);
}

std::string errno_text(int e) {
  return std::error_code(e, std::generic_category()).message();
}

/// Writes `data` to `path` durably: `path.tmp`, fsync, rename over `path`, fsync of the folder.
io_result write_durably(const std::filesystem::path& path, const std::string& data) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec)
    return {false, "cannot create " + path.parent_path().string() + ": " + ec.message()};
  auto tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return {false, "cannot write " + tmp.string() + ": " + errno_text(errno)};
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    auto n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return {false, "cannot write " + tmp.string() + ": " + errno_text(e)};
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    return {false, "cannot sync " + tmp.string() + ": " + errno_text(e)};
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return {false,
            "cannot rename " + tmp.string() + " to " + path.string() + ": " + errno_text(errno)};
  int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return {};
}

nlohmann::json counter_to_json(const counter_state& c) {
  if (!c.known)
    return nullptr;
  return {{"time_ns", c.time_ns}, {"value", c.value}};
}

counter_state counter_from_json(const nlohmann::json& j) {
  counter_state c;
  if (j.is_null())
    return c;
  c.known = true;
  c.time_ns = j.at("time_ns").get<int64_t>();
  c.value = j.at("value").get<int64_t>();
  return c;
}

/// Sets field `key` of `rec` (adds or replaces) with its unit; builds a new field in place.
void put(record& rec, std::string_view key, field_value value, const std::string& unit) {
  for (auto& f : rec.fields)
    if (f.key == key) {
      f.value = std::move(value);
      f.unit = unit;
      return;
    }
  auto& f = rec.fields.emplace_back();
  f.key = key;
  f.value = std::move(value);
  f.unit = unit;
}

} // namespace

/// kWh per unit of an energy field: 1e-3 for "Wh", 1e3 for "MWh", 1 for "kWh" or no unit.
double kwh_per(std::string_view unit) {
  if (unit == "Wh")
    return 1e-3;
  if (unit == "MWh")
    return 1e3;
  return 1.0;
}

int64_t kwh_to_units(double kwh) {
  return static_cast<int64_t>(std::llround(kwh * units_per_kwh));
}

tariff_engine::tariff_engine(tariff_config cfg, std::filesystem::path state_dir,
                             std::string instance)
    : cfg_(std::make_unique<tariff_config>(std::move(cfg))),
      calendar_(std::make_unique<calendar>(*cfg_)) {
  for (const auto& t : cfg_->tariffs) {
    tariff_names_.push_back(t.name);
    any_export_price_ = any_export_price_ || t.has_export_price;
  }
  price_unit_ = cfg_->currency + "/kWh";
  if (!state_dir.empty()) {
    state_path_ = state_dir / (instance + ".tariff.json");
    load();
  }
}

const meter_state* tariff_engine::meter(const std::string& meter) const {
  auto it = meters_.find(meter);
  return it == meters_.end() ? nullptr : &it->second;
}

std::size_t tariff_engine::tariff_index(const std::string& name) {
  for (std::size_t i = 0; i < tariff_names_.size(); ++i)
    if (tariff_names_[i] == name)
      return i;
  tariff_names_.push_back(name);
  return tariff_names_.size() - 1;
}

std::vector<split_part> tariff_engine::split(int64_t t0_ns, int64_t t1_ns, int64_t energy,
                                             bool exported) {
  std::vector<split_part> parts;
  split_into(t0_ns, t1_ns, energy, exported, parts);
  return parts;
}

void tariff_engine::split_into(int64_t t0_ns, int64_t t1_ns, int64_t energy, bool exported,
                               std::vector<split_part>& parts) {
  parts.clear();
  if (t1_ns <= t0_ns) {
    const segment s = calendar_->at(t1_ns);
    parts.push_back(
        {t1_ns, t1_ns, s.tariff, s.day, exported ? s.export_price : s.import_price, energy});
    return;
  }
  for (int64_t cur = t0_ns; cur < t1_ns;) {
    const segment s = calendar_->at(cur);
    int64_t end = s.end_ns > cur ? std::min(s.end_ns, t1_ns) : t1_ns;
    parts.push_back({cur, end, s.tariff, s.day, exported ? s.export_price : s.import_price, 0});
    cur = end;
  }
  const auto total = static_cast<__int128>(t1_ns - t0_ns);
  int64_t assigned = 0;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    auto e = static_cast<int64_t>(static_cast<__int128>(energy) *
                                  (parts[i].end_ns - parts[i].begin_ns) / total);
    parts[i].energy = e;
    assigned += e;
  }
  parts.back().energy = energy - assigned;
}

void tariff_engine::close(const std::string& meter, open_period& p, bool month,
                          std::vector<record>& out) {
  if (p.key == open_period::none)
    return;
  int32_t first_day = month ? first_day_of_month(p.key) : p.key;
  int64_t start = calendar_->day_start_ns(first_day);
  std::string when = month ? month_text(p.key) : day_text(p.key);
  for (std::size_t i = 0; i < p.tariffs.size(); ++i) {
    const auto& t = p.tariffs[i];
    if (!t.used)
      continue;
    record r;
    r.name = "energy_cost";
    r.time_ns = start;
    // Records without the meter tag are one anonymous meter: no empty tag value.
    if (!meter.empty())
      r.tags.emplace_back(cfg_->meter_tag, meter);
    r.tags.emplace_back("tariff", tariff_names_[i]);
    r.tags.emplace_back("period", month ? "month" : "day");
    r.tags.emplace_back("date", when);
    r.fields.push_back(
        {"energy_import_kwh", static_cast<double>(t.import_energy) / units_per_kwh, "kWh", {}});
    r.fields.push_back({"cost_import", t.cost_import, cfg_->currency, {}});
    r.fields.push_back(
        {"energy_export_kwh", static_cast<double>(t.export_energy) / units_per_kwh, "kWh", {}});
    r.fields.push_back({"credit_export", t.credit_export, cfg_->currency, {}});
    out.push_back(std::move(r));
  }
  p.tariffs.assign(tariff_names_.size(), tariff_totals{});
  p.key = open_period::none;
}

void tariff_engine::advance(const std::string& meter, meter_state& st, int32_t day,
                            std::vector<record>& out) {
  if (day <= st.day.key && st.month.key != open_period::none)
    return; // the common case: still the open day (or a late part)
  if (st.day.key == open_period::none || day > st.day.key) {
    close(meter, st.day, false, out);
    st.day.key = day;
    st.day.tariffs.resize(tariff_names_.size());
    dirty_ = true;
  }
  int32_t month = month_of(day);
  if (st.month.key == open_period::none || month > st.month.key) {
    close(meter, st.month, true, out);
    st.month.key = month;
    st.month.tariffs.resize(tariff_names_.size());
    dirty_ = true;
  }
}

void tariff_engine::add_part(const std::string& meter, meter_state& st, const split_part& p,
                             bool exported, std::vector<record>& out) {
  // A part older than the open period (a lagging counter) counts in the open period.
  advance(meter, st, p.day, out);
  const double money = p.cost();
  for (auto* period : {&st.day, &st.month}) {
    if (period->tariffs.size() <= p.tariff)
      period->tariffs.resize(tariff_names_.size());
    auto& t = period->tariffs[p.tariff];
    t.used = true;
    if (exported) {
      t.export_energy += p.energy;
      t.credit_export += money;
    } else {
      t.import_energy += p.energy;
      t.cost_import += money;
    }
  }
}

std::vector<record> tariff_engine::process(record& rec) {
  std::vector<record> out;
  const int64_t t = rec.time_ns;
  const segment seg = calendar_->at(t);
  put(rec, "tariff", cfg_->tariffs[seg.tariff].name, no_unit_);
  put(rec, "price", seg.import_price, price_unit_);
  if (any_export_price_)
    put(rec, "price_export", seg.export_price, price_unit_);

  double import_kwh = 0, export_kwh = 0;
  const field* fi = rec.find_field(cfg_->import_field);
  const field* fe = rec.find_field(cfg_->export_field);
  bool has_import = fi && as_double(fi->value, import_kwh) && std::isfinite(import_kwh);
  bool has_export = fe && as_double(fe->value, export_kwh) && std::isfinite(export_kwh);
  // Meters report Wh (smartmeter-datacollector's scaling); the field's unit says which it is.
  if (has_import)
    import_kwh *= kwh_per(fi->unit);
  if (has_export)
    export_kwh *= kwh_per(fe->unit);
  if (!has_import && !has_export)
    return out;

  const field_text* tag = rec.tag(cfg_->meter_tag);
  const std::string meter = tag ? tag->str() : std::string{};
  auto& st = meters_[meter];
  dirty_ = true;

  bool reset = false;
  // Updates one counter; returns the delta (units) and fills `parts`, or -1 when there is no
  // delta (first reading, or a record older than the last reading, which is ignored).
  auto step = [&](counter_state& c, double kwh, bool exported, std::vector<split_part>& parts) {
    parts.clear();
    const int64_t value = kwh_to_units(kwh);
    if (c.known && t < c.time_ns)
      return int64_t{-1};
    if (!c.known) {
      c = counter_state{true, t, value};
      return int64_t{-1};
    }
    int64_t delta = value - c.value;
    if (delta < 0) {
      // Reset or rollover: the energy since the last reading is unknown; never negative.
      delta = 0;
      reset = true;
    }
    split_into(c.time_ns, t, delta, exported, parts);
    c.time_ns = t;
    c.value = value;
    return delta;
  };

  auto& import_parts = import_parts_;
  auto& export_parts = export_parts_;
  import_parts.clear();
  export_parts.clear();
  int64_t import_delta = has_import ? step(st.import_counter, import_kwh, false, import_parts) : -1;
  int64_t export_delta = has_export ? step(st.export_counter, export_kwh, true, export_parts) : -1;

  // Apply the parts of both counters in time order, so periods close once and in order.
  std::size_t i = 0, e = 0;
  while (i < import_parts.size() || e < export_parts.size()) {
    bool take_import =
        e == export_parts.size() ||
        (i < import_parts.size() && import_parts[i].begin_ns <= export_parts[e].begin_ns);
    if (take_import)
      add_part(meter, st, import_parts[i++], false, out);
    else
      add_part(meter, st, export_parts[e++], true, out);
  }
  advance(meter, st, seg.day, out);

  if (import_delta >= 0) {
    double cost = 0;
    for (const auto& p : import_parts)
      cost += p.cost();
    put(rec, "energy_import_kwh", static_cast<double>(import_delta) / units_per_kwh, kwh_unit_);
    put(rec, "cost_import", cost, cfg_->currency);
  }
  if (export_delta >= 0) {
    double credit = 0;
    for (const auto& p : export_parts)
      credit += p.cost();
    put(rec, "energy_export_kwh", static_cast<double>(export_delta) / units_per_kwh, kwh_unit_);
    put(rec, "credit_export", credit, cfg_->currency);
  }
  if (reset)
    put(rec, "counter_reset", true, no_unit_);
  return out;
}

io_result tariff_engine::save() {
  if (state_path_.empty())
    return {};
  nlohmann::json meters = nlohmann::json::object();
  auto period_json = [&](const open_period& p) -> nlohmann::json {
    if (p.key == open_period::none)
      return nullptr;
    nlohmann::json tariffs = nlohmann::json::object();
    for (std::size_t i = 0; i < p.tariffs.size(); ++i) {
      const auto& t = p.tariffs[i];
      if (!t.used)
        continue;
      tariffs[tariff_names_[i]] = {{"import", t.import_energy},
                                   {"export", t.export_energy},
                                   {"cost_import", t.cost_import},
                                   {"credit_export", t.credit_export}};
    }
    return {{"key", p.key}, {"tariffs", tariffs}};
  };
  for (const auto& [name, st] : meters_)
    meters[name] = {{"import", counter_to_json(st.import_counter)},
                    {"export", counter_to_json(st.export_counter)},
                    {"day", period_json(st.day)},
                    {"month", period_json(st.month)}};
  nlohmann::json doc = {{"format", "wattline-tariff-state"},
                        {"version", 1},
                        {"energy_unit", "1e-9 kWh"},
                        {"meters", meters}};
  auto r = write_durably(state_path_, doc.dump(1) + "\n");
  if (r.ok)
    dirty_ = false;
  return r;
}

void tariff_engine::load() {
  std::error_code ec;
  if (!std::filesystem::exists(state_path_, ec))
    return;
  std::string problem;
  std::unordered_map<std::string, meter_state> loaded;
  auto names = tariff_names_;
  try {
    std::ifstream in(state_path_, std::ios::binary);
    if (!in)
      throw std::runtime_error("cannot be read");
    std::stringstream buf;
    buf << in.rdbuf();
    auto doc = nlohmann::json::parse(buf.str());
    if (!doc.is_object() || doc.value("format", "") != "wattline-tariff-state")
      throw std::runtime_error("not a wattline tariff state file");
    if (doc.at("version").get<int>() != 1)
      throw std::runtime_error("unsupported version " + doc.at("version").dump());
    auto index = [&](const std::string& n) {
      for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == n)
          return i;
      names.push_back(n);
      return names.size() - 1;
    };
    auto period = [&](const nlohmann::json& j) {
      open_period p;
      if (j.is_null())
        return p;
      p.key = j.at("key").get<int32_t>();
      if (p.key == open_period::none)
        throw std::runtime_error("invalid period key");
      for (const auto& [n, t] : j.at("tariffs").items()) {
        auto i = index(n);
        if (p.tariffs.size() <= i)
          p.tariffs.resize(i + 1);
        auto& tt = p.tariffs[i];
        tt.used = true;
        tt.import_energy = t.at("import").get<int64_t>();
        tt.export_energy = t.at("export").get<int64_t>();
        tt.cost_import = t.at("cost_import").get<double>();
        tt.credit_export = t.at("credit_export").get<double>();
      }
      return p;
    };
    for (const auto& [name, m] : doc.at("meters").items()) {
      meter_state st;
      st.import_counter = counter_from_json(m.at("import"));
      st.export_counter = counter_from_json(m.at("export"));
      st.day = period(m.at("day"));
      st.month = period(m.at("month"));
      loaded.emplace(name, std::move(st));
    }
  } catch (const std::exception& e) {
    problem = e.what();
  }
  if (problem.empty()) {
    tariff_names_ = std::move(names);
    for (auto& [name, st] : loaded)
      for (auto* p : {&st.day, &st.month})
        if (p->key != open_period::none)
          p->tariffs.resize(tariff_names_.size());
    meters_ = std::move(loaded);
    return;
  }
  auto bad = state_path_;
  bad += ".bad";
  std::filesystem::rename(state_path_, bad, ec);
  state_error_ = "tariff state file " + state_path_.string() + " is corrupt (" + problem + "); " +
                 (ec ? "could not keep it as " + bad.string() + " (" + ec.message() + ")"
                     : "kept as " + bad.string()) +
                 ", starting with empty totals";
}

} // namespace wattline::tariff
