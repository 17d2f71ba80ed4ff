#include "actors/tariff/config.hpp"

#include "engine/yaml_location.hpp"

#include <date/tz.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <set>
#include <utility>

namespace wattline::tariff {

namespace {

const char* const day_short_names[day_type_count] = {"mon", "tue", "wed", "thu",
                                                     "fri", "sat", "sun", "holiday"};
const char* const day_long_names[7] = {"monday", "tuesday",  "wednesday", "thursday",
                                       "friday", "saturday", "sunday"};

/// Every word accepted in `days`, for did-you-mean hints.
std::vector<std::string> day_words() {
  std::vector<std::string> out;
  for (auto* n : day_short_names)
    out.emplace_back(n);
  for (auto* n : day_long_names)
    out.emplace_back(n);
  for (auto* n : {"weekdays", "weekend", "daily", "holidays"})
    out.emplace_back(n);
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// Parses one day name to its day type index; -1 when unknown.
int day_index(const std::string& word) {
  auto w = lower(word);
  for (int i = 0; i < day_type_count; ++i)
    if (w == day_short_names[i])
      return i;
  for (int i = 0; i < 7; ++i)
    if (w == day_long_names[i])
      return i;
  if (w == "holidays")
    return static_cast<int>(day_type::holiday);
  return -1;
}

std::string format_hhmm(int s) {
  char buf[16];
  if (s % 60)
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%02d:%02d", s / 3600, s / 60 % 60);
  return buf;
}

/// Parses "HH:MM" or "HH:MM:SS" into seconds after midnight; "24:00" allowed when `allow_24`.
/// On failure returns nothing and sets `why`.
std::optional<int> parse_time(const std::string& text, bool allow_24, std::string& why) {
  int parts[3] = {0, 0, 0};
  int n = 0;
  std::size_t i = 0;
  while (n < 3) {
    std::size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
      ++i;
    std::size_t digits = i - start;
    if (digits == 0 || digits > 2 || (n > 0 && digits != 2)) {
      why = "expected a time as HH:MM or HH:MM:SS";
      return std::nullopt;
    }
    std::from_chars(text.data() + start, text.data() + i, parts[n]);
    ++n;
    if (i == text.size())
      break;
    if (text[i] != ':') {
      why = "expected a time as HH:MM or HH:MM:SS";
      return std::nullopt;
    }
    ++i;
  }
  if (n < 2 || i != text.size()) {
    why = "expected a time as HH:MM or HH:MM:SS";
    return std::nullopt;
  }
  if (parts[1] > 59) {
    why = "minutes must be 00-59";
    return std::nullopt;
  }
  if (parts[2] > 59) {
    why = "seconds must be 00-59";
    return std::nullopt;
  }
  int total = parts[0] * 3600 + parts[1] * 60 + parts[2];
  if (parts[0] > 24 || (parts[0] == 24 && total != seconds_per_day)) {
    why = "hours must be 00-23 (or 24:00 for the end of the day)";
    return std::nullopt;
  }
  if (total == seconds_per_day && !allow_24) {
    why = "24:00 is only allowed as the end of a range";
    return std::nullopt;
  }
  return total;
}

/// Parses "YYYY-MM-DD", or "MM-DD" when `allow_yearless` (year 0 returned).
std::optional<holiday> parse_date(const std::string& text, bool allow_yearless) {
  holiday h;
  int y = 0;
  unsigned m = 0, d = 0;
  auto num = [&](std::size_t pos, std::size_t len, auto& out) {
    if (pos + len > text.size())
      return false;
    for (std::size_t k = pos; k < pos + len; ++k)
      if (!std::isdigit(static_cast<unsigned char>(text[k])))
        return false;
    auto r = std::from_chars(text.data() + pos, text.data() + pos + len, out);
    return r.ec == std::errc{};
  };
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d))
      return std::nullopt;
  } else if (allow_yearless && text.size() == 5 && text[2] == '-') {
    if (!num(0, 2, m) || !num(3, 2, d))
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  // Year 2000 is a leap year, so "02-29" is accepted for yearless dates.
  auto ymd = date::year{y ? y : 2000} / date::month{m} / date::day{d};
  if (!ymd.ok())
    return std::nullopt;
  h.year = y;
  h.month = m;
  h.day = d;
  return h;
}

/// The parser's working state: the file name, the diagnostics sink and helpers.
class parser {
public:
  parser(const std::string& file, diagnostics& diags) : file_(file), diags_(diags) {}

