#include "actors/dlms/axdr.hpp"

#include <bit>
#include <cstring>

namespace wattline::dlms {

namespace {

uint64_t read_be(std::span<const uint8_t> in, size_t pos, size_t n) noexcept {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v = (v << 8) | in[pos + i];
  return v;
}

bool known_type(uint8_t tag) noexcept {
  switch (tag) {
  case 0:
  case 1:
  case 2:
  case 3:
  case 4:
  case 5:
  case 6:
  case 9:
  case 10:
  case 12:
  case 13:
  case 15:
  case 16:
  case 17:
  case 18:
  case 19:
  case 20:
  case 21:
  case 22:
  case 23:
  case 24:
  case 25:
  case 26:
  case 27:
  case 255:
    return true;
  default:
    return false;
  }
}

/// Big-endian integer of `n` (1, 2, 4 or 8; 0 otherwise) bytes at `p`.
inline uint64_t load_be(const uint8_t* p, int n) noexcept {
  switch (n) {
  case 1:
    return p[0];
  case 2:
    return (static_cast<uint64_t>(p[0]) << 8) | p[1];
  case 4:
    return (static_cast<uint64_t>(p[0]) << 24) | (static_cast<uint64_t>(p[1]) << 16) |
           (static_cast<uint64_t>(p[2]) << 8) | p[3];
  case 8: {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v = (v << 8) | p[i];
    return v;
  }
  default:
    return 0;
  }
}

/// Fills the value of a fixed-size node from `n` bytes at `pos`.
inline void fill_fixed(data_node& node, std::span<const uint8_t> in, size_t pos, int n) {
  switch (node.type) {
  case data_type::int8:
    node.i = static_cast<int8_t>(in[pos]);
    break;
  case data_type::int16:
    node.i = static_cast<int16_t>(load_be(in.data() + pos, 2));
    break;
  case data_type::int32:
    node.i = static_cast<int32_t>(load_be(in.data() + pos, 4));
    break;
  case data_type::int64:
    node.i = static_cast<int64_t>(load_be(in.data() + pos, 8));
    break;
  case data_type::float32: {
    const auto bits = static_cast<uint32_t>(load_be(in.data() + pos, 4));
    node.f = static_cast<double>(std::bit_cast<float>(bits));
    break;
  }
  case data_type::float64:
    node.f = std::bit_cast<double>(load_be(in.data() + pos, 8));
    break;
  case data_type::date_time:
  case data_type::date:
  case data_type::time:
    node.offset = static_cast<uint32_t>(pos);
    node.count = static_cast<uint32_t>(n);
    break;
  default:
    node.u = load_be(in.data() + pos, n);
    break;
  }
}

/// Reads a BER length, with the one-byte form inline.
inline axdr_status read_length(std::span<const uint8_t> in, size_t& pos, size_t& length) noexcept {
  if (pos < in.size() && in[pos] < 0x80) {
    length = in[pos++];
    return axdr_status::ok;
  }
  return read_ber_length(in, pos, length);
}

/// Decodes the payload of a fixed-size or string value (tag already read) into `node`, whose type
/// is set; returns false (leaving `pos`) for other types.
inline bool parse_leaf(std::span<const uint8_t> in, size_t& pos, data_node& node,
                       axdr_status& status) noexcept {
  switch (node.type) {
  case data_type::octet_string:
  case data_type::visible_string:
  case data_type::utf8_string: {
    size_t n = 0;
    if (status = read_length(in, pos, n); status != axdr_status::ok)
      return true;
    if (n > in.size() - pos) {
      status = axdr_status::truncated;
      return true;
    }
    node.offset = static_cast<uint32_t>(pos);
    node.count = static_cast<uint32_t>(n);
    pos += n;
    status = axdr_status::ok;
    return true;
  }
  case data_type::boolean:
  case data_type::bcd:
  case data_type::int8:
  case data_type::uint8:
  case data_type::enumeration:
  case data_type::int16:
  case data_type::uint16:
  case data_type::int32:
  case data_type::uint32:
  case data_type::float32:
  case data_type::int64:
  case data_type::uint64:
  case data_type::float64:
  case data_type::date_time:
  case data_type::date:
  case data_type::time: {
    const int n = fixed_size(node.type);
    if (static_cast<size_t>(n) > in.size() - pos) {
      status = axdr_status::truncated;
      return true;
    }
    fill_fixed(node, in, pos, n);
    pos += static_cast<size_t>(n);
    status = axdr_status::ok;
    return true;
  }
  default:
    return false;
  }
}

/// Type description of a compact array (IEC 62056-6-2 TypeDescription).
struct type_desc {
  data_type type = data_type::null_data;
  uint32_t count = 0; // array element count
  std::vector<type_desc> children;
};

axdr_status parse_desc(std::span<const uint8_t> in, size_t& pos, type_desc& d, int depth) {
  if (depth > axdr_max_depth)
    return axdr_status::malformed;
  if (pos >= in.size())
    return axdr_status::truncated;
  const uint8_t tag = in[pos++];
  if (!known_type(tag) || tag == 19 || tag == 255)
    return axdr_status::malformed;
  d.type = static_cast<data_type>(tag);
  if (d.type == data_type::array) {
    if (pos + 2 > in.size())
      return axdr_status::truncated;
    d.count = static_cast<uint32_t>(read_be(in, pos, 2));
    pos += 2;
    d.children.resize(1);
    return parse_desc(in, pos, d.children[0], depth + 1);
  }
  if (d.type == data_type::structure) {
    size_t n = 0;
    if (auto st = read_ber_length(in, pos, n); st != axdr_status::ok)
      return st;
    if (n > in.size() - pos)
      return axdr_status::truncated; // every member needs at least one tag byte
    d.children.resize(n);
    for (auto& c : d.children)
      if (auto st = parse_desc(in, pos, c, depth + 1); st != axdr_status::ok)
        return st;
  }
  return axdr_status::ok;
}

axdr_status parse_untagged(std::span<const uint8_t> in, size_t& pos, const type_desc& d,
                           std::vector<data_node>& out, int depth);

// Flattened: the vector appends and length reads of every node are inlined into the walk.
[[gnu::flatten]] axdr_status parse_value(std::span<const uint8_t> in, size_t& pos, data_type type,
                                         std::vector<data_node>& out, int depth) {
  if (depth > axdr_max_depth || out.size() >= axdr_max_nodes)
    return axdr_status::malformed;
  const size_t index = out.size();
  out.emplace_back().type = type; // built in place: no temporary node copied in
  switch (type) {
  case data_type::array:
  case data_type::structure: {
    size_t n = 0;
    if (auto st = read_ber_length(in, pos, n); st != axdr_status::ok)
      return st;
    if (n > in.size() - pos)
      return axdr_status::truncated; // every element needs at least its tag byte
    out[index].count = static_cast<uint32_t>(n);
    for (size_t k = 0; k < n; ++k) {
      if (pos >= in.size())
        return axdr_status::truncated;
      const uint8_t tag = in[pos++];
      if (!known_type(tag))
        return axdr_status::malformed;
      // Scalars and strings inline, without a call per element.
      if (depth + 1 <= axdr_max_depth && out.size() < axdr_max_nodes) {
        auto& node = out.emplace_back();
        node.type = static_cast<data_type>(tag);
        axdr_status st = axdr_status::ok;
        if (parse_leaf(in, pos, node, st)) {
          if (st != axdr_status::ok)
            return st;
          continue;
        }
        out.pop_back();
      }
      if (auto st = parse_value(in, pos, static_cast<data_type>(tag), out, depth + 1);
          st != axdr_status::ok)
        return st;
    }
    break;
  }
  case data_type::bit_string: {
    size_t bits = 0;
    if (auto st = read_ber_length(in, pos, bits); st != axdr_status::ok)
      return st;
    const size_t n = (bits + 7) / 8;
    if (n > in.size() - pos)
      return axdr_status::truncated;
    out[index].offset = static_cast<uint32_t>(pos);
    out[index].count = static_cast<uint32_t>(n);
    out[index].u = bits;
    pos += n;
    break;
  }
  case data_type::compact_array: {
    type_desc desc;
    if (auto st = parse_desc(in, pos, desc, depth + 1); st != axdr_status::ok)
      return st;
    size_t n = 0;
    if (auto st = read_ber_length(in, pos, n); st != axdr_status::ok)
      return st;
    if (n > in.size() - pos)
      return axdr_status::truncated;
    const auto contents = in.subspan(0, pos + n);
    uint32_t elements = 0;
    while (pos < contents.size()) {
      const size_t before = pos;
      if (auto st = parse_untagged(contents, pos, desc, out, depth + 1); st != axdr_status::ok)
        return st == axdr_status::truncated ? axdr_status::malformed : st;
      if (pos == before)
        return axdr_status::malformed; // zero-size elements would never end
      ++elements;
    }
    out[index].count = elements;
    break;
  }
  case data_type::dont_care:
  case data_type::null_data:
    break;
  default: {
    axdr_status st = axdr_status::ok;
    if (!parse_leaf(in, pos, out[index], st))
      return axdr_status::malformed;
    if (st != axdr_status::ok)
      return st;
    break;
  }
  }
  out[index].subtree = static_cast<uint32_t>(out.size() - index);
  return axdr_status::ok;
}

axdr_status parse_untagged(std::span<const uint8_t> in, size_t& pos, const type_desc& d,
                           std::vector<data_node>& out, int depth) {
  if (depth > axdr_max_depth || out.size() >= axdr_max_nodes)
    return axdr_status::malformed;
  if (d.type == data_type::structure || d.type == data_type::array) {
    const size_t index = out.size();
    out.emplace_back().type = d.type;
    const size_t n = d.type == data_type::structure ? d.children.size() : d.count;
    out[index].count = static_cast<uint32_t>(n);
    for (size_t k = 0; k < n; ++k) {
      const auto& child = d.type == data_type::structure ? d.children[k] : d.children[0];
      if (auto st = parse_untagged(in, pos, child, out, depth + 1); st != axdr_status::ok)
        return st;
    }
    out[index].subtree = static_cast<uint32_t>(out.size() - index);
    return axdr_status::ok;
  }
  return parse_value(in, pos, d.type, out, depth);
}

} // namespace

int fixed_size(data_type t) noexcept {
  switch (t) {
  case data_type::null_data:
    return 0;
  case data_type::boolean:
  case data_type::bcd:
  case data_type::int8:
  case data_type::uint8:
  case data_type::enumeration:
    return 1;
  case data_type::int16:
  case data_type::uint16:
    return 2;
  case data_type::int32:
  case data_type::uint32:
  case data_type::float32:
    return 4;
  case data_type::int64:
  case data_type::uint64:
  case data_type::float64:
    return 8;
  case data_type::date_time:
    return 12;
  case data_type::date:
    return 5;
  case data_type::time:
    return 4;
  default:
    return -1;
  }
}

axdr_status read_ber_length(std::span<const uint8_t> in, size_t& pos, size_t& length) noexcept {
  if (pos >= in.size())
    return axdr_status::truncated;
  const uint8_t first = in[pos++];
  if (first < 0x80) {
    length = first;
    return axdr_status::ok;
  }
  const size_t n = first & 0x7FU;
  if (n == 0 || n > 3)
    return axdr_status::malformed;
  if (n > in.size() - pos)
    return axdr_status::truncated;
  length = static_cast<size_t>(read_be(in, pos, n));
  pos += n;
  return axdr_status::ok;
}

bool parse_axdr_leaf(std::span<const uint8_t> in, size_t& pos, data_node& node,
                     axdr_status& status) noexcept {
  return parse_leaf(in, pos, node, status);
}

axdr_status parse_axdr(std::span<const uint8_t> in, size_t& pos, std::vector<data_node>& out) {
  if (pos >= in.size())
    return axdr_status::truncated;
  const uint8_t tag = in[pos++];
  if (!known_type(tag))
    return axdr_status::malformed;
  return parse_value(in, pos, static_cast<data_type>(tag), out, 0);
}

const char* type_name(data_type t) noexcept {
  switch (t) {
  case data_type::null_data:
    return "null_data";
  case data_type::array:
    return "array";
  case data_type::structure:
    return "structure";
  case data_type::boolean:
    return "boolean";
  case data_type::bit_string:
    return "bit_string";
  case data_type::int32:
    return "int32";
  case data_type::uint32:
    return "uint32";
  case data_type::octet_string:
    return "octet_string";
  case data_type::visible_string:
    return "visible_string";
  case data_type::utf8_string:
    return "utf8_string";
  case data_type::bcd:
    return "bcd";
  case data_type::int8:
    return "int8";
  case data_type::int16:
    return "int16";
  case data_type::uint8:
    return "uint8";
  case data_type::uint16:
    return "uint16";
  case data_type::compact_array:
    return "compact_array";
  case data_type::int64:
    return "int64";
  case data_type::uint64:
    return "uint64";
  case data_type::enumeration:
    return "enum";
  case data_type::float32:
    return "float32";
  case data_type::float64:
    return "float64";
  case data_type::date_time:
    return "date_time";
  case data_type::date:
    return "date";
  case data_type::time:
    return "time";
  case data_type::dont_care:
    return "dont_care";
  }
  return "unknown";
}

} // namespace wattline::dlms
