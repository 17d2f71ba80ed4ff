#include "actors/dlms/crc.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define WATTLINE_CRC_CLMUL 1
#endif

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

/// Runs the table CRC over `n` bytes from state `crc` (no final xor).
uint32_t crc_tables(uint32_t crc, const uint8_t* p, size_t n) noexcept {
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
  return crc;
}

#ifdef WATTLINE_CRC_CLMUL

/// x^t mod P for the CRC polynomial P = x^16 + x^12 + x^5 + 1, as a 16-bit value (bit d = x^d).
constexpr uint32_t x_pow_mod(unsigned t) {
  uint32_t r = 1;
  for (unsigned k = 0; k < t; ++k) {
    r <<= 1;
    if (r & 0x10000U)
      r ^= 0x11021U;
  }
  return r;
}

/// A polynomial of degree < 64 in the bit-reflected 64-bit form the CRC uses (x^d at bit 63 - d).
constexpr uint64_t reflect64(uint32_t poly) {
  uint64_t r = 0;
  for (unsigned d = 0; d < 32; ++d)
    if (poly & (1U << d))
      r |= uint64_t{1} << (63 - d);
  return r;
}

// Folding a 128-bit remainder X = H x^64 + L over the next 16 bytes needs X x^128 = H x^192 +
// L x^128 (mod P). A carry-less product of two bit-reflected 64-bit values is the reflected
// 128-bit product times x, hence the constants x^191 and x^127 (mod P).
constexpr uint64_t fold_high = reflect64(x_pow_mod(191)); // for H, the low quadword
constexpr uint64_t fold_low = reflect64(x_pow_mod(127));  // for L, the high quadword

/// Folds the 16-byte block `x` (the CRC state already mixed in) and the `n` (a multiple of 16)
/// bytes at `p` with PCLMULQDQ; returns the CRC state after them (the table CRC of the 16-byte
/// remainder from state 0).
[[gnu::target("pclmul,sse4.1")]] uint32_t crc_fold(__m128i x, const uint8_t* p, size_t n) noexcept {
  const __m128i k =
      _mm_set_epi64x(static_cast<long long>(fold_low), static_cast<long long>(fold_high));
  while (n >= 16) {
    const __m128i h = _mm_clmulepi64_si128(x, k, 0x00);
    const __m128i l = _mm_clmulepi64_si128(x, k, 0x11);
    x = _mm_xor_si128(_mm_xor_si128(h, l), _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    p += 16;
    n -= 16;
  }
  alignas(16) uint8_t rest[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(rest), x);
  return crc_tables(0, rest, 16);
}

/// Shuffle masks that move the first `lead` bytes of a block to its end and zero the rest:
/// `shift_masks + lead`, 16 bytes.
alignas(16) constexpr uint8_t shift_masks[32] = {
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0,    1,    2,    3,    4,    5,    6,    7,    8,    9,    10,   11,   12,   13,   14,   15};

/// The CRC state after `n` (>= 16) bytes from state `crc`. The `n % 16` leading bytes go first,
/// as a block right-aligned over zeros (zero bytes from state 0 leave it 0, and a state is the
/// same as its bytes xored into the next two input bytes), so no byte-wise tail remains.
[[gnu::target("pclmul,ssse3,sse4.1")]] uint32_t crc_clmul(uint32_t crc, const uint8_t* p,
                                                          size_t n) noexcept {
  const size_t lead = n % 16;
  const __m128i state = _mm_cvtsi32_si128(static_cast<int>(crc));
  const __m128i first = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), state);
  if (lead == 0)
    return crc_fold(first, p + 16, n - 16);
  const __m128i x = _mm_shuffle_epi8(
      first, _mm_loadu_si128(reinterpret_cast<const __m128i*>(shift_masks + lead)));
  if (lead >= 2)
    return crc_fold(x, p + lead, n - lead);
  // One leading byte: the state's second byte goes into the next block.
  const __m128i k =
      _mm_set_epi64x(static_cast<long long>(fold_low), static_cast<long long>(fold_high));
  const __m128i next = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1)),
                                     _mm_cvtsi32_si128(static_cast<int>(crc >> 8)));
  const __m128i y = _mm_xor_si128(
      _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), next);
  return crc_fold(y, p + 17, n - 17);
}

const bool has_clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("ssse3") &&
                       __builtin_cpu_supports("sse4.1");

#endif

} // namespace

uint16_t crc16_x25(std::span<const uint8_t> bytes) noexcept {
  uint32_t crc = 0xFFFF;
  const uint8_t* p = bytes.data();
  const size_t n = bytes.size();
#ifdef WATTLINE_CRC_CLMUL
  if (n >= 16 && has_clmul)
    return static_cast<uint16_t>(crc_clmul(crc, p, n) ^ 0xFFFFU);
#endif
  return static_cast<uint16_t>(crc_tables(crc, p, n) ^ 0xFFFFU);
}

} // namespace wattline::dlms
