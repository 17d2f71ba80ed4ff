#pragma once

// The DLMS/COSEM push decoder: a stateful byte-stream decoder that turns what a meter interface
// delivers (HDLC frames, wired M-Bus long frames or raw APDUs, in arbitrary chunks) into one
// `wattline::record` per push message, plus classified error events. Pure C++: no CAF.
//
//   wattline::dlms::options opts;
//   opts.profile = "lge450";
//   if (auto err = wattline::dlms::parse_key("101112131415161718191A1B1C1D1E1F", opts.key);
//       !err.empty()) ...
//   wattline::dlms::decoder dec(opts);       // throws std::invalid_argument on bad options
//   auto out = dec.feed(bytes, receive_time_ns);  // never throws on any input
//   for (auto& rec : out.records) ...
//   for (auto& err : out.errors) metrics[error_name(err.kind)]++;

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "actors/dlms/crypto.hpp"
#include "engine/record.hpp"

namespace wattline::dlms {

/// Classified decode errors. `error_name` gives the stable snake_case name used for metrics.
enum class error_kind : uint8_t {
  crc,                  ///< HDLC HCS/FCS or M-Bus checksum mismatch; the frame is dropped.
  framing,              ///< Missing closing flag / stop byte, frame without TSAPs.
  garbage,              ///< Bytes between frames that start no frame (reported per run).
  truncated,            ///< A message ended early: segments missing, APDU shorter than stated.
  segment_sequence,     ///< M-Bus segment out of sequence.
  oversize,             ///< A reassembled message exceeds `options::max_message_size`.
  gbt_gap,              ///< General-block-transfer block missing (or a block without block 1).
  gbt_duplicate,        ///< General-block-transfer block repeated or going backwards.
  gbt_incomplete,       ///< A new block 1 arrived before the last block of the previous message.
  no_key,               ///< Encrypted, no key configured.
  wrong_key,            ///< Decryption gave no DLMS APDU: the key is wrong.
  auth_failed,          ///< GCM tag mismatch with the configured auth_key.
  unsupported_security, ///< Security suite > 1 or compression.
  unknown_apdu,         ///< An APDU other than data-notification, GBT or ciphering.
  malformed_data,       ///< A-XDR or APDU encoding error.
  unknown_shape,        ///< Notification body in no supported layout (or no matching field list).
  no_values,            ///< Message decoded but it carried no register values.
};

/// Number of `error_kind` values.
inline constexpr size_t error_kind_count = 17;

/// Stable snake_case name of an error kind, e.g. "wrong_key".
[[nodiscard]] std::string_view error_name(error_kind kind) noexcept;

/// One classified error. The message never contains key material.
struct error_event {
  /// What went wrong.
  error_kind kind = error_kind::garbage;
  /// Human-readable detail, e.g. "encrypted, no key configured (system title LGZgs...)".
  std::string message;
  /// Receive time of the chunk that revealed the error (ns since the epoch, UTC).
  int64_t time_ns = 0;
};

/// Which framing the byte stream uses.
enum class transport : uint8_t {
  auto_detect, ///< HDLC (0x7E) and wired M-Bus long frames (0x68), detected per frame.
  hdlc,        ///< HDLC frames only.
  mbus,        ///< M-Bus long frames only.
  raw,         ///< Bare APDUs (optionally with LLC), delimited by their own lengths. No checksum.
};

/// Decoder configuration.
struct options {
  /// Meter profile: generic, lge450, lge570, lge360, iskraam550, kamstrup_han, kaifa_no,
  /// wiener_netze, netz_burgenland. Selects scale overrides and default field lists.
  std::string profile = "generic";
  /// Global unicast encryption key (GUEK); unset = encrypted messages are reported as no_key.
  std::optional<aes_key> key;
  /// Authentication key; when set, the GCM tag of SC 0x30 / 0x10 messages is verified.
  std::optional<aes_key> auth_key;
  /// IANA time zone for date-times with unspecified deviation; empty = the host's zone.
  std::string timezone;
  /// Ordered field list for value-only payloads (shape D); overrides the profile's lists. Entry
  /// syntax: "skip", "meter_id", "timestamp", an OBIS code or identifier with optional
  /// "@scaler", e.g. {"timestamp", "ACTIVE_ENERGY_P", "1-0:32.7.0*255@-1"}.
  std::vector<std::string> fields;
  /// Meter tag when no message carried an id so far (e.g. the port); empty = "unknown".
  std::string fallback_id;
  /// Stamp records with the receive time instead of the meter's time.
  bool system_time = false;
  /// Framing of the byte stream.
  transport framing = transport::auto_detect;
  /// Upper bound of a reassembled message (segments, GBT blocks, raw APDU), bytes.
  size_t max_message_size = 65536;
  /// Decode a body with the layout of the previous one by replaying that layout, and reassemble
  /// HDLC frames with the headers of the previous message's frames without parsing them (the
  /// records and errors are the same either way; false walks every frame and body, for
  /// comparisons).
  bool replay_layouts = true;
};

/// Parses 32 hex digits into `out` (surrounding whitespace ignored). An empty string resets
/// `out` (unset). Returns an empty string on success, else an error that does not repeat the
/// input.
[[nodiscard]] std::string parse_key(std::string_view hex, std::optional<aes_key>& out);

/// Checks options; returns an empty string when valid, else the first problem.
[[nodiscard]] std::string validate(const options& opts);

/// Counters since construction.
struct decoder_stats {
  /// Bytes fed.
  uint64_t bytes = 0;
  /// Frames with valid checksums (HDLC, M-Bus) or raw APDUs delimited. The frames of a message
  /// held for link replay (see `link_replayed`) are counted when it is complete.
  uint64_t frames = 0;
  /// Complete data-notifications decoded.
  uint64_t messages = 0;
  /// Of `messages`, those whose body had the layout of an earlier one (same bytes except the
  /// register values and date-times) and was decoded by replaying that layout.
  uint64_t replayed = 0;
  /// Messages of HDLC frames reassembled by replaying the frames of an earlier message (same
  /// bytes except the general-block-transfer data and the FCS) instead of parsing each frame.
  uint64_t link_replayed = 0;
  /// Records emitted.
  uint64_t records = 0;
  /// Errors per kind, indexed by `error_kind`.
  std::array<uint64_t, error_kind_count> errors{};

