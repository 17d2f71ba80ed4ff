#pragma once

// A-XDR decoding of the DLMS `Data` CHOICE (IEC 62056-6-2) into a flat pre-order node list.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace wattline::dlms {

/// DLMS data type tags.
enum class data_type : uint8_t {
  null_data = 0,
  array = 1,
  structure = 2,
  boolean = 3,
  bit_string = 4,
  int32 = 5,
  uint32 = 6,
  octet_string = 9,
  visible_string = 10,
  utf8_string = 12,
  bcd = 13,
  int8 = 15,
  int16 = 16,
  uint8 = 17,
  uint16 = 18,
  compact_array = 19,
  int64 = 20,
  uint64 = 21,
  enumeration = 22,
  float32 = 23,
  float64 = 24,
  date_time = 25,
  date = 26,
  time = 27,
  dont_care = 255,
};

/// One decoded value. Containers (array, structure, compact array) are followed by their
/// children; `subtree` lets a reader skip a whole subtree.
struct data_node {
  /// The DLMS type tag.
  data_type type = data_type::null_data;
  /// Children of a container; bytes of a string, bit-string, date, time or date-time.
  uint32_t count = 0;
  /// Number of nodes in this subtree, this node included.
  uint32_t subtree = 1;
  /// Offset of the payload bytes in the decoded buffer (strings, bit-strings, dates).
  uint32_t offset = 0;
  /// Integer value of signed integer types.
  int64_t i = 0;
  /// Integer value of unsigned integer types, boolean, bcd and enum.
  uint64_t u = 0;
  /// Value of float32 / float64.
  double f = 0;
};

/// Result of a decode.
enum class axdr_status : uint8_t {
  ok,
  truncated, ///< The input ends inside the value.
  malformed, ///< Unknown tag, impossible length, nesting or size limit exceeded.
};

/// Limits that keep hostile input cheap.
inline constexpr int axdr_max_depth = 24;
inline constexpr size_t axdr_max_nodes = 1U << 16;

/// Encoded size of a value of type `t` without its tag, or -1 for variable-length and container
/// types.
[[nodiscard]] int fixed_size(data_type t) noexcept;

/// Reads a BER length at `pos`; advances `pos`. Lengths above 2^24 are malformed.
[[nodiscard]] axdr_status read_ber_length(std::span<const uint8_t> in, size_t& pos,
                                          size_t& length) noexcept;

/// Decodes one `Data` value at `pos` and appends its nodes to `out`; advances `pos` past it.
/// On failure `out` may hold a partial tree.
[[nodiscard]] axdr_status parse_axdr(std::span<const uint8_t> in, size_t& pos,
                                     std::vector<data_node>& out);

/// Decodes the payload of a scalar or string value whose tag (already read) is `node.type` into
/// `node`, as `parse_axdr` would for that value, and advances `pos`. Returns false, leaving `pos`
/// and `node` unchanged, for containers, bit-strings, null / dont-care and unknown tags;
/// otherwise sets `status` (ok, truncated or malformed).
[[nodiscard]] bool parse_axdr_leaf(std::span<const uint8_t> in, size_t& pos, data_node& node,
                                   axdr_status& status) noexcept;

// Small accessors, inline: the decoder calls them for every node.

/// True for integer, enum, bcd, boolean and float nodes.
[[nodiscard]] inline bool is_numeric(const data_node& n) noexcept {
  switch (n.type) {
  case data_type::boolean:
  case data_type::bcd:
  case data_type::int8:
  case data_type::int16:
  case data_type::int32:
  case data_type::int64:
  case data_type::uint8:
  case data_type::uint16:
  case data_type::uint32:
  case data_type::uint64:
  case data_type::enumeration:
  case data_type::float32:
  case data_type::float64:
    return true;
  default:
    return false;
  }
}

/// The numeric value of a node (0 when not numeric).
[[nodiscard]] inline double numeric_value(const data_node& n) noexcept {
  switch (n.type) {
  case data_type::int8:
  case data_type::int16:
  case data_type::int32:
  case data_type::int64:
    return static_cast<double>(n.i);
  case data_type::float32:
  case data_type::float64:
    return n.f;
  case data_type::boolean:
  case data_type::bcd:
  case data_type::uint8:
  case data_type::uint16:
  case data_type::uint32:
  case data_type::uint64:
  case data_type::enumeration:
    return static_cast<double>(n.u);
  default:
    return 0;
  }
}

/// True for octet-string, visible-string and utf8-string.
[[nodiscard]] inline bool is_string(const data_node& n) noexcept {
  return n.type == data_type::octet_string || n.type == data_type::visible_string ||
         n.type == data_type::utf8_string;
}

/// The payload bytes of a string-like node within `in`.
[[nodiscard]] inline std::span<const uint8_t> node_bytes(std::span<const uint8_t> in,
                                                         const data_node& n) noexcept {
  if (static_cast<size_t>(n.offset) + n.count > in.size())
    return {};
  return in.subspan(n.offset, n.count);
}

/// Short snake_case name of a type for messages, e.g. "uint32", "octet_string".
[[nodiscard]] const char* type_name(data_type t) noexcept;

} // namespace wattline::dlms