  std::optional<tariff_config> run(const YAML::Node& node);

private:
  source_location loc(const YAML::Node& n) const { return location_of(n, file_); }

  /// Length of the token for the caret underline; quoted scalars (tag "!") include the quotes.
  static std::size_t len(const YAML::Node& n) {
    if (!n.IsScalar())
      return 1;
    return std::max<std::size_t>(n.Scalar().size() + (n.Tag() == "!" ? 2 : 0), 1);
  }

  void error(const YAML::Node& at, std::string message, std::string hint = {}) {
    diags_.error(std::move(message), loc(at), std::move(hint), len(at));
  }

  /// Checks the keys of map `m` against `allowed`: unknown keys (with did-you-mean) and
  /// duplicate keys are errors. `what` names the map in messages ("tariff option").
  void check_keys(const YAML::Node& m, const std::vector<std::string>& allowed,
                  const std::string& what, const std::vector<std::string>& ignored = {});

  /// The value of `key` in `m`, or an undefined node.
  static YAML::Node get(const YAML::Node& m, const char* key) {
    for (auto it = m.begin(); it != m.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == key)
        return it->second;
    return YAML::Node(YAML::NodeType::Undefined);
  }

  /// The scalar text of `n`, or an error at `n` when it is not a scalar.
  std::optional<std::string> string_value(const YAML::Node& n, const std::string& option) {
    if (!n.IsScalar()) {
      error(n, "option '" + option + "' must be a string");
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::optional<double> number_value(const YAML::Node& n, const std::string& option) {
    if (n.IsScalar()) {
      try {
        return n.as<double>();
      } catch (const YAML::Exception&) {
      }
    }
    error(n, "option '" + option + "' must be a number",
          n.IsScalar() ? "got '" + n.Scalar() + "'" : std::string{});
    return std::nullopt;
  }

  void parse_timezone(const YAML::Node& n, tariff_config& cfg);
  void parse_tariffs(const YAML::Node& n, tariff_config& cfg);
  void parse_tariff(const std::string& name, const YAML::Node& n, tariff_def& t);
  void parse_schedule(const YAML::Node& n, tariff_config& cfg);
  std::optional<uint8_t> parse_days(const YAML::Node& n, std::string& label);
  std::optional<uint8_t> parse_day_word(const YAML::Node& at, const std::string& word);
  void parse_holidays(const YAML::Node& n, tariff_config& cfg);
  void check_overlaps(const tariff_config& cfg);

  const std::string& file_;
  diagnostics& diags_;
  bool tariffs_ok_ = true;
};

void parser::check_keys(const YAML::Node& m, const std::vector<std::string>& allowed,
                        const std::string& what, const std::vector<std::string>& ignored) {
  std::map<std::string, YAML::Node> seen;
  for (auto it = m.begin(); it != m.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      error(key, what + " names must be strings");
      continue;
    }
    const auto& k = key.Scalar();
    if (auto prev = seen.find(k); prev != seen.end()) {
      auto& d = diags_.error("duplicate key '" + k + "'", loc(key), {}, len(key));
      d.notes.push_back(diagnostic{
          severity::note, "first given here", loc(prev->second), len(prev->second), {}, {}});
      continue;
    }
    seen.emplace(k, key);
    if (std::find(allowed.begin(), allowed.end(), k) != allowed.end() ||
        std::find(ignored.begin(), ignored.end(), k) != ignored.end())
      continue;
    auto guess = closest_match(k, allowed);
    error(key, "unknown " + what + " '" + k + "'",
          guess.empty() ? "allowed: " + join(allowed) : "did you mean '" + guess + "'?");
  }
}

void parser::parse_timezone(const YAML::Node& n, tariff_config& cfg) {
  auto name = string_value(n, "timezone");
  if (!name)
    return;
  const auto& s = *name;
  bool fixed_offset = s.empty() || s[0] == '+' || s[0] == '-' ||
                      std::isdigit(static_cast<unsigned char>(s[0])) ||
                      ((s.rfind("UTC", 0) == 0 || s.rfind("GMT", 0) == 0) && s.size() > 3 &&
                       (s[3] == '+' || s[3] == '-')) ||
                      (s.rfind("Etc/GMT", 0) == 0 && s.size() > 7);
  if (fixed_offset) {
    error(n, "timezone '" + s + "' is not an IANA time zone name",
          "fixed UTC offsets do not follow daylight saving time; use a zone name such as "
          "'Europe/Zurich'");
    return;
  }
  try {
    cfg.zone = date::locate_zone(s);
    cfg.timezone = s;
    return;
  } catch (const std::exception&) {
  }
  std::string hint;
  try {
    std::vector<std::string> names;
    const auto& db = date::get_tzdb();
    for (const auto& z : db.zones)
      names.push_back(std::string(z.name()));
    auto guess = closest_match(s, names);
    if (!guess.empty())
      hint = "did you mean '" + guess + "'?";
  } catch (const std::exception&) {
  }
  if (hint.empty())
    hint = "use an IANA zone name such as 'Europe/Zurich' (see /usr/share/zoneinfo)";
  error(n, "unknown timezone '" + s + "'", hint);
}

void parser::parse_tariff(const std::string& name, const YAML::Node& n, tariff_def& t) {
  t.name = name;
  if (!n.IsMap()) {
    error(n, "tariff '" + name + "' must be a map with 'import' (and optionally 'export')",
          "e.g. " + name + ": { import: 0.25, export: 0.08 }");
    return;
  }
  check_keys(n, {"import", "export", "changes"}, "tariff option");
  auto imp = get(n, "import");
  if (!imp.IsDefined()) {
    error(n, "tariff '" + name + "' has no 'import' price", "add e.g. 'import: 0.25' (per kWh)");
  } else if (auto v = number_value(imp, "import")) {
    t.import_price = *v;
  }
  if (auto exp = get(n, "export"); exp.IsDefined())
    if (auto v = number_value(exp, "export")) {
      t.export_price = *v;
      t.has_export_price = true;
    }
  auto changes = get(n, "changes");
  if (!changes.IsDefined())
    return;
  if (!changes.IsSequence()) {
    error(changes, "option 'changes' must be a list of { from: YYYY-MM-DD, import: ..., "
                   "export: ... }");
    return;
  }
  double cur_import = t.import_price, cur_export = t.export_price;
  std::optional<date::local_days> prev;
  for (const auto& c : changes) {
    if (!c.IsMap()) {
      error(c, "a price change must be a map { from: YYYY-MM-DD, import: ..., export: ... }");
      continue;
    }
    check_keys(c, {"from", "import", "export"}, "price change option");
    auto from = get(c, "from");
    if (!from.IsDefined()) {
      error(c, "price change has no 'from' date");
      continue;
    }
    std::optional<holiday> d;
    if (from.IsScalar())
      d = parse_date(from.Scalar(), false);
    if (!d) {
      error(from, "invalid date '" + (from.IsScalar() ? from.Scalar() : std::string{}) + "'",
            "expected YYYY-MM-DD");
      continue;
    }
    price_change pc;
    pc.from = date::local_days{date::year{d->year} / date::month{d->month} / date::day{d->day}};
    if (prev && pc.from <= *prev) {
      error(from, "price change dates must be in increasing order");
      continue;
    }
    prev = pc.from;
    auto ci = get(c, "import");
    auto ce = get(c, "export");
    if (!ci.IsDefined() && !ce.IsDefined())
      error(c, "price change sets neither 'import' nor 'export'");
    if (ci.IsDefined())
      if (auto v = number_value(ci, "import"))
        cur_import = *v;
    if (ce.IsDefined())
      if (auto v = number_value(ce, "export")) {
        cur_export = *v;
        t.has_export_price = true;
      }
    pc.import_price = cur_import;
    pc.export_price = cur_export;
    t.changes.push_back(pc);
  }
}

void parser::parse_tariffs(const YAML::Node& n, tariff_config& cfg) {
  if (!n.IsMap() || n.size() == 0) {
    error(n, "option 'tariffs' must be a map of tariff names to prices",
          "e.g. tariffs: { high: { import: 0.30 }, low: { import: 0.20 } }");
    tariffs_ok_ = false;
    return;
  }
  std::set<std::string> seen;
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->first.IsScalar() || it->first.Scalar().empty()) {
      error(it->first, "tariff names must be non-empty strings");
      tariffs_ok_ = false;
      continue;
    }
    const auto& name = it->first.Scalar();
    if (!seen.insert(name).second) {
      error(it->first, "duplicate tariff '" + name + "'");
      continue;
    }
    tariff_def t;
    parse_tariff(name, it->second, t);
    cfg.tariffs.push_back(std::move(t));
  }
}