  /// Errors of one kind.
  [[nodiscard]] uint64_t count(error_kind k) const noexcept {
    return errors[static_cast<size_t>(k)];
  }
};

/// What one `feed` produced.
struct decode_result {
  /// One record per decoded push message, in stream order.
  std::vector<record> records;
  /// Classified errors, in stream order.
  std::vector<error_event> errors;
};

/// Stateful stream decoder. Not thread-safe; one instance per byte stream.
class decoder {
public:
  /// Throws std::invalid_argument when `validate(opts)` reports a problem.
  explicit decoder(options opts);
  ~decoder();
  /// Movable, not copyable.
  decoder(decoder&&) noexcept;
  /// Movable, not copyable.
  decoder& operator=(decoder&&) noexcept;
  decoder(const decoder&) = delete;
  decoder& operator=(const decoder&) = delete;

  /// Feeds the next bytes of the stream; returns the records of messages completed by them and
  /// the errors found. Never throws (allocation failure aside).
  decode_result feed(std::span<const uint8_t> bytes, int64_t receive_time_ns);

  /// Same, appending to `out` (lets a caller reuse its vectors).
  void feed(std::span<const uint8_t> bytes, int64_t receive_time_ns, decode_result& out);

  /// Drops buffered bytes and partial messages (e.g. after the port was reopened). Keeps
  /// counters and the cached meter id.
  void reset() noexcept;

  /// Counters since construction.
  [[nodiscard]] const decoder_stats& stats() const noexcept;

  /// The options in use.
  [[nodiscard]] const options& config() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace wattline::dlms
