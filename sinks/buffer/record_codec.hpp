#pragma once

// Binary serialisation of wattline::record for the disk buffer. Little-endian, length-prefixed:
//   u32 name_len, name, u32 tag_count, (u32 len, key, u32 len, value)*, u32 field_count,
//   (u32 len, key, u8 type, value, u32 len, unit, u32 len, obis)*, i64 time_ns
// where a value is f64 / i64 / u64 (8 bytes), bool (1 byte) or u32 len + bytes (string), and the
// type byte is the index of record.hpp's field_value variant (append-only, so old files stay
// readable).

#include "engine/record.hpp"

#include <string>
#include <string_view>

namespace wattline::sink_buffer {

/// Appends the serialised form of `r` to `out`.
void encode_record(const record& r, std::string& out);

/// Parses one serialised record that spans exactly `data`. Returns false (and leaves `out` in an
/// unspecified state) when the bytes are not a valid record.
[[nodiscard]] bool decode_record(std::string_view data, record& out);

/// Approximate memory footprint of a record in bytes (for the memory buffer's bound).
[[nodiscard]] std::size_t record_footprint(const record& r);

} // namespace wattline::sink_buffer
