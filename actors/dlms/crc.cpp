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

/// A polynomial of degree < 64 (bit d = x^d) in the bit-reflected 64-bit form the CRC uses
/// (x^d at bit 63 - d).
constexpr uint64_t reflect64(uint64_t poly) {
  uint64_t r = 0;
  for (unsigned d = 0; d < 64; ++d)
    if ((poly >> d) & 1U)
      r |= uint64_t{1} << (63 - d);
  return r;
}

// Folding a 128-bit remainder X = H x^64 + L over the next d bits needs X x^d = H x^(64+d) +
// L x^d (mod P). A carry-less product of two bit-reflected 64-bit values is the reflected 128-bit
// product times x, hence the constants x^(63+d) and x^(d-1) (mod P).
struct fold_constants {
  uint64_t high; // for H, the low quadword
  uint64_t low;  // for L, the high quadword
};
constexpr fold_constants fold_by(unsigned bytes) {
  return {reflect64(x_pow_mod(63 + 8 * bytes)), reflect64(x_pow_mod(8 * bytes - 1))};
}
constexpr fold_constants fold_16 = fold_by(16);
constexpr fold_constants fold_32 = fold_by(32);
constexpr fold_constants fold_48 = fold_by(48);
constexpr fold_constants fold_64 = fold_by(64);

[[gnu::target("pclmul,sse4.1")]] inline __m128i constants(fold_constants c) noexcept {
  return _mm_set_epi64x(static_cast<long long>(c.low), static_cast<long long>(c.high));
}

/// `x` moved `k`'s distance further: the two partial products, xored.
[[gnu::target("pclmul,sse4.1")]] inline __m128i fold(__m128i x, __m128i k) noexcept {
  return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

[[gnu::target("pclmul,sse4.1")]] inline __m128i load(const uint8_t* p) noexcept {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

/// floor(x^80 / P) without its x^64 term (bit d = x^d): Barrett's constant for remainders of
/// degree < 80.
constexpr uint64_t barrett_mu() {
  unsigned __int128 r = static_cast<unsigned __int128>(1) << 80;
  unsigned __int128 q = 0;
  for (int d = 80; d >= 16; --d)
    if ((r >> d) & 1U) {
      q |= static_cast<unsigned __int128>(1) << (d - 16);
      r ^= static_cast<unsigned __int128>(0x11021U) << (d - 16);
    }
  return static_cast<uint64_t>(q); // drops x^64
}

// Constants of `crc_reduce`, in the reflected form.
constexpr uint64_t reduce_k80 = reflect64(x_pow_mod(79)); // x^79 mod P: with the product's x, x^80
constexpr uint64_t reduce_mu = reflect64(barrett_mu());   // floor(x^80 / P) - x^64
constexpr uint64_t reduce_p_low = reflect64(0x1021U);     // P - x^16

/// The table CRC from state 0 of the 16 bytes in `x`, R x^16 mod P for the block's polynomial R
/// (x^e at bit 127 - e), without tables: R = H x^64 + L is first brought below degree 80 as
/// T = H (x^80 mod P) + L x^16, then reduced by Barrett: q = floor(T / P) from the top 64
/// coefficients of T and floor(x^80 / P), and T mod P = T + q P, whose low 16 coefficients
/// only need P's terms below x^16.
[[gnu::target("pclmul,sse4.1")]] uint32_t crc_reduce(__m128i x) noexcept {
  const __m128i k80 = _mm_cvtsi64_si128(static_cast<long long>(reduce_k80));
  const __m128i l16 = _mm_srli_si128(_mm_unpackhi_epi64(_mm_setzero_si128(), x), 2);
  const __m128i t = _mm_xor_si128(_mm_clmulepi64_si128(x, k80, 0x00), l16);
  const auto t_low = static_cast<uint64_t>(_mm_cvtsi128_si64(t));
  const auto t_high = static_cast<uint64_t>(_mm_extract_epi64(t, 1));
  const uint64_t top = (t_low >> 48) | (t_high << 16); // coefficients 79..16
  const __m128i mu = _mm_cvtsi64_si128(static_cast<long long>(reduce_mu));
  const auto partial = static_cast<uint64_t>(_mm_cvtsi128_si64(
      _mm_clmulepi64_si128(_mm_cvtsi64_si128(static_cast<long long>(top)), mu, 0x00)));
  const uint64_t q = top ^ (partial << 1);
  const __m128i p_low = _mm_cvtsi64_si128(static_cast<long long>(reduce_p_low));
  const auto qp_high = static_cast<uint64_t>(_mm_extract_epi64(
      _mm_clmulepi64_si128(_mm_cvtsi64_si128(static_cast<long long>(q)), p_low, 0x00), 1));
  return static_cast<uint32_t>(((t_high >> 48) ^ (qp_high >> 47)) & 0xFFFFU);
}

/// Folds the 16-byte block `x` (the CRC state already mixed in) and the `n` (a multiple of 16)
/// bytes at `p` with PCLMULQDQ; returns the CRC state after them (`crc_reduce` of the 16-byte
/// remainder). From four blocks on (`x` and 48 more bytes), four blocks are folded side by side,
/// each over 64 bytes, so that the products' latencies overlap, and then folded into one.
[[gnu::target("pclmul,sse4.1")]] uint32_t crc_fold(__m128i x, const uint8_t* p, size_t n) noexcept {
  if (n >= 48) {
    __m128i a0 = x;
    __m128i a1 = load(p);
    __m128i a2 = load(p + 16);
    __m128i a3 = load(p + 32);
    p += 48;
    n -= 48;
    const __m128i k64 = constants(fold_64);
    while (n >= 64) {
      a0 = _mm_xor_si128(fold(a0, k64), load(p));
      a1 = _mm_xor_si128(fold(a1, k64), load(p + 16));
      a2 = _mm_xor_si128(fold(a2, k64), load(p + 32));
      a3 = _mm_xor_si128(fold(a3, k64), load(p + 48));
      p += 64;
      n -= 64;
    }
    x = _mm_xor_si128(_mm_xor_si128(fold(a0, constants(fold_48)), fold(a1, constants(fold_32))),
                      _mm_xor_si128(fold(a2, constants(fold_16)), a3));
  }
  const __m128i k16 = constants(fold_16);
  while (n >= 16) {
    x = _mm_xor_si128(fold(x, k16), load(p));
    p += 16;
    n -= 16;
  }
  return crc_reduce(x);
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
  const __m128i first = _mm_xor_si128(load(p), state);
  if (lead == 0)
    return crc_fold(first, p + 16, n - 16);
  const __m128i x = _mm_shuffle_epi8(
      first, _mm_loadu_si128(reinterpret_cast<const __m128i*>(shift_masks + lead)));
  if (lead >= 2)
    return crc_fold(x, p + lead, n - lead);
  // One leading byte: the state's second byte goes into the next block.
  const __m128i next = _mm_xor_si128(load(p + 1), _mm_cvtsi32_si128(static_cast<int>(crc >> 8)));
  return crc_fold(_mm_xor_si128(fold(x, constants(fold_16)), next), p + 17, n - 17);
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
