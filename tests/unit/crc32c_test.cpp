#include "protocol/crc32c.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string_view>
#include <vector>

namespace {

using namespace asiokafka::protocol;

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

using Fn = std::uint32_t (*)(std::span<const std::uint8_t>, std::uint32_t) noexcept;

std::vector<std::pair<const char*, Fn>> implementations() {
  std::vector<std::pair<const char*, Fn>> v{{"portable", &crc32c_portable}, {"dispatch", &crc32c}};
  if (crc32c_hardware_available()) v.emplace_back("hardware", &crc32c_hardware);
  if (crc32c_clmul_available()) v.emplace_back("pclmul", &crc32c_clmul);
  if (crc32c_wide_clmul_available()) v.emplace_back("vpclmul-avx512", &crc32c_wide_clmul);
  return v;
}

TEST(Crc32c, KnownVectors) {
  std::vector<std::uint8_t> zeros(32, 0), ones(32, 0xff), inc(32), dec(32);
  for (std::size_t i = 0; i < 32; ++i) {
    inc[i] = static_cast<std::uint8_t>(i);
    dec[i] = static_cast<std::uint8_t>(31 - i);
  }
  for (const auto& [name, fn] : implementations()) {
    SCOPED_TRACE(name);
    EXPECT_EQ(fn(as_bytes("123456789"), 0), 0xE3069283u);
    EXPECT_EQ(fn({}, 0), 0u);
    // RFC 3720 (iSCSI) appendix B.4 vectors.
    EXPECT_EQ(fn(zeros, 0), 0x8A9136AAu);
    EXPECT_EQ(fn(ones, 0), 0x62A8AB43u);
    EXPECT_EQ(fn(inc, 0), 0x46DD794Eu);
    EXPECT_EQ(fn(dec, 0), 0x113FDB5Cu);
    // Continuation: crc(a||b) == crc(b, crc(a)).
    EXPECT_EQ(fn(as_bytes("6789"), fn(as_bytes("12345"), 0)), 0xE3069283u);
  }
}

TEST(Crc32c, HardwareMatchesPortableOnRandomLengthsAndAlignments) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "no CRC32C instruction on this CPU";
  std::mt19937_64 rng(42);
  std::vector<std::uint8_t> buf(70000);
  for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
  std::uniform_int_distribution<std::size_t> len_dist(0, 40000);
  for (int i = 0; i < 400; ++i) {
    const std::size_t offset = rng() % 64;
    const std::size_t len = i < 100 ? static_cast<std::size_t>(i) * 7 : len_dist(rng);
    const std::span<const std::uint8_t> s(buf.data() + offset, len);
    const auto seed = static_cast<std::uint32_t>(rng());
    ASSERT_EQ(crc32c_hardware(s, seed), crc32c_portable(s, seed)) << "offset " << offset << " len " << len;
  }
  // Lengths around the interleaving block boundaries.
  for (std::size_t len : {767u, 768u, 769u, 6143u, 6144u, 6145u, 6144u + 768u, 12288u + 5u}) {
    const std::span<const std::uint8_t> s(buf.data() + 3, len);
    ASSERT_EQ(crc32c_hardware(s), crc32c_portable(s)) << len;
  }
}

// Every path against the portable one: random lengths (both sides of the folding thresholds
// of 256 and 1024 bytes and of every block size), alignments and seeds.
TEST(Crc32c, AllPathsAgreeOnRandomLengthsAlignmentsAndSeeds) {
  std::mt19937_64 rng(7);
  std::vector<std::uint8_t> buf(300000);
  for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
  std::vector<std::size_t> lengths;
  for (std::size_t len = 0; len <= 2200; ++len) lengths.push_back(len);
  for (std::size_t base : {4096u, 6144u, 8192u, 65536u, 117000u}) {
    for (std::size_t d = 0; d < 80; ++d) lengths.push_back(base + d);
  }
  std::uniform_int_distribution<std::size_t> len_dist(0, 290000);
  for (int i = 0; i < 40; ++i) lengths.push_back(len_dist(rng));
  for (const auto& [name, fn] : implementations()) {
    SCOPED_TRACE(name);
    for (const std::size_t len : lengths) {
      const std::size_t offset = rng() % 64;
      const std::span<const std::uint8_t> s(buf.data() + offset, std::min(len, buf.size() - offset));
      const auto seed = static_cast<std::uint32_t>(rng());
      ASSERT_EQ(fn(s, seed), crc32c_portable(s, seed)) << "offset " << offset << " len " << s.size();
    }
  }
}

