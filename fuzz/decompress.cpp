// Fuzzes each decompressor with a small output bound. Byte 0 picks the codec (values beyond
// zstd exercise the unsupported-codec path), byte 1 the bound (1 KiB .. 256 KiB); the rest is
// the compressed input.
// Checks: no crash, leak or UB; the output never exceeds the bound; whatever decompresses
// compresses and decompresses back to the same bytes (small outputs only, to keep it fast).
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "asiokafka/error.hpp"
#include "fuzz_check.hpp"
#include "protocol/compression.hpp"

namespace pr = asiokafka::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return -1;
  const auto codec = static_cast<pr::CompressionType>(data[0] % 6);
  const std::size_t bound = std::size_t{1024} << (data[1] % 9);
  const std::span<const std::uint8_t> in(data + 2, size - 2);

  pr::bytes out;
  const std::error_code ec = pr::decompress(codec, in, out, bound);
  FUZZ_CHECK(out.size() <= bound);
  if (data[0] % 6 == 5) FUZZ_CHECK(ec == asiokafka::client_errc::unsupported_compression);
  if (ec || out.size() > 16384) return 0;

  pr::bytes packed;
  FUZZ_CHECK(!pr::compress(codec, out, packed));
  pr::bytes back;
  FUZZ_CHECK(!pr::decompress(codec, packed, back, out.size() + 1));
  FUZZ_CHECK(back == out);
  return 0;
}
