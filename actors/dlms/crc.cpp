#include "actors/dlms/crc.hpp"

#include <array>

namespace wattline::dlms {

namespace {

// Slicing-by-16 tables: t[0] is the classic byte table, t[k][i] advances t[k-1][i] by one zero
// byte, so sixteen input bytes are folded per step with independent lookups (only the first two
// depend on the running CRC).
constexpr size_t slices = 16;

constexpr std::array<std::array<uint16_t, 256>, slices> make_tables() {
  std::array<std::array<uint16_t, 256>, slices> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 1U) ? (crc >> 1) ^ 0x8408U : crc >> 1;
    t[0][i] = static_cast<uint16_t>(crc);
  }
  for (size_t k = 1; k < slices; ++k)
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
  while (n >= slices) {
    const uint32_t x = crc ^ (static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8));
    // Four independent xor chains instead of one.
    const uint32_t a =
        tables[15][x & 0xFFU] ^ tables[14][x >> 8] ^ tables[13][p[2]] ^ tables[12][p[3]];
    const uint32_t b = tables[11][p[4]] ^ tables[10][p[5]] ^ tables[9][p[6]] ^ tables[8][p[7]];
    const uint32_t c = tables[7][p[8]] ^ tables[6][p[9]] ^ tables[5][p[10]] ^ tables[4][p[11]];
    const uint32_t d = tables[3][p[12]] ^ tables[2][p[13]] ^ tables[1][p[14]] ^ tables[0][p[15]];
    crc = (a ^ b) ^ (c ^ d);
    p += slices;
    n -= slices;
  }
  if (n >= 8) {
    const uint32_t x = crc ^ (static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8));
    const uint32_t a = tables[7][x & 0xFFU] ^ tables[6][x >> 8] ^ tables[5][p[2]] ^ tables[4][p[3]];
    const uint32_t b = tables[3][p[4]] ^ tables[2][p[5]] ^ tables[1][p[6]] ^ tables[0][p[7]];
    crc = a ^ b;
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    const uint32_t x = crc ^ (static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8));
    crc = tables[3][x & 0xFFU] ^ tables[2][x >> 8] ^ tables[1][p[2]] ^ tables[0][p[3]];
    p += 4;
    n -= 4;
  }
  while (n-- > 0)
    crc = (crc >> 8) ^ tables[0][(crc ^ *p++) & 0xFFU];
  return static_cast<uint16_t>(crc ^ 0xFFFFU);
}

} // namespace wattline::dlms
