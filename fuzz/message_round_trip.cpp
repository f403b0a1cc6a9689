// Fuzzes every generated message type directly: whatever decodes must encode again, and the
// encoding must decode to an equal message and re-encode to the same bytes. A failed decode
// leaves the message untouched (the documented contract).
// Input: byte 0 picks the type (bit 7: request, else response; the rest indexes the API list
// in message_types.hpp, the order of supported_apis), byte 1 the version (one below the lowest
// to one above the highest), then the body.
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "fuzz_check.hpp"
#include "message_types.hpp"

namespace {

template <class M>
void round_trip(std::uint8_t version_byte, std::span<const std::uint8_t> body) {
  const int span = M::max_version - M::min_version + 3;
  const auto version = static_cast<std::int16_t>(M::min_version - 1 + version_byte % span);

  M decoded;
  if (decoded.decode(body, version)) {
    FUZZ_CHECK(decoded == M{});  // unchanged on error
    return;
  }
  FUZZ_CHECK(version >= M::min_version && version <= M::max_version);

  std::vector<std::uint8_t> first;
  FUZZ_CHECK(!decoded.encode(first, version));
  M again;
  FUZZ_CHECK(!again.decode(first, version));
  std::vector<std::uint8_t> second;
  FUZZ_CHECK(!again.encode(second, version));
  FUZZ_CHECK(second == first);
  // Equal messages. A float64 field holding NaN (client quota values) never equals itself,
  // so for such a message (one unequal to itself) the equal bytes above are the check.
  FUZZ_CHECK(again == decoded || !(decoded == decoded));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return -1;
  const std::size_t index = (data[0] & 0x7fu) % asiokafka::fuzz::api_count;
  const std::span<const std::uint8_t> body(data + 2, size - 2);
  asiokafka::fuzz::with_message_type(index, (data[0] & 0x80) != 0,
                                     [&]<class M>() { round_trip<M>(data[1], body); });
  return 0;
}
