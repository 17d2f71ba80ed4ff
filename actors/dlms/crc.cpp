#include "actors/dlms/crc.hpp"

#include <array>

namespace wattline::dlms {

namespace {

constexpr std::array<uint16_t, 256> make_table() {
  std::array<uint16_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 1U) ? (crc >> 1) ^ 0x8408U : crc >> 1;
    table[i] = static_cast<uint16_t>(crc);
  }
  return table;
}

constexpr auto crc_table = make_table();

} // namespace

uint16_t crc16_x25(std::span<const uint8_t> bytes) noexcept {
  uint16_t crc = 0xFFFF;
  for (uint8_t b : bytes)
    crc = static_cast<uint16_t>((crc >> 8) ^ crc_table[(crc ^ b) & 0xFFU]);
  return static_cast<uint16_t>(crc ^ 0xFFFFU);
}

} // namespace wattline::dlms
