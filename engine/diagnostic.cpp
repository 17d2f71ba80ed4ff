#include "engine/diagnostic.hpp"

#include <algorithm>
#include <fstream>

namespace wattline {

namespace {

const char* severity_name(severity s) {
  switch (s) {
  case severity::error:
    return "error";
  case severity::warning:
    return "warning";
  case severity::note:
    return "note";
  }
  return "error";
}

// Returns line `n` (1-based) of `file`, or nothing.
bool source_line(const std::string& file, int n, std::string& out) {
  std::ifstream in(file);
  if (!in)
    return false;
  std::string line;
  for (int i = 1; std::getline(in, line); ++i)
    if (i == n) {
      out = line;
      return true;
    }
  return false;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

void render_into(const diagnostic& d, std::string& out) {
  if (!d.where.file.empty()) {
    out += d.where.file;
    if (d.where.known())
      out += ':' + std::to_string(d.where.line) + ':' + std::to_string(d.where.column);
    out += ": ";
  }
  out += severity_name(d.level);
  out += ": ";
  out += d.message;
  out += '\n';
  std::string text;
  if (d.where.known() && source_line(d.where.file, d.where.line, text)) {
    auto num = std::to_string(d.where.line);
    out += ' ' + std::string(num.size() < 4 ? 4 - num.size() : 0, ' ') + num + " | " + text + '\n';
    out += "      | ";
    // Keep tabs so the caret lines up under the token.
    auto col = static_cast<std::size_t>(d.where.column > 0 ? d.where.column - 1 : 0);
    for (std::size_t i = 0; i < col && i < text.size(); ++i)
      out += text[i] == '\t' ? '\t' : ' ';
    out += '^';
    if (d.length > 1)
      out += std::string(d.length - 1, '~');
    out += '\n';
  }
  if (!d.hint.empty())
    out += "hint: " + d.hint + '\n';
  for (const auto& n : d.notes)
    render_into(n, out);
}

} // namespace

std::string render(const diagnostic& d) {
  std::string out;
  render_into(d, out);
  return out;
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const auto& c : candidates) {
    auto dist = edit_distance(word, c);
    if (dist < best_distance) {
      best_distance = dist;
      best = c;
    }
  }
  // Accept at most a third of the word's length (min 1, max 3) as typo distance.
  std::size_t limit = std::clamp<std::size_t>(word.size() / 3, 1, 3);
  return best_distance <= limit ? best : std::string{};
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i)
      out += sep;
    out += items[i];
  }
  return out;
}

} // namespace wattline
