#pragma once

// Shared helpers of the DLMS tests: frames.json access, hex, feeding strategies.

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/dlms/decoder.hpp"
#include "engine/record.hpp"

namespace wattline::dlms::test {

/// Receive time used by the tests: 2024-01-01T00:00:00Z.
inline constexpr int64_t receive_ns = 1704067200LL * 1000000000LL;

/// Decodes hex (whitespace ignored).
std::vector<uint8_t> from_hex(std::string_view hex);

/// The parsed tests/data/dlms/frames.json.
const nlohmann::json& frames();

/// The bytes of entry `i`.
std::vector<uint8_t> frame_bytes(size_t i);

/// Decoder options for entry `i`: profile, key, auth key, timezone UTC (as smdc's reference run),
/// fallback id "fallback", raw transport for bare APDUs.
options frame_options(size_t i);

/// How bytes are handed to the decoder.
enum class chunking { whole, bytewise, random };

/// Feeds `bytes` into `dec` with the given chunking (seeded) and collects everything.
decode_result feed_all(decoder& dec, std::span<const uint8_t> bytes, chunking how,
                       uint32_t seed = 1);

/// Parses "2021-07-06T14:58:18+00:00" (optionally with fraction) to ns since the epoch.
int64_t parse_iso(const std::string& s);

/// True when the error list contains `kind`.
bool has_error(const decode_result& r, error_kind kind);

} // namespace wattline::dlms::test
