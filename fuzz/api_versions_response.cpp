// Fuzzes the ApiVersions response decoder (every version it knows, plus the neighbours it does
// not) and the response-header splitter, on the same input.
// Checks: no out-of-bounds read or UB (ASan/UBSan); a successful decode returned no more
// entries than the bytes could hold; the header splitter returns a suffix of its input.
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "fuzz_check.hpp"
#include "protocol/probe_messages.hpp"

namespace pr = asiokafka::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);

  for (bool flexible : {false, true}) {
    std::int32_t correlation_id = 0;
    std::error_code ec;
    const auto body = pr::strip_response_header(in, flexible, correlation_id, ec);
    if (ec) {
      FUZZ_CHECK(body.empty());
    } else {
      FUZZ_CHECK(size >= 4 && body.size() <= size - 4);
      FUZZ_CHECK(body.data() + body.size() == in.data() + in.size());
    }
  }

  for (std::int16_t version = -1; version <= pr::api_versions_max_version + 1; ++version) {
    std::error_code ec;
    const auto resp = pr::decode_api_versions_response(in, version, ec);
    if (!ec) {
      // error_code (2) + array length (>= 1) + 6 bytes per entry at least.
      FUZZ_CHECK(resp.api_keys.size() * 6 + 3 <= size);
    }
  }
  return 0;
}
