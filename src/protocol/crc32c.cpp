#include "protocol/crc32c.hpp"

#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
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

ASIOKAFKA_HW_TARGET std::uint32_t hardware_raw(std::uint32_t crc, const std::uint8_t* p, std::size_t n) noexcept {
  // Align to 8 bytes so that the word loads do not straddle cache lines.
  while (n > 0 && (reinterpret_cast<std::uintptr_t>(p) & 7u) != 0) {
    crc = hw_u8(crc, *p++);
    --n;
  }
  crc = interleaved(crc, p, n, kLongBlock, kShiftLong);
  crc = interleaved(crc, p, n, kShortBlock, kShiftShort);
  while (n >= 8) {
    crc = hw_u64(crc, load_le64(p));
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = hw_u8(crc, *p++);
  return crc;
}
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
  static const Impl impl = crc32c_hardware_available() ? &crc32c_hardware : &crc32c_portable;
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

std::uint32_t crc32c_hardware(std::span<const std::uint8_t> data, std::uint32_t crc) noexcept {
#if defined(ASIOKAFKA_CRC32C_X86) || defined(ASIOKAFKA_CRC32C_ARM)
  return ~hardware_raw(~crc, data.data(), data.size());
#else
  return crc32c_portable(data, crc);
#endif
}

std::uint32_t crc32c(std::span<const std::uint8_t> data, std::uint32_t crc) noexcept { return chosen()(data, crc); }

const char* crc32c_implementation() noexcept {
  if (chosen() == &crc32c_portable) return "portable";
#if defined(ASIOKAFKA_CRC32C_ARM)
  return "armv8-crc";
#else
  return "sse4.2";
#endif
}

}  // namespace asiokafka::protocol