std::optional<uint8_t> parser::parse_day_word(const YAML::Node& at, const std::string& word) {
  auto w = lower(word);
  if (w == "weekdays")
    return uint8_t{0x1f};
  if (w == "weekend")
    return uint8_t{0x60};
  if (w == "daily")
    return uint8_t{0x7f};
  if (auto dash = w.find('-'); dash != std::string::npos) {
    auto a = w.substr(0, dash), b = w.substr(dash + 1);
    int ia = day_index(a), ib = day_index(b);
    // A typo like "mon-fir" is often closer as a whole to a day range ("mon-fri").
    std::vector<std::string> ranges;
    for (int x = 0; x < 7; ++x)
      for (int y = 0; y < 7; ++y)
        if (x != y)
          ranges.push_back(std::string(day_short_names[x]) + '-' + day_short_names[y]);
    auto range_guess = closest_match(w, ranges);
    bool ok = true;
    for (auto [part, idx] : {std::pair{a, ia}, std::pair{b, ib}})
      if (idx < 0 || idx == static_cast<int>(day_type::holiday)) {
        auto guess = closest_match(part, day_words());
        if (guess.empty())
          guess = range_guess;
        error(at, "unknown day name '" + part + "' in '" + word + "'",
              guess.empty() ? "use mon, tue, wed, thu, fri, sat, sun (ranges like mon-fri)"
                            : "did you mean '" + guess + "'?");
        ok = false;
      }
    if (!ok)
      return std::nullopt;
    uint8_t bits = 0;
    for (int i = ia;; i = (i + 1) % 7) {
      bits |= static_cast<uint8_t>(1u << i);
      if (i == ib)
        break;
    }
    return bits;
  }
  int i = day_index(w);
  if (i < 0) {
    auto guess = closest_match(w, day_words());
    error(at, "unknown day name '" + word + "'",
          guess.empty() ? "use mon, tue, wed, thu, fri, sat, sun, ranges like mon-fri, "
                          "weekdays, weekend, daily or holiday"
                        : "did you mean '" + guess + "'?");
    return std::nullopt;
  }
  return static_cast<uint8_t>(1u << i);
}

