// Helpers shared by the fuzz targets: an always-on check that aborts (so libFuzzer records
// the input as a crash), and a byte-range test for views returned by decoders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

#define FUZZ_CHECK(cond)                                                              \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

namespace asiokafka::fuzz {

/// Whether [p, p + n) lies inside `in` (an empty view anywhere is fine).
inline bool inside(std::span<const std::uint8_t> in, const void* p, std::size_t n) {
  if (n == 0) return true;
  const auto begin = reinterpret_cast<std::uintptr_t>(in.data());
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  return at >= begin && n <= in.size() && at - begin <= in.size() - n;
}

inline bool inside(std::span<const std::uint8_t> in, std::span<const std::uint8_t> v) {
  return inside(in, v.data(), v.size());
}

inline bool inside(std::span<const std::uint8_t> in, std::string_view v) {
  return inside(in, v.data(), v.size());
}

}  // namespace asiokafka::fuzz
