#include "actors/dlms/crc.hpp"

#include <array>

namespace wattline::dlms {

namespace {

// Slicing-by-4 tables: t[0] is the classic byte table, t[k][i] advances t[k-1][i] by one zero
// byte, so four input bytes are folded per step.
constexpr std::array<std::array<uint16_t, 256>, 4> make_tables() {
  std::array<std::array<uint16_t, 256>, 4> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 1U) ? (crc >> 1) ^ 0x8408U : crc >> 1;
    t[0][i] = static_cast<uint16_t>(crc);
  }
  for (size_t k = 1; k < 4; ++k)
    for (uint32_t i = 0; i < 256; ++i)
      t[k][i] = static_cast<uint16_t>((t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFFU]);
  return t;
}

constexpr auto tables = make_tables();

} // namespace

uint16_t crc16_x25(std::span<const uint8_t> bytes) noexcept {
  uint32_t crc = 0xFFFF;
  const uint8_t* p = bytes.data();
  size_t n = bytes.size();
  while (n >= 4) {
    const uint32_t x = crc ^ (static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8));
    crc = tables[3][x & 0xFFU] ^ tables[2][(x >> 8) & 0xFFU] ^ tables[1][p[2]] ^ tables[0][p[3]];
    p += 4;
    n -= 4;
  }
  while (n-- > 0)
    crc = (crc >> 8) ^ tables[0][(crc ^ *p++) & 0xFFU];
  return static_cast<uint16_t>(crc ^ 0xFFFFU);
}

} // namespace wattline::dlms