std::optional<uint8_t> parser::parse_days(const YAML::Node& n, std::string& label) {
  uint8_t bits = 0;
  bool ok = true;
  auto one = [&](const YAML::Node& item) {
    if (!item.IsScalar()) {
      error(item, "day names must be strings, e.g. mon-fri or [sat, sun]");
      ok = false;
      return;
    }
    if (!label.empty())
      label += ',';
    label += item.Scalar();
    if (auto b = parse_day_word(item, item.Scalar()))
      bits |= *b;
    else
      ok = false;
  };
  if (n.IsSequence()) {
    if (n.size() == 0) {
      error(n, "option 'days' must not be empty");
      return std::nullopt;
    }
    for (const auto& item : n)
      one(item);
  } else {
    one(n);
  }
  if (!ok)
    return std::nullopt;
  return bits;
}

void parser::parse_schedule(const YAML::Node& n, tariff_config& cfg) {
  if (!n.IsSequence()) {
    error(n, "option 'schedule' must be a list of time ranges",
          "e.g. - { days: mon-fri, from: \"07:00\", to: \"20:00\", tariff: high }");
    return;
  }
  std::vector<std::string> names;
  for (const auto& t : cfg.tariffs)
    names.push_back(t.name);
  for (const auto& e : n) {
    if (!e.IsMap()) {
      error(e, "a schedule entry must be a map { days, from, to, tariff }",
            "e.g. - { days: mon-fri, from: \"07:00\", to: \"20:00\", tariff: high }");
      continue;
    }
    check_keys(e, {"days", "from", "to", "tariff"}, "schedule option");
    time_range r;
    r.where = loc(e);
    bool ok = true;
    std::string days_label;
    auto days = get(e, "days");
    auto from = get(e, "from");
    auto to = get(e, "to");
    auto tariff = get(e, "tariff");
    for (auto [node, key] : {std::pair{days, "days"}, std::pair{from, "from"}, std::pair{to, "to"},
                             std::pair{tariff, "tariff"}})
      if (!node.IsDefined()) {
        error(e, std::string("schedule entry has no '") + key + "'");
        ok = false;
      }
    if (days.IsDefined()) {
      if (auto b = parse_days(days, days_label))
        r.days = *b;
      else
        ok = false;
    }
    for (auto [node, is_to] : {std::pair{from, false}, std::pair{to, true}}) {
      if (!node.IsDefined())
        continue;
      std::string why;
      std::optional<int> s;
      if (node.IsScalar())
        s = parse_time(node.Scalar(), is_to, why);
      else
        why = "expected a time as HH:MM or HH:MM:SS";
      if (!s) {
        error(node,
              "invalid time '" + (node.IsScalar() ? node.Scalar() : std::string{}) + "': " + why,
              "write times in quotes, e.g. \"07:00\"");
        ok = false;
      } else {
        (is_to ? r.to_s : r.from_s) = *s;
      }
    }
    if (ok && r.from_s == r.to_s) {
      error(to, "empty time range: 'to' equals 'from'",
            "for a whole day use from: \"00:00\" and to: \"24:00\"");
      ok = false;
    }
    if (tariff.IsDefined()) {
      if (!tariff.IsScalar()) {
        error(tariff, "option 'tariff' must be a tariff name");
        ok = false;
      } else if (auto i = cfg.find_tariff(tariff.Scalar()); i < cfg.tariffs.size()) {
        r.tariff = i;
      } else {
        ok = false;
        if (tariffs_ok_) {
          auto guess = closest_match(tariff.Scalar(), names);
          error(tariff, "unknown tariff '" + tariff.Scalar() + "'",
                guess.empty() ? "defined tariffs: " + join(names)
                              : "did you mean '" + guess + "'?");
        }
      }
    }
    if (!ok)
      continue;
    r.label = days_label + ' ' + format_hhmm(r.from_s) + '-' + format_hhmm(r.to_s);
    cfg.ranges.push_back(std::move(r));
  }
}

