// Fuzzes the generated message codec through its dispatchers, decode_response_any and
// decode_request_any. Input: byte 0 picks request (bit 7 set) or response and the API (the
// rest of the byte indexes supported_apis); byte 1 picks the version, from one below the
// lowest implemented to one above the highest; the remaining bytes are the body.
// Checks: no crash, leak or UB; versions outside the implemented range are refused; errors
// are the client's own codes.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <system_error>

#include "asiokafka/error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "fuzz_check.hpp"

namespace pr = asiokafka::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return -1;  // not worth keeping in the corpus
  const bool request = (data[0] & 0x80) != 0;
  const auto& api = pr::supported_apis[(data[0] & 0x7f) % std::size(pr::supported_apis)];
  const int span = api.max_version - api.min_version + 3;
  const auto version = static_cast<std::int16_t>(api.min_version - 1 + data[1] % span);
  const std::span<const std::uint8_t> body(data + 2, size - 2);

  const std::error_code ec = request ? pr::decode_request_any(api.api_key, version, body)
                                     : pr::decode_response_any(api.api_key, version, body);
  if (version < api.min_version || version > api.max_version) FUZZ_CHECK(ec);
  if (ec) FUZZ_CHECK(ec.category() == asiokafka::client_category());
  return 0;
}
