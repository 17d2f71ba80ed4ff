#pragma once

// CSV form of records (RFC 4180): one header line, then one row per record.
//
// Columns: `time,name`, then the tag keys, then the field keys, in the order of the first record
// written to the file. A later record whose tags or fields are not all columns of the current
// header does not fit: the file sink then rotates to a new file with a new header (the rule for
// new columns). Missing columns of a record are empty cells.
// Cells: time as RFC 3339 (format_rfc3339), doubles shortest round-trip, NaN/Inf as an empty
// cell, integers exact, bools true/false, strings as they are. A cell is quoted when it contains
// `,`, `"`, CR or LF, or starts or ends with a space; quotes inside are doubled. Lines end in LF.

#include "engine/record.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace wattline::file_io {

/// Appends `cell` to `out`, quoted when needed.
void append_csv_cell(std::string& out, std::string_view cell);

/// The columns of one CSV file.
class csv_schema {
public:
  csv_schema() = default;
  /// The columns of `r`: time, name, its tags, its fields.
  explicit csv_schema(const record& r);

  /// True when every tag and field of `r` has a column.
  [[nodiscard]] bool fits(const record& r) const;
  /// Appends the header line, with '\n'.
  void append_header(std::string& out) const;
  /// Appends the row of `r` (which must fit), with '\n'.
  void append_row(std::string& out, const record& r) const;
  [[nodiscard]] bool empty() const { return tags_.empty() && fields_.empty() && !set_; }
  [[nodiscard]] const std::vector<std::string>& tag_columns() const { return tags_; }
  [[nodiscard]] const std::vector<std::string>& field_columns() const { return fields_; }

private:
  std::vector<std::string> tags_;
  std::vector<std::string> fields_;
  bool set_ = false;
};

} // namespace wattline::file_io