void parser::parse_holidays(const YAML::Node& n, tariff_config& cfg) {
  YAML::Node dates;
  if (n.IsSequence()) {
    dates = n;
  } else if (n.IsMap()) {
    check_keys(n, {"count_as", "dates"}, "holidays option");
    if (auto as = get(n, "count_as"); as.IsDefined()) {
      int i = as.IsScalar() ? day_index(as.Scalar()) : -1;
      if (i < 0) {
        auto guess = as.IsScalar() ? closest_match(lower(as.Scalar()), day_words()) : "";
        error(as,
              "unknown day name '" + (as.IsScalar() ? as.Scalar() : std::string{}) +
                  "' for 'count_as'",
              guess.empty() ? "use one of mon, tue, wed, thu, fri, sat, sun, holiday"
                            : "did you mean '" + guess + "'?");
      } else {
        cfg.holiday_as = static_cast<day_type>(i);
      }
    }
    dates = get(n, "dates");
    if (!dates.IsDefined()) {
      error(n, "option 'holidays' has no 'dates'");
      return;
    }
  } else {
    error(n, "option 'holidays' must be a map { count_as: sun, dates: [...] }");
    return;
  }
  if (!dates.IsSequence()) {
    error(dates, "option 'dates' must be a list of dates (YYYY-MM-DD, or MM-DD for every year)");
    return;
  }
  for (const auto& d : dates) {
    std::optional<holiday> h;
    if (d.IsScalar())
      h = parse_date(d.Scalar(), true);
    if (!h) {
      error(d, "invalid date '" + (d.IsScalar() ? d.Scalar() : std::string{}) + "'",
            "expected YYYY-MM-DD, or MM-DD for a holiday on the same date every year");
      continue;
    }
    cfg.holidays.push_back(*h);
  }
}

