#include "protocol/crc32c.hpp"

#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ASIOKAFKA_CRC32C_X86 1
#elif defined(__aarch64__) && defined(__linux__)
#include <arm_acle.h>
#include <asm/hwcap.h>
#include <sys/auxv.h>
#define ASIOKAFKA_CRC32C_ARM 1
#endif

namespace asiokafka::protocol {
namespace {

// Castagnoli polynomial, bit-reflected. In this representation bit 31 is the coefficient of
// x^0 and bit 0 that of x^31, so multiplying by x is a right shift with reduction.
constexpr std::uint32_t kPoly = 0x82F63B78u;

constexpr std::uint32_t times_x(std::uint32_t a) { return (a & 1u) ? (a >> 1) ^ kPoly : a >> 1; }

// a * b mod P, both reflected.
constexpr std::uint32_t poly_mul(std::uint32_t a, std::uint32_t b) {
  std::uint32_t product = 0;
  for (std::uint32_t bit = 1u << 31; bit != 0; bit >>= 1) {
    if (a & bit) product ^= b;
    b = times_x(b);
  }
  return product;
}

// x^(8 * n) mod P: the effect of n zero bytes on an unconditioned CRC register.
constexpr std::uint32_t x_pow_bytes(std::size_t n) {
  std::uint32_t r = 1u << 31;  // x^0
  for (std::size_t i = 0; i < 8 * n; ++i) r = times_x(r);
  return r;
}

// x^e mod P, reflected.
constexpr std::uint32_t x_pow(std::size_t e) {
  std::uint32_t r = 1u << 31;  // x^0
  for (std::size_t i = 0; i < e; ++i) r = times_x(r);
  return r;
}

using Table = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr Table make_slicing_tables() {
  Table t{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = times_x(c);
    t[0][n] = c;
  }
  for (std::size_t k = 1; k < 8; ++k) {
    for (std::size_t n = 0; n < 256; ++n) t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xffu];
  }
  return t;
}

constexpr Table kSlicing = make_slicing_tables();

inline std::uint64_t load_le64(const std::uint8_t* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

std::uint32_t portable_raw(std::uint32_t crc, const std::uint8_t* p, std::size_t n) noexcept {
  while (n >= 8) {
    const std::uint64_t w = load_le64(p) ^ crc;
    const auto lo = static_cast<std::uint32_t>(w);
    const auto hi = static_cast<std::uint32_t>(w >> 32);
    crc = kSlicing[7][lo & 0xff] ^ kSlicing[6][(lo >> 8) & 0xff] ^ kSlicing[5][(lo >> 16) & 0xff] ^
          kSlicing[4][lo >> 24] ^ kSlicing[3][hi & 0xff] ^ kSlicing[2][(hi >> 8) & 0xff] ^
          kSlicing[1][(hi >> 16) & 0xff] ^ kSlicing[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = kSlicing[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(ASIOKAFKA_CRC32C_X86) || defined(ASIOKAFKA_CRC32C_ARM)
// The instruction has a latency of several cycles but a throughput of one per cycle, so long
// inputs are cut into three equal blocks whose CRCs are computed in interleaved streams and
// then combined: crc(A||B) = crc(A) * x^(8|B|) xor crc0(B). Multiplication by the constant
// x^(8|B|) is linear, so it is done with four byte-indexed tables.
using ShiftTable = std::array<std::array<std::uint32_t, 256>, 4>;

constexpr ShiftTable make_shift_table(std::size_t block) {
  const std::uint32_t k = x_pow_bytes(block);
  ShiftTable t{};
  for (std::size_t i = 0; i < 4; ++i) {
    for (std::uint32_t v = 0; v < 256; ++v) t[i][v] = poly_mul(k, v << (8 * i));
  }
  return t;
}

constexpr std::size_t kLongBlock = 2048;
constexpr std::size_t kShortBlock = 256;
constexpr ShiftTable kShiftLong = make_shift_table(kLongBlock);
constexpr ShiftTable kShiftShort = make_shift_table(kShortBlock);

inline std::uint32_t shift(const ShiftTable& t, std::uint32_t c) noexcept {
  return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
}
#endif

#if defined(ASIOKAFKA_CRC32C_X86)
#define ASIOKAFKA_HW_TARGET __attribute__((target("sse4.2")))
ASIOKAFKA_HW_TARGET inline std::uint32_t hw_u64(std::uint32_t c, std::uint64_t v) noexcept {
  return static_cast<std::uint32_t>(_mm_crc32_u64(c, v));
}
ASIOKAFKA_HW_TARGET inline std::uint32_t hw_u8(std::uint32_t c, std::uint8_t v) noexcept {
  return _mm_crc32_u8(c, v);
}
#elif defined(ASIOKAFKA_CRC32C_ARM)
#define ASIOKAFKA_HW_TARGET __attribute__((target("arch=armv8-a+crc")))
ASIOKAFKA_HW_TARGET inline std::uint32_t hw_u64(std::uint32_t c, std::uint64_t v) noexcept {
  return __crc32cd(c, v);
}
ASIOKAFKA_HW_TARGET inline std::uint32_t hw_u8(std::uint32_t c, std::uint8_t v) noexcept {
  return __crc32cb(c, v);
}
#endif

#if defined(ASIOKAFKA_CRC32C_X86) || defined(ASIOKAFKA_CRC32C_ARM)
ASIOKAFKA_HW_TARGET inline std::uint32_t interleaved(std::uint32_t crc, const std::uint8_t*& p, std::size_t& n,
                                                     std::size_t block, const ShiftTable& table) noexcept {
  while (n >= 3 * block) {
    std::uint32_t c0 = crc, c1 = 0, c2 = 0;
    const std::uint8_t* a = p;
    const std::uint8_t* b = p + block;
    const std::uint8_t* c = p + 2 * block;
    for (std::size_t i = 0; i < block; i += 8) {
      c0 = hw_u64(c0, load_le64(a + i));
      c1 = hw_u64(c1, load_le64(b + i));
      c2 = hw_u64(c2, load_le64(c + i));
    }
    crc = shift(table, shift(table, c0) ^ c1) ^ c2;
    p += 3 * block;
    n -= 3 * block;
  }
  return crc;
}

// The tail every hardware path ends with: 8-byte words, then single bytes.
ASIOKAFKA_HW_TARGET inline std::uint32_t hw_tail(std::uint32_t crc, const std::uint8_t* p, std::size_t n) noexcept {
  while (n >= 8) {
    crc = hw_u64(crc, load_le64(p));
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = hw_u8(crc, *p++);
  return crc;
}

ASIOKAFKA_HW_TARGET std::uint32_t hardware_raw(std::uint32_t crc, const std::uint8_t* p, std::size_t n) noexcept {
  // Align to 8 bytes so that the word loads do not straddle cache lines.
  while (n > 0 && (reinterpret_cast<std::uintptr_t>(p) & 7u) != 0) {
    crc = hw_u8(crc, *p++);
    --n;
  }
  crc = interleaved(crc, p, n, kLongBlock, kShiftLong);
  crc = interleaved(crc, p, n, kShortBlock, kShiftShort);
  return hw_tail(crc, p, n);
}
#endif

#if defined(ASIOKAFKA_CRC32C_X86) && defined(__x86_64__)
#define ASIOKAFKA_CRC32C_CLMUL 1
// Carry-less multiplication folding (PCLMULQDQ), derived here for P = 0x1EDC6F41.
//
// Over GF(2), the raw CRC register (initial value 0, no inversion) of a message M is
// M(x)·x^32 mod P, where the message's first bit is its highest coefficient. Any value that
// is congruent to M modulo P, at the same position, has the same CRC. Folding keeps a
// 128-bit remainder A of everything read so far, of degree < 128, and advances it:
//   A(x)·x^D + B(x) ≡ A'(x)  (mod P),   B = the 128 bits that start D bits after A.
//
// Bit layout. A 16-byte chunk loaded little-endian into a 128-bit register has bit k (byte
// k/8, bit k%8) equal to the coefficient of x^(127-k) (the CRC is bit-reflected). So the low
// 64-bit half holds x^127..x^64 and the high half x^63..x^0: A = lo(x)·x^64 + hi(x), with
// each half read reflected (bit i = x^(63-i)).
// PCLMULQDQ multiplies two 64-bit integers without carries: product bit k = xor of a_i·b_j
// over i+j = k. With a = a 64-bit half (bit i = x^(63-i)) and b = a 32-bit constant in CRC
// register form (bit j = x^(31-j)), the product term is x^(94-k); read as a 128-bit reflected
// register (bit k = x^(127-k)) the product is a(x)·K(x)·x^33.
// Hence
//   A·x^D = lo·x^(D+64) + hi·x^D ≡ clmul(lo, x^(D+31) mod P) ⊕ clmul(hi, x^(D-33) mod P),
// a value of degree ≤ 63 + 31 + 33 = 127, which fits the register. The two constants per
// distance D are computed at compile time by x_pow() below; nothing is tabulated by hand.
//
// The initial CRC register c enters as c·x^|M| = (c·x^(|M|-32))·x^32: c xored into the first
// 32 message bits, i.e. the low 32 bits of the first chunk. At the end, the crc32 instruction
// over the 16 bytes of A (register 0) gives A·x^32 mod P, the raw CRC of all folded bytes;
// the remaining tail (< 16 bytes) continues with crc32 instructions.
struct FoldConstants {
  std::uint64_t lo;  // x^(D+31) mod P: multiplies the low (high-degree) half
  std::uint64_t hi;  // x^(D-33) mod P: multiplies the high (low-degree) half
};

constexpr FoldConstants fold_constants(std::size_t distance_bits) {
  return {x_pow(distance_bits + 31), x_pow(distance_bits - 33)};
}

// Compile-time check of the derivation with a software model of PCLMULQDQ: a message made of a
// 16-byte chunk A, D/8 - 16 zero bytes and a 16-byte chunk B is A·x^D + B, so folding A by D
// and xoring B must leave a 16-byte value with the message's CRC.
struct U128 {
  std::uint64_t lo, hi;
};

constexpr U128 clmul_model(std::uint64_t a, std::uint64_t b) {
  U128 r{0, 0};
  for (int i = 0; i < 64; ++i) {
    if ((a >> i) & 1u) {
      r.lo ^= b << i;
      if (i != 0) r.hi ^= b >> (64 - i);
    }
  }
  return r;
}

constexpr std::uint32_t bitwise_raw(std::uint32_t crc, std::uint8_t byte) {
  crc ^= byte;
  for (int k = 0; k < 8; ++k) crc = times_x(crc);
  return crc;
}

constexpr std::uint8_t model_byte(std::size_t i) { return static_cast<std::uint8_t>(i * 37 + 11); }

constexpr bool fold_model_agrees(std::uint32_t k_lo, std::uint32_t k_hi, std::size_t distance_bits) {
  const std::size_t len = distance_bits / 8 + 16;
  std::uint32_t expected = 0;
  for (std::size_t i = 0; i < len; ++i) {
    const bool in_a = i < 16, in_b = i >= len - 16;
    expected = bitwise_raw(expected, in_a || in_b ? model_byte(i) : 0);
  }
  U128 a{0, 0}, b{0, 0};
  for (std::size_t i = 0; i < 8; ++i) {
    a.lo |= std::uint64_t{model_byte(i)} << (8 * i);
    a.hi |= std::uint64_t{model_byte(i + 8)} << (8 * i);
    b.lo |= std::uint64_t{model_byte(len - 16 + i)} << (8 * i);
    b.hi |= std::uint64_t{model_byte(len - 8 + i)} << (8 * i);
  }
  const U128 l = clmul_model(a.lo, k_lo), h = clmul_model(a.hi, k_hi);
  const U128 folded{l.lo ^ h.lo ^ b.lo, l.hi ^ h.hi ^ b.hi};
  std::uint32_t actual = 0;
  for (std::size_t i = 0; i < 8; ++i) actual = bitwise_raw(actual, static_cast<std::uint8_t>(folded.lo >> (8 * i)));
  for (std::size_t i = 0; i < 8; ++i) actual = bitwise_raw(actual, static_cast<std::uint8_t>(folded.hi >> (8 * i)));
  return actual == expected;
}

constexpr std::size_t kLanes = 8;  // 8 independent 16-byte accumulators: 128 bytes a step
constexpr FoldConstants kFold128 = fold_constants(128);
constexpr FoldConstants kFoldLanes = fold_constants(128 * kLanes);
static_assert(fold_model_agrees(static_cast<std::uint32_t>(kFold128.lo), static_cast<std::uint32_t>(kFold128.hi), 128));
static_assert(fold_model_agrees(static_cast<std::uint32_t>(kFoldLanes.lo), static_cast<std::uint32_t>(kFoldLanes.hi),
                                128 * kLanes));

#define ASIOKAFKA_CLMUL_TARGET __attribute__((target("pclmul,sse4.2")))

ASIOKAFKA_CLMUL_TARGET inline __m128i fold16(__m128i a, __m128i k, __m128i next) noexcept {
  const __m128i l = _mm_clmulepi64_si128(a, k, 0x00);  // lo(a)·k.lo
  const __m128i h = _mm_clmulepi64_si128(a, k, 0x11);  // hi(a)·k.hi
  return _mm_xor_si128(_mm_xor_si128(l, h), next);
}

ASIOKAFKA_CLMUL_TARGET inline __m128i load128(const std::uint8_t* p) noexcept {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// Folds the 16-byte accumulator's value into a CRC register with the crc32 instruction.
ASIOKAFKA_CLMUL_TARGET inline std::uint32_t reduce128(__m128i a) noexcept {
  const auto lo = static_cast<std::uint64_t>(_mm_cvtsi128_si64(a));
  const auto hi = static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(a, a)));
  return static_cast<std::uint32_t>(_mm_crc32_u64(_mm_crc32_u64(0, lo), hi));
}

// The tail both folding paths share: the remaining 16-byte chunks folded into `a`, reduced to
// a CRC register, then the last 0..15 bytes with the crc32 instruction.
ASIOKAFKA_CLMUL_TARGET inline std::uint32_t fold_tail(__m128i a, __m128i k128, const std::uint8_t* p,
                                                      std::size_t n) noexcept {
  while (n >= 16) {
    a = fold16(a, k128, load128(p));
    p += 16;
    n -= 16;
  }
  return hw_tail(reduce128(a), p, n);
}

constexpr std::size_t kClmulMin = 256;  // below this the crc32-instruction path is as fast

ASIOKAFKA_CLMUL_TARGET std::uint32_t clmul_raw(std::uint32_t crc, const std::uint8_t* p, std::size_t n) noexcept {
  if (n < kClmulMin) return hardware_raw(crc, p, n);
  // Eight accumulators in named variables (an array is kept in memory by GCC), so the
  // multiplier's latency is hidden behind seven independent folds.
  __m128i x0 = _mm_xor_si128(load128(p), _mm_cvtsi32_si128(static_cast<int>(crc)));
  __m128i x1 = load128(p + 16), x2 = load128(p + 32), x3 = load128(p + 48);
  __m128i x4 = load128(p + 64), x5 = load128(p + 80), x6 = load128(p + 96), x7 = load128(p + 112);
  p += 16 * kLanes;
  n -= 16 * kLanes;
  const __m128i k_lanes = _mm_set_epi64x(static_cast<long long>(kFoldLanes.hi), static_cast<long long>(kFoldLanes.lo));
  while (n >= 16 * kLanes) {
    x0 = fold16(x0, k_lanes, load128(p));
    x1 = fold16(x1, k_lanes, load128(p + 16));
    x2 = fold16(x2, k_lanes, load128(p + 32));
    x3 = fold16(x3, k_lanes, load128(p + 48));
    x4 = fold16(x4, k_lanes, load128(p + 64));
    x5 = fold16(x5, k_lanes, load128(p + 80));
    x6 = fold16(x6, k_lanes, load128(p + 96));
    x7 = fold16(x7, k_lanes, load128(p + 112));
    p += 16 * kLanes;
    n -= 16 * kLanes;
  }
  const __m128i k128 = _mm_set_epi64x(static_cast<long long>(kFold128.hi), static_cast<long long>(kFold128.lo));
  __m128i a = fold16(x0, k128, x1);
  a = fold16(a, k128, x2);
  a = fold16(a, k128, x3);
  a = fold16(a, k128, x4);
  a = fold16(a, k128, x5);
  a = fold16(a, k128, x6);
  a = fold16(a, k128, x7);
  return fold_tail(a, k128, p, n);
}

// The same folding on 512-bit registers (VPCLMULQDQ): each register holds four 16-byte
// chunks, each folded independently by the distance to its successor four registers on.
constexpr std::size_t kWideRegs = 4;  // 4 × 64 bytes a step
constexpr FoldConstants kFold512 = fold_constants(512);
constexpr FoldConstants kFoldWide = fold_constants(512 * kWideRegs);
static_assert(fold_model_agrees(static_cast<std::uint32_t>(kFold512.lo), static_cast<std::uint32_t>(kFold512.hi), 512));
static_assert(fold_model_agrees(static_cast<std::uint32_t>(kFoldWide.lo), static_cast<std::uint32_t>(kFoldWide.hi),
                                512 * kWideRegs));

#define ASIOKAFKA_VCLMUL_TARGET __attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2")))

ASIOKAFKA_VCLMUL_TARGET inline __m512i fold64(__m512i a, __m512i k, __m512i next) noexcept {
  const __m512i l = _mm512_clmulepi64_epi128(a, k, 0x00);
  const __m512i h = _mm512_clmulepi64_epi128(a, k, 0x11);
  return _mm512_ternarylogic_epi64(l, h, next, 0x96);  // l ^ h ^ next
}

ASIOKAFKA_VCLMUL_TARGET inline __m512i load512(const std::uint8_t* p) noexcept { return _mm512_loadu_si512(p); }

ASIOKAFKA_VCLMUL_TARGET inline __m512i broadcast(const FoldConstants& k) noexcept {
  // Not _mm512_broadcast_i32x4: GCC 12's header trips -Wmaybe-uninitialized on it.
  const auto lo = static_cast<long long>(k.lo), hi = static_cast<long long>(k.hi);
  return _mm512_set_epi64(hi, lo, hi, lo, hi, lo, hi, lo);
}

constexpr std::size_t kWideMin = 1024;  // below this the crc32-instruction path is as fast

// Hybrid: the folding above is bound by the multiplier (on Zen 5 one VPCLMULQDQ every two
// cycles, whatever the register width: 16 bytes a cycle), and the crc32 instruction runs on
// another port (8 bytes a cycle). So long inputs are split: the front ~69% is folded while
// three crc32 streams run over the back ~31%, in the same loop, and the four CRCs are joined:
//   crc(A || B) = crc(A)·x^(8|B|) xor crc0(B).
// The stream length is only known at run time, so x^(8|B|) mod P is built from a table of
// x^(2^i - 33) mod P by multiplying with mul_x33() (see below), and applied the same way.
constexpr std::size_t kHybridMin = 8192;         // below this the set-up does not pay
constexpr std::size_t kStreamWords = 5;          // crc32 words per stream per 256 folded bytes

// x^e mod P by square-and-multiply (x_pow() is linear in e).
constexpr std::uint32_t x_pow_log(std::uint64_t e) {
  std::uint32_t result = 1u << 31;  // x^0
  std::uint32_t base = 1u << 30;    // x^1
  while (e != 0) {
    if (e & 1) result = poly_mul(result, base);
    base = poly_mul(base, base);
    e >>= 1;
  }
  return result;
}

// kPow2Minus33[i] = x^(2^i - 33) mod P for i >= 6 (2^i >= 64); entries below 6 are unused.
using PowTable = std::array<std::uint32_t, 64>;
constexpr PowTable make_pow2_minus33() {
  PowTable t{};
  for (std::size_t i = 6; i < 64; ++i) t[i] = x_pow_log((std::uint64_t{1} << i) - 33);
  return t;
}
constexpr PowTable kPow2Minus33 = make_pow2_minus33();
static_assert(kPow2Minus33[6] == x_pow(31) && kPow2Minus33[7] == x_pow(95) && kPow2Minus33[10] == x_pow(991));
static_assert(x_pow_log(1000) == x_pow(1000) && x_pow_log(4095) == x_pow(4095));

// a·b·x^33 mod P for CRC registers a and b: the carry-less product of two 32-bit reflected
// values, read as a 64-bit message, is a·b·x; the crc32 instruction over it multiplies by x^32
// and reduces.
ASIOKAFKA_VCLMUL_TARGET inline std::uint32_t mul_x33(std::uint32_t a, std::uint32_t b) noexcept {
  const __m128i prod = _mm_clmulepi64_si128(_mm_cvtsi32_si128(static_cast<int>(a)), _mm_cvtsi32_si128(static_cast<int>(b)), 0x00);
  return static_cast<std::uint32_t>(_mm_crc32_u64(0, static_cast<std::uint64_t>(_mm_cvtsi128_si64(prod))));
}

// x^(8·bytes - 33) mod P, for `bytes` a multiple of 8 (so 8·bytes has no bit below 6):
// mul_x33(x^(a-33), x^(b-33)) = x^(a+b-33).
ASIOKAFKA_VCLMUL_TARGET inline std::uint32_t shift_constant(std::size_t bytes) noexcept {
  std::uint64_t e = std::uint64_t{bytes} * 8;
  std::uint32_t k = 0;
  bool first = true;
  for (unsigned i = 6; e >> i != 0; ++i) {
    if ((e >> i) & 1) {
      k = first ? kPow2Minus33[i] : mul_x33(k, kPow2Minus33[i]);
      first = false;
    }
  }
  return k;
}

ASIOKAFKA_VCLMUL_TARGET inline void stream_words(std::uint32_t& c0, std::uint32_t& c1, std::uint32_t& c2,
                                                 const std::uint8_t* s, std::size_t w, std::size_t words) noexcept {
  for (std::size_t i = 0; i < words; ++i) {
    c0 = hw_u64(c0, load_le64(s + 8 * i));
    c1 = hw_u64(c1, load_le64(s + w + 8 * i));
    c2 = hw_u64(c2, load_le64(s + 2 * w + 8 * i));
  }
}

// Folds n >= kWideMin bytes at p into a CRC register. With `stream_len` > 0, it also runs
// the three crc32 streams of stream_len bytes each at `streams`, stream_len a multiple of
// 8 · kStreamWords, and returns their CRCs (initial value 0) in c0..c2.
template <bool Streams>
ASIOKAFKA_VCLMUL_TARGET inline std::uint32_t fold_wide(std::uint32_t crc, const std::uint8_t* p, std::size_t n,
                                                       const std::uint8_t* streams, std::size_t stream_len,
                                                       std::uint32_t& c0, std::uint32_t& c1, std::uint32_t& c2) noexcept {
  // zext, not cast: _mm512_castsi128_si512 leaves the upper 384 bits undefined, and clang
  // fills them with whatever the register held (wrong CRCs on AVX-512 machines).
  __m512i x0 = _mm512_xor_si512(load512(p), _mm512_zextsi128_si512(_mm_cvtsi32_si128(static_cast<int>(crc))));
  __m512i x1 = load512(p + 64), x2 = load512(p + 128), x3 = load512(p + 192);
  p += 64 * kWideRegs;
  n -= 64 * kWideRegs;
  const __m512i k_wide = broadcast(kFoldWide);
  std::size_t done = 0;  // bytes of each stream done
  if constexpr (Streams) {
    // Both in one loop, so the out-of-order core overlaps the multiplies with the crc32s.
    while (n >= 64 * kWideRegs && stream_len - done >= 8 * kStreamWords) {
      x0 = fold64(x0, k_wide, load512(p));
      x1 = fold64(x1, k_wide, load512(p + 64));
      x2 = fold64(x2, k_wide, load512(p + 128));
      x3 = fold64(x3, k_wide, load512(p + 192));
      stream_words(c0, c1, c2, streams + done, stream_len, kStreamWords);
      done += 8 * kStreamWords;
      p += 64 * kWideRegs;
      n -= 64 * kWideRegs;
    }
  }
  while (n >= 64 * kWideRegs) {
    x0 = fold64(x0, k_wide, load512(p));
    x1 = fold64(x1, k_wide, load512(p + 64));
    x2 = fold64(x2, k_wide, load512(p + 128));
    x3 = fold64(x3, k_wide, load512(p + 192));
    p += 64 * kWideRegs;
    n -= 64 * kWideRegs;
  }
  if constexpr (Streams) stream_words(c0, c1, c2, streams + done, stream_len, (stream_len - done) / 8);
  const __m512i k512 = broadcast(kFold512);
  __m512i a = fold64(x0, k512, x1);
  a = fold64(a, k512, x2);
  a = fold64(a, k512, x3);
  while (n >= 64) {
    a = fold64(a, k512, load512(p));
    p += 64;
    n -= 64;
  }
  // Four 16-byte chunks, in message order, to one.
  const __m128i k128 = _mm_set_epi64x(static_cast<long long>(kFold128.hi), static_cast<long long>(kFold128.lo));
  // (Through memory: GCC 12's lane-extract intrinsics trip -Wmaybe-uninitialized.)
  alignas(64) std::uint8_t lanes[64];
  _mm512_store_si512(lanes, a);
  __m128i r = fold16(load128(lanes), k128, load128(lanes + 16));
  r = fold16(r, k128, load128(lanes + 32));
  r = fold16(r, k128, load128(lanes + 48));
  return fold_tail(r, k128, p, n);
}

ASIOKAFKA_VCLMUL_TARGET std::uint32_t wide_clmul_raw(std::uint32_t crc, const std::uint8_t* p, std::size_t n) noexcept {
  if (n < kWideMin) return hardware_raw(crc, p, n);
  std::uint32_t c0 = 0, c1 = 0, c2 = 0;
  if (n < kHybridMin) return fold_wide<false>(crc, p, n, nullptr, 0, c0, c1, c2);
  // Three streams of w bytes at the end. Each 256 folded bytes (16 cycles of the multiplier)
  // are paired with kStreamWords words of each stream (15 crc32s, one a cycle), so
  // w / (8 · kStreamWords) = front / 256, i.e. w = n · kStreamWords / (32 + 3 · kStreamWords),
  // about 10.6% of n. Measured on Zen 5: 4, 5 and 6 words give 74, 79 and 74 GB/s.
  constexpr std::size_t kUnit = 8 * kStreamWords;
  const std::size_t w = n * kStreamWords / (32 + 3 * kStreamWords) / kUnit * kUnit;
  const std::size_t front = n - 3 * w;
  const std::uint32_t k = shift_constant(w);  // independent of the data: overlaps the loop
  crc = fold_wide<true>(crc, p, front, p + front, w, c0, c1, c2);
  crc = mul_x33(crc, k) ^ c0;
  crc = mul_x33(crc, k) ^ c1;
  return mul_x33(crc, k) ^ c2;
}

bool detect_wide_clmul() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("vpclmulqdq") &&
         __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.2");
}

bool detect_clmul() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul");
}
#else
bool detect_clmul() noexcept { return false; }
bool detect_wide_clmul() noexcept { return false; }
#endif

bool detect_hardware() noexcept {
#if defined(ASIOKAFKA_CRC32C_X86)
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
#elif defined(ASIOKAFKA_CRC32C_ARM)
  return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
#else
  return false;
#endif
}

using Impl = std::uint32_t (*)(std::span<const std::uint8_t>, std::uint32_t) noexcept;

Impl chosen() noexcept {
  // The 128-bit PCLMULQDQ folding is not chosen: on the CPUs measured it is slower than the
  // crc32 instruction (16 vs 28 GB/s on Zen 5; see docs/records.md).
  static const Impl impl = crc32c_wide_clmul_available() ? &crc32c_wide_clmul
                           : crc32c_hardware_available() ? &crc32c_hardware
                                                         : &crc32c_portable;
  return impl;
}

}  // namespace

std::uint32_t crc32c_portable(std::span<const std::uint8_t> data, std::uint32_t crc) noexcept {
  return ~portable_raw(~crc, data.data(), data.size());
}

bool crc32c_hardware_available() noexcept {
  static const bool available = detect_hardware();
  return available;
}
bool crc32c_clmul_available() noexcept {
  static const bool available = detect_clmul();
  return available;
}
bool crc32c_wide_clmul_available() noexcept {
  static const bool available = detect_wide_clmul();
  return available;
}

// Each kernel, or the next simpler one where this build has none (the caller checks
// *_available() before choosing it; the fallback keeps the functions callable anywhere).
std::uint32_t crc32c_hardware(std::span<const std::uint8_t> data, std::uint32_t crc) noexcept {
#if defined(ASIOKAFKA_CRC32C_X86) || defined(ASIOKAFKA_CRC32C_ARM)
  return ~hardware_raw(~crc, data.data(), data.size());
#else
  return crc32c_portable(data, crc);
#endif
}
#if defined(ASIOKAFKA_CRC32C_CLMUL)
std::uint32_t crc32c_clmul(std::span<const std::uint8_t> data, std::uint32_t crc) noexcept {
  return ~clmul_raw(~crc, data.data(), data.size());
}
std::uint32_t crc32c_wide_clmul(std::span<const std::uint8_t> data, std::uint32_t crc) noexcept {
  return ~wide_clmul_raw(~crc, data.data(), data.size());
}
#else
std::uint32_t crc32c_clmul(std::span<const std::uint8_t> data, std::uint32_t crc) noexcept {
  return crc32c_hardware(data, crc);
}
std::uint32_t crc32c_wide_clmul(std::span<const std::uint8_t> data, std::uint32_t crc) noexcept {
  return crc32c_hardware(data, crc);
}
#endif

std::uint32_t crc32c(std::span<const std::uint8_t> data, std::uint32_t crc) noexcept { return chosen()(data, crc); }

namespace {
// x^(2^k) mod P for k = 0..63, by repeated squaring.
constexpr std::array<std::uint32_t, 64> make_x_pow2() {
  std::array<std::uint32_t, 64> t{};
  t[0] = 1u << 30;  // x^1
  for (std::size_t k = 1; k < t.size(); ++k) t[k] = poly_mul(t[k - 1], t[k - 1]);
  return t;
}
constexpr auto kXPow2 = make_x_pow2();
}  // namespace

std::uint32_t crc32c_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::size_t length_b) noexcept {
  // With the standard pre- and post-inversion, crc(a || b) = crc(a) * x^(8 |b|) + crc(b)
  // (mod P): the inversions of b's start cancel against crc(b)'s own. x^(8n) is built from
  // the binary digits of n, 8 = 2^3 giving the starting exponent.
  std::uint32_t shift = 1u << 31;  // x^0
  std::size_t k = 3;
  for (std::size_t n = length_b; n != 0 && k < kXPow2.size(); n >>= 1, ++k) {
    if (n & 1u) shift = poly_mul(kXPow2[k], shift);
  }
  return poly_mul(crc_a, shift) ^ crc_b;
}

const char* crc32c_implementation() noexcept {
  if (chosen() == &crc32c_portable) return "portable";
  if (chosen() == &crc32c_wide_clmul) return "vpclmul-avx512";
#if defined(ASIOKAFKA_CRC32C_ARM)
  return "armv8-crc";
#else
  return "sse4.2";
#endif
}

}  // namespace asiokafka::protocol
