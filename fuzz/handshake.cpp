// Fuzzes the connection handshake as a broker could drive it: arbitrary bytes as ApiVersions
// responses (net::api_versions_exchange, KIP-511 fallback) and as SASL server messages, both
// through sasl::authenticator (SaslHandshake/SaslAuthenticate bodies) and straight into each
// mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (fixed client nonce), OAUTHBEARER. GSSAPI is
// left out: Cyrus would talk to a KDC and read the environment's credential caches.
//
// Input: byte 0: bits 0-1 mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER),
// bit 2 feed the mechanism directly (no Kafka framing), bit 3 run the ApiVersions exchange
// first (its list, when it succeeds, picks the SASL versions), bits 4-5 SaslHandshake max
// version, bits 6-7 SaslAuthenticate max version (for the synthesized list).
// Then chunks: a 2-byte big-endian length and that many bytes (truncated at the end), each one
// the next response body (or server message).
// Checks: the exchange ends (done or failed) within its bounds and says why when it fails;
// every request body the authenticator writes decodes with the generated codec in the version
// it names; at most max_round_trips SaslAuthenticate requests; a mechanism fails every call
// after it finished.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "asiokafka/protocol/messages.hpp"
#include "fuzz_check.hpp"
#include "net/sansio/api_versions.hpp"
#include "net/sansio/sasl/authenticator.hpp"
#include "net/sansio/sasl/mechanism.hpp"

namespace {

namespace msg = asiokafka::protocol::messages;
using namespace asiokafka;

// Splits the rest of the input into length-prefixed chunks.
class Chunks {
 public:
  explicit Chunks(std::span<const std::uint8_t> in) : in_(in) {}
  std::optional<std::span<const std::uint8_t>> next() {
    if (in_.size() < 2) return std::nullopt;
    const std::size_t len = std::size_t{in_[0]} << 8 | in_[1];
    in_ = in_.subspan(2);
    const auto chunk = in_.first(std::min(len, in_.size()));
    in_ = in_.subspan(chunk.size());
    return chunk;
  }

 private:
  std::span<const std::uint8_t> in_;
};

std::unique_ptr<sasl::mechanism> make(unsigned which) {
  switch (which) {
    case 0: return sasl::make_plain("fuzz-user", "fuzz-secret-pw");
    case 1:
      return sasl::make_scram(sasl::scram_hash::sha256, "fuzz,user=", "fuzz-secret-pw",
                              [] { return std::string("fyko+d2lbbFgONRv9qkxdawL"); });
    case 2:
      return sasl::make_scram(sasl::scram_hash::sha512, "fuzz-user", "fuzz-secret-pw",
                              [] { return std::string("fyko+d2lbbFgONRv9qkxdawL"); });
    default:
      return sasl::make_oauthbearer([] { return std::string("eyJhbGciOiJub25lIn0.e30."); }, {{"traceId", "abc"}});
  }
}

void check_failure(const net::failure& f) {
  FUZZ_CHECK(f.code);
  FUZZ_CHECK(!f.message.empty());
}

// Feeds server messages straight into a mechanism.
void fuzz_mechanism(unsigned which, Chunks& chunks) {
  auto m = make(which);
  auto step = m->start();
  int steps = 0;
  while (step.kind == sasl::next_step::kind_t::send) {
    const auto chunk = chunks.next();
    if (!chunk) return;
    step = m->step(*chunk);
    FUZZ_CHECK(++steps <= 64);
  }
  if (step.kind == sasl::next_step::kind_t::fail) check_failure(step.failure);
  // Finished: every later call fails with illegal_state.
  const std::uint8_t empty = 0;
  const auto again = m->step(std::span<const std::uint8_t>(&empty, 0));
  FUZZ_CHECK(again.kind == sasl::next_step::kind_t::fail);
  FUZZ_CHECK(again.failure.code == sasl_errc::illegal_state);
}

// Runs the ApiVersions exchange on the chunks; the broker's list when it succeeded.
std::optional<std::vector<msg::ApiVersionsResponse::ApiVersion>> fuzz_api_versions(Chunks& chunks) {
  net::api_versions_exchange exchange("asiokafka-fuzz", "0");
  for (int attempt = 0;; ++attempt) {
    FUZZ_CHECK(attempt < 3);  // one KIP-511 fallback at most
    const std::int16_t version = exchange.version();
    FUZZ_CHECK(version >= 0 && version <= msg::ApiVersionsRequest::max_version);
    const auto body = exchange.request_body();
    FUZZ_CHECK(!protocol::decode_request_any(msg::ApiVersionsRequest::api_key, version, body));
    const auto chunk = chunks.next();
    if (!chunk) return std::nullopt;
    std::error_code ec;
    std::string what;
    switch (exchange.on_response(*chunk, ec, what)) {
      case net::api_versions_exchange::step::done:
        FUZZ_CHECK(!ec);
        FUZZ_CHECK(exchange.response().error_code == 0);
        return exchange.response().api_keys;
      case net::api_versions_exchange::step::failed:
        FUZZ_CHECK(ec);
        FUZZ_CHECK(!what.empty());
        return std::nullopt;
      case net::api_versions_exchange::step::retry:
        FUZZ_CHECK(exchange.version() <= version);
        break;
    }
  }
}

void fuzz_authenticator(unsigned which, std::span<const msg::ApiVersionsResponse::ApiVersion> apis, Chunks& chunks) {
  sasl::authenticator auth(make(which), apis);
  int authenticates = 0;
  for (auto action = auth.start();;) {
    if (action.kind == sasl::next_action::kind_t::fail) {
      check_failure(action.failure);
      break;
    }
    if (action.kind == sasl::next_action::kind_t::done) {
      FUZZ_CHECK(action.session_lifetime_ms >= 0);
      break;
    }
    FUZZ_CHECK(action.api_key == msg::SaslHandshakeRequest::api_key ||
               action.api_key == msg::SaslAuthenticateRequest::api_key);
    if (action.api_key == msg::SaslHandshakeRequest::api_key) FUZZ_CHECK(action.api_version >= 1);
    if (action.api_key == msg::SaslAuthenticateRequest::api_key) {
      FUZZ_CHECK(++authenticates <= sasl::authenticator::max_round_trips);
    }
    FUZZ_CHECK(!protocol::decode_request_any(action.api_key, action.api_version, action.body));
    const auto chunk = chunks.next();
    if (!chunk) return;
    action = auth.on_response(*chunk);
  }
  // Finished: nothing more is accepted.
  const auto after = auth.on_response({});
  FUZZ_CHECK(after.kind == sasl::next_action::kind_t::fail);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t setup = data[0];
  Chunks chunks(std::span<const std::uint8_t>(data + 1, size - 1));
  const unsigned which = setup & 3u;
  if (setup & 4u) {
    fuzz_mechanism(which, chunks);
    return 0;
  }
  std::vector<msg::ApiVersionsResponse::ApiVersion> apis;
  if (setup & 8u) {
    auto listed = fuzz_api_versions(chunks);
    if (!listed) return 0;
    apis = std::move(*listed);
  } else {
    msg::ApiVersionsResponse::ApiVersion handshake;
    handshake.api_key = msg::SaslHandshakeRequest::api_key;
    handshake.max_version = static_cast<std::int16_t>((setup >> 4) & 3u);
    msg::ApiVersionsResponse::ApiVersion authenticate;
    authenticate.api_key = msg::SaslAuthenticateRequest::api_key;
    authenticate.max_version = static_cast<std::int16_t>((setup >> 6) & 3u);
    apis = {handshake, authenticate};
  }
  fuzz_authenticator(which, apis, chunks);
  return 0;
}