void parser::check_overlaps(const tariff_config& cfg) {
  struct piece {
    int begin, end;
    std::size_t range;
    bool spill;
  };
  std::set<std::pair<std::size_t, std::size_t>> reported;
  for (int t = 0; t < day_type_count; ++t) {
    std::vector<piece> pieces;
    for (std::size_t i = 0; i < cfg.ranges.size(); ++i) {
      const auto& r = cfg.ranges[i];
      if (r.days & (1u << t))
        pieces.push_back({r.from_s, r.crosses_midnight() ? seconds_per_day : r.to_s, i, false});
      // The part after midnight of a range that starts on the previous weekday. Holidays can
      // follow any day; there the ranges of the holiday itself take precedence.
      int prev = (t + 6) % 7;
      if (t < 7 && (r.days & (1u << prev)) && r.crosses_midnight() && r.to_s > 0)
        pieces.push_back({0, r.to_s, i, true});
    }
    for (std::size_t a = 0; a < pieces.size(); ++a)
      for (std::size_t b = a + 1; b < pieces.size(); ++b) {
        const auto& pa = pieces[a];
        const auto& pb = pieces[b];
        if (pa.range == pb.range || pa.begin >= pb.end || pb.begin >= pa.end)
          continue;
        auto first = std::min(pa.range, pb.range), second = std::max(pa.range, pb.range);
        if (!reported.insert({first, second}).second)
          continue;
        const auto& r1 = cfg.ranges[first];
        const auto& r2 = cfg.ranges[second];
        bool spill =
            (pa.range == first ? pa.spill : pb.spill) || (pa.range == second ? pa.spill : pb.spill);
        auto& d = diags_.error("time range '" + r2.label + "' overlaps '" + r1.label + "' on " +
                                   day_type_name(static_cast<day_type>(t)) +
                                   (spill ? " (after midnight)" : ""),
                               r2.where, "each moment of a day must have at most one tariff");
        d.notes.push_back(
            diagnostic{severity::note, "the other range is here", r1.where, 1, {}, {}});
      }
  }
}

