// Fuzzes the generated message codec through its dispatchers, decode_response_any and
// decode_request_any. Input: byte 0 picks request (bit 7 set) or response and the API (the
// rest of the byte indexes supported_apis); byte 1 picks the version, from one below the
// lowest implemented to one above the highest; the remaining bytes are the body.
// Checks, besides no crash, leak or UB:
//  - versions outside the implemented range are refused; errors are the client's own codes;
//  - routing: the dispatcher answers exactly what the message type of that API key and
//    direction answers (same error code), so a body it accepts is one that type decodes;
//  - a body is consumed exactly: the dispatcher refuses an accepted body with one more byte
//    (malformed) and without its last byte (the Kafka encoding is prefix-free);
//  - the accepted value re-encodes to a canonical form: bytes the dispatcher accepts, no
//    longer than the input (non-canonical inputs such as overlong varints, booleans above 1 or
//    tagged fields set to their default only ever take more room), decoding to the same value
//    and re-encoding to themselves.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <system_error>
#include <vector>

#include "asiokafka/error.hpp"
#include "fuzz_check.hpp"
#include "message_types.hpp"

namespace pr = asiokafka::protocol;

namespace {

std::error_code decode_any(bool request, std::int16_t api_key, std::int16_t version,
                           std::span<const std::uint8_t> body) {
  return request ? pr::decode_request_any(api_key, version, body) : pr::decode_response_any(api_key, version, body);
}

template <class M>
void check_typed(bool request, std::int16_t version, std::span<const std::uint8_t> body, std::error_code any) {
  M value;
  FUZZ_CHECK(value.decode(body, version) == any);
  if (any) return;

  std::vector<std::uint8_t> longer(body.begin(), body.end());
  longer.push_back(0);
  FUZZ_CHECK(decode_any(request, M::api_key, version, longer) == asiokafka::client_errc::malformed);
  if (!body.empty()) FUZZ_CHECK(decode_any(request, M::api_key, version, body.first(body.size() - 1)));

  std::vector<std::uint8_t> canonical;
  FUZZ_CHECK(!value.encode(canonical, version));
  FUZZ_CHECK(canonical.size() <= body.size());
  FUZZ_CHECK(!decode_any(request, M::api_key, version, canonical));
  M again;
  FUZZ_CHECK(!again.decode(canonical, version));
  // A float64 holding NaN never equals itself: such a message is checked by its bytes below.
  FUZZ_CHECK(again == value || !(value == value));
  std::vector<std::uint8_t> twice;
  FUZZ_CHECK(!again.encode(twice, version));
  FUZZ_CHECK(twice == canonical);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return -1;  // not worth keeping in the corpus
  const bool request = (data[0] & 0x80) != 0;
  const std::size_t index = (data[0] & 0x7fu) % std::size(pr::supported_apis);
  const auto& api = pr::supported_apis[index];
  const int span = api.max_version - api.min_version + 3;
  const auto version = static_cast<std::int16_t>(api.min_version - 1 + data[1] % span);
  const std::span<const std::uint8_t> body(data + 2, size - 2);

  const std::error_code ec = decode_any(request, api.api_key, version, body);
  if (version < api.min_version || version > api.max_version) FUZZ_CHECK(ec);
  if (ec) FUZZ_CHECK(ec.category() == asiokafka::client_category());
  asiokafka::fuzz::with_message_type(index, request,
                                     [&]<class M>() { check_typed<M>(request, version, body, ec); });
  return 0;
}