// The AVX-512 path splits inputs of 8 KiB and more into a folded front and three crc32
// streams at the back, joined with shift constants computed at run time: every split point
// (lengths just below, at and above the threshold, each stream-length step, and large
// inputs) on every alignment, against the portable path and against crc32c continuation.
// A CPU without AVX-512 VPCLMULQDQ sends the same inputs through the dispatcher instead, which
// must not pick the wide path there (rig/test allows no skipped test).
TEST(Crc32c, WideHybridSplitMatchesPortable) {
  const bool wide = crc32c_wide_clmul_available();
  const Fn fn = wide ? &crc32c_wide_clmul : &crc32c;
  SCOPED_TRACE(crc32c_implementation());
  if (!wide) {
    ASSERT_NE(std::string_view(crc32c_implementation()), "vpclmul-avx512");
  }
  std::mt19937_64 rng(11);
  std::vector<std::uint8_t> buf(1100000);
  for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
  std::vector<std::size_t> lengths;
  for (std::size_t len = 8180; len <= 8700; ++len) lengths.push_back(len);  // w steps by 40 bytes
  for (std::size_t len : {16384u, 117061u, 117062u, 1039893u, 1048576u, 1099000u}) lengths.push_back(len);
  for (const std::size_t len : lengths) {
    const std::size_t offset = len % 64;
    const std::span<const std::uint8_t> s(buf.data() + offset, len);
    const auto seed = static_cast<std::uint32_t>(rng());
    ASSERT_EQ(fn(s, seed), crc32c_portable(s, seed)) << "offset " << offset << " len " << len;
    // Split anywhere: crc(a || b) = crc(b, crc(a)).
    const std::size_t cut = len / 3;
    ASSERT_EQ(fn(s.subspan(cut), fn(s.first(cut), seed)), crc32c_portable(s, seed)) << len;
  }
  // All zeros and all ones, where a wrong shift constant cannot hide behind random data.
  for (std::uint8_t fill : {std::uint8_t{0}, std::uint8_t{0xff}}) {
    const std::vector<std::uint8_t> flat(50000, fill);
    ASSERT_EQ(fn(flat, 0), crc32c_portable(flat)) << int{fill};
  }
}

// crc32c_combine(crc(a), crc(b), |b|) == crc(a || b), for empty parts, short ones and long
// ones (the lengths' binary digits pick the powers of x).
TEST(Crc32c, CombineEqualsTheCrcOfTheConcatenation) {
  std::mt19937 rng(7);
  std::vector<std::uint8_t> data(70000);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  const std::size_t cuts[] = {0, 1, 7, 40, 61, 4096, 8191, 65536, 70000};
  for (const std::size_t total : {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{70000}}) {
    for (const std::size_t cut : cuts) {
      if (cut > total) continue;
      const std::span<const std::uint8_t> all(data.data(), total);
      const std::uint32_t a = crc32c(all.first(cut));
      const std::uint32_t b = crc32c(all.subspan(cut));
      EXPECT_EQ(crc32c_combine(a, b, total - cut), crc32c(all)) << "total " << total << ", cut " << cut;
    }
  }
  // A wrong length gives a different value (the combine really shifts by it).
  const std::span<const std::uint8_t> all(data.data(), 1000);
  EXPECT_NE(crc32c_combine(crc32c(all.first(10)), crc32c(all.subspan(10)), 989), crc32c(all));
}

TEST(Crc32c, DispatchNamesAnImplementation) {
  const std::string_view name = crc32c_implementation();
  EXPECT_TRUE(name == "vpclmul-avx512" || name == "sse4.2" || name == "armv8-crc" || name == "portable") << name;
  if (crc32c_wide_clmul_available()) {
    EXPECT_EQ(name, "vpclmul-avx512");
  }
  if (crc32c_hardware_available()) {
    EXPECT_NE(name, "portable");
  }
}

}  // namespace