std::optional<tariff_config> parser::run(const YAML::Node& node) {
  if (!node.IsMap()) {
    error(node, "a tariff transform must be a map of options");
    return std::nullopt;
  }
  auto errors_before = diags_.items().size();
  auto count_errors = [&] {
    std::size_t n = 0;
    for (std::size_t i = errors_before; i < diags_.items().size(); ++i)
      if (diags_.items()[i].level == severity::error)
        ++n;
    return n;
  };
  std::vector<std::string> allowed;
  for (const auto& o : tariff_options())
    if (o.name.find_first_of(".[") == std::string::npos)
      allowed.push_back(o.name);
  check_keys(node, allowed, "tariff option", {"type", "inputs", "supervision"});

  tariff_config cfg;
  auto require = [&](const char* key) {
    auto n = get(node, key);
    if (!n.IsDefined())
      error(node, std::string("missing required option '") + key + "'");
    return n;
  };
  if (auto n = require("timezone"); n.IsDefined())
    parse_timezone(n, cfg);
  if (auto n = require("currency"); n.IsDefined())
    if (auto s = string_value(n, "currency"))
      cfg.currency = *s;
  if (auto n = require("tariffs"); n.IsDefined())
    parse_tariffs(n, cfg);
  else
    tariffs_ok_ = false;

  std::vector<std::string> names;
  for (const auto& t : cfg.tariffs)
    names.push_back(t.name);
  if (auto n = get(node, "default_tariff"); n.IsDefined()) {
    if (auto s = string_value(n, "default_tariff")) {
      auto i = cfg.find_tariff(*s);
      if (i < cfg.tariffs.size()) {
        cfg.default_tariff = i;
      } else if (tariffs_ok_) {
        auto guess = closest_match(*s, names);
        error(n, "unknown tariff '" + *s + "'",
              guess.empty() ? "defined tariffs: " + join(names) : "did you mean '" + guess + "'?");
      }
    }
  } else if (cfg.tariffs.size() > 1) {
    error(node, "missing required option 'default_tariff'",
          "with several tariffs, name the one for time no schedule range covers");
  }
  if (auto n = get(node, "schedule"); n.IsDefined())
    parse_schedule(n, cfg);
  if (auto n = get(node, "holidays"); n.IsDefined())
    parse_holidays(n, cfg);
  for (auto [key, target] :
       {std::pair{"import_field", &cfg.import_field}, std::pair{"export_field", &cfg.export_field},
        std::pair{"meter_tag", &cfg.meter_tag}}) {
    auto n = get(node, key);
    if (!n.IsDefined())
      continue;
    if (auto s = string_value(n, key)) {
      if (s->empty())
        error(n, std::string("option '") + key + "' must not be empty");
      else
        *target = *s;
    }
  }
  check_overlaps(cfg);
  if (cfg.holiday_as != day_type::holiday)
    for (const auto& r : cfg.ranges)
      if (r.days == (1u << static_cast<int>(day_type::holiday)))
        diags_.warning("time range '" + r.label + "' is never used", r.where,
                       std::string("holidays count as '") + day_type_name(cfg.holiday_as) +
                           "'; set 'holidays: { count_as: holiday }' to use ranges for holidays");
  if (count_errors() > 0)
    return std::nullopt;
  return cfg;
}

} // namespace

std::size_t tariff_config::find_tariff(std::string_view name) const {
  for (std::size_t i = 0; i < tariffs.size(); ++i)
    if (tariffs[i].name == name)
      return i;
  return tariffs.size();
}

bool tariff_config::is_holiday(date::local_days d) const {
  if (holidays.empty())
    return false;
  date::year_month_day ymd{d};
  for (const auto& h : holidays)
    if (static_cast<unsigned>(ymd.month()) == h.month &&
        static_cast<unsigned>(ymd.day()) == h.day &&
        (h.year == 0 || static_cast<int>(ymd.year()) == h.year))
      return true;
  return false;
}

const char* day_type_name(day_type t) {
  return day_short_names[static_cast<int>(t)];
}

