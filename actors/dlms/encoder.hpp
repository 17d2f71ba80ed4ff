#pragma once

// Builds DLMS push messages: A-XDR values, data-notifications, general-glo-ciphering,
// general-block-transfer and HDLC / M-Bus framing. Used by tests, benchmarks and the demo
// capture generator (a meter simulator in software).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "actors/dlms/cosem.hpp"
#include "actors/dlms/crypto.hpp"

namespace wattline::dlms {

/// Appends a BER length.
void write_ber_length(std::vector<uint8_t>& out, size_t length);

/// Appends tagged A-XDR values; every method returns `*this` for chaining.
class axdr_writer {
public:
  /// structure with `count` members (the members follow).
  axdr_writer& structure(size_t count);
  /// array with `count` elements (the elements follow).
  axdr_writer& array(size_t count);
  /// null-data.
  axdr_writer& null();
  /// boolean.
  axdr_writer& boolean(bool v);
  /// octet-string.
  axdr_writer& octet_string(std::span<const uint8_t> b);
  /// visible-string.
  axdr_writer& visible_string(std::string_view s);
  /// integer (int8).
  axdr_writer& int8(int8_t v);
  /// long (int16).
  axdr_writer& int16(int16_t v);
  /// double-long (int32).
  axdr_writer& int32(int32_t v);
  /// long64 (int64).
  axdr_writer& int64(int64_t v);
  /// unsigned (uint8).
  axdr_writer& uint8(uint8_t v);
  /// long-unsigned (uint16).
  axdr_writer& uint16(uint16_t v);
  /// double-long-unsigned (uint32).
  axdr_writer& uint32(uint32_t v);
  /// long64-unsigned (uint64).
  axdr_writer& uint64(uint64_t v);
  /// enum.
  axdr_writer& enumeration(uint8_t v);
  /// float32.
  axdr_writer& float32(float v);
  /// float64.
  axdr_writer& float64(double v);
  /// A date-time as octet-string `09 0C` + 12 bytes (how meters push clock values).
  axdr_writer& date_time(const cosem_datetime& dt);
  /// An OBIS code as octet-string `09 06` + 6 bytes.
  axdr_writer& obis(const obis_code& o);
  /// A scaler-unit structure `02 02 0F s 16 u`.
  axdr_writer& scaler_unit(int8_t scaler, uint8_t unit);
  /// Appends pre-encoded bytes.
  axdr_writer& raw(std::span<const uint8_t> b);

  /// The bytes written so far.
  [[nodiscard]] const std::vector<uint8_t>& bytes() const noexcept { return out_; }
  /// Moves the bytes out.
  [[nodiscard]] std::vector<uint8_t> take() noexcept { return std::move(out_); }

private:
  void be(uint64_t v, int n);
  std::vector<uint8_t> out_;
};

/// data-notification: 0x0F, invoke id, date-time (`0C` + 12 bytes, or `00` when absent), body.
[[nodiscard]] std::vector<uint8_t>
encode_data_notification(uint32_t invoke_id, const std::optional<cosem_datetime>& time,
                         std::span<const uint8_t> body);

/// general-glo-ciphering (tag 0xDB) or general-ded-ciphering (0xDC) of `plaintext` with security
/// control `sc` (0x30: encrypt + 12-byte tag over SC||AK; 0x20/0x21: encrypt only; 0x10: tag
/// only). `auth_key` is needed for a tag. Returns an empty vector on a crypto error.
[[nodiscard]] std::vector<uint8_t>
encode_ciphered(uint8_t tag, std::span<const uint8_t, 8> system_title, uint8_t sc,
                uint32_t invocation_counter, std::span<const uint8_t> plaintext, const aes_key& key,
                const std::optional<aes_key>& auth_key);

/// Splits an APDU into general-block-transfer APDUs of at most `block_size` data bytes,
/// numbered from 1, the last one with the last-block bit.
[[nodiscard]] std::vector<std::vector<uint8_t>> encode_gbt(std::span<const uint8_t> apdu,
                                                           size_t block_size);

/// Frames a list of link payloads as L+G E450 does: one unsegmented HDLC UI frame (control 0x13,
/// destination CE FF, source 03) each; the LLC `E6 E7 00` precedes the first payload only.
[[nodiscard]] std::vector<uint8_t> encode_hdlc_push(const std::vector<std::vector<uint8_t>>& parts);

/// Frames one APDU with HDLC segmentation as the Iskra AM550 does: segments of at most
/// `segment_size` information bytes, control 0x03 on non-final and 0x13 on the final segment,
/// LLC in the first only.
[[nodiscard]] std::vector<uint8_t> encode_hdlc_segmented(std::span<const uint8_t> apdu,
                                                         size_t segment_size);

/// Frames one APDU as M-Bus long frames (C 0x53, A 0xFF, TSAPs 01 67) of at most `chunk` APDU
/// bytes each.
[[nodiscard]] std::vector<uint8_t> encode_mbus_push(std::span<const uint8_t> apdu, size_t chunk);

/// One entry of a push-object list.
struct push_entry {
  /// COSEM interface class (1 data, 3 register, 4 extended register, 8 clock, 40 push setup).
  uint16_t class_id = 3;
  /// Logical name.
  obis_code obis;
  /// Attribute index (2 value, 3 scaler-unit).
  int8_t attribute = 2;
};

/// Body of a push with its object list (shape A): structure { array of {class, OBIS, attribute,
/// 0}, values... }. `values[k]` is the encoded value of `entries[k]` for k >= 1 (entry 0 is the
/// push setup's object list itself, whose value is the list).
[[nodiscard]] std::vector<uint8_t> encode_push_body(std::span<const push_entry> entries,
                                                    std::span<const std::vector<uint8_t>> values);

} // namespace wattline::dlms