std::optional<tariff_config> parse_tariff_config(const YAML::Node& node, const std::string& file,
                                                 wattline::diagnostics& diags) {
  try {
    parser p(file, diags);
    return p.run(node);
  } catch (const YAML::Exception& e) {
    diags.error(std::string("invalid tariff configuration: ") + e.what(),
                location_of(e.mark, file));
  } catch (const std::exception& e) {
    diags.error(std::string("invalid tariff configuration: ") + e.what(), location_of(node, file));
  }
  return std::nullopt;
}

const std::vector<option_doc>& tariff_options() {
  static const std::vector<option_doc> docs = {
      {"timezone", "string", "", true,
       "IANA time zone name of the schedule, e.g. Europe/Zurich (from the system tz database). "
       "Daylight saving time is followed; fixed UTC offsets are rejected."},
      {"currency", "string", "", true,
       "Currency of all prices, e.g. CHF or EUR; the unit of the cost fields."},
      {"tariffs", "map of name to map", "", true,
       "Named tariffs with their prices per kWh, e.g. high: { import: 0.31, export: 0.08 }."},
      {"tariffs.<name>.import", "number", "", true,
       "Price per kWh imported (bought from the grid)."},
      {"tariffs.<name>.export", "number", "0", false,
       "Price per kWh exported (fed into the grid); the credit for feed-in."},
      {"tariffs.<name>.changes", "list of map", "[]", false,
       "Price changes: { from: YYYY-MM-DD, import: ..., export: ... }, effective at local midnight "
       "of 'from', in increasing date order; an omitted price keeps its previous value."},
      {"default_tariff", "string", "the only tariff", false,
       "Tariff for time no schedule range covers; required when there are several tariffs."},
      {"schedule", "list of map", "[]", false,
       "Weekly time ranges in local time: { days: mon-fri, from: \"07:00\", to: \"20:00\", "
       "tariff: high }. Ranges must not overlap."},
      {"schedule[].days", "string or list of string", "", true,
       "Day names mon..sun (or monday..sunday), ranges like mon-fri, weekdays, weekend, daily, or "
       "holiday."},
      {"schedule[].from", "string", "", true, "Start of the range, HH:MM or HH:MM:SS local time."},
      {"schedule[].to", "string", "", true,
       "End of the range, HH:MM or HH:MM:SS; 24:00 is the end of the day. A 'to' not after "
       "'from' crosses midnight and ends on the next day."},
      {"schedule[].tariff", "string", "", true, "Tariff active during the range."},
      {"holidays", "map", "", false,
       "Public holidays: { count_as: sun, dates: [2026-01-01, 12-25] }; a plain list of dates "
       "counts them as sun."},
      {"holidays.count_as", "string", "sun", false,
       "Day type of a holiday: mon..sun, or holiday to use the schedule ranges with days: "
       "holiday."},
      {"holidays.dates", "list of string", "", true,
       "Dates as YYYY-MM-DD, or MM-DD for a holiday on the same date every year."},
      {"import_field", "string", "ACTIVE_ENERGY_P", false,
       "Cumulative imported energy field of the records, in kWh."},
      {"export_field", "string", "ACTIVE_ENERGY_N", false,
       "Cumulative exported energy field of the records, in kWh."},
      {"meter_tag", "string", "meter", false,
       "Tag that identifies the meter; deltas and totals are kept per meter."},
  };
  return docs;
}

std::vector<wattline::option_spec> tariff_option_specs() {
  std::vector<wattline::option_spec> out;
  for (const auto& d : tariff_options()) {
    if (d.name.find_first_of(".[") != std::string::npos)
      continue;
    wattline::option_spec o;
    o.name = d.name;
    o.doc = d.doc;
    o.required = d.required;
    if (d.type == "string") {
      o.type = wattline::option_type::string;
      o.default_value = d.name == "default_tariff" ? std::string{} : d.default_value;
    } else {
      o.type = wattline::option_type::any;
    }
    out.push_back(std::move(o));
  }
  return out;
}

} // namespace wattline::tariff
