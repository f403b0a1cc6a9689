// The SASL mechanism interface: a small sans-I/O state machine per mechanism. Each produces
// the client's messages from the server's, and never touches a socket. See docs/sasl.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "asiokafka/error.hpp"
#include "net/sansio/failure.hpp"

namespace asiokafka::sasl {

using bytes = std::vector<std::uint8_t>;

/// What a mechanism wants next.
struct next_step {
  enum class kind_t { send, done, fail };
  kind_t kind = kind_t::fail;
  bytes data;       ///< kind == send: the client message to send.
  net::failure failure;  ///< kind == fail.

  static next_step send(bytes b) { return {kind_t::send, std::move(b), {}}; }
  static next_step done() { return {kind_t::done, {}, {}}; }
  static next_step fail(std::error_code ec, std::string msg) { return {kind_t::fail, {}, {ec, std::move(msg)}}; }
};

/// One authentication exchange. Call start() once, then step() with every server message until
/// it returns done or fail. After done or fail, step() fails with sasl_errc::illegal_state.
class mechanism {
 public:
  virtual ~mechanism() = default;
  /// The SASL name sent in SaslHandshake, e.g. "SCRAM-SHA-512".
  virtual std::string_view name() const noexcept = 0;
  /// The client's initial message.
  virtual next_step start() = 0;
  /// The next client message for the server's message `challenge`.
  virtual next_step step(std::span<const std::uint8_t> challenge) = 0;
  /// Server-side detail kept for the final error (e.g. OAUTHBEARER's error JSON); empty if none.
  virtual std::string diagnostic() const { return {}; }
};

/// PLAIN (RFC 4616) with an empty authorization identity.
std::unique_ptr<mechanism> make_plain(std::string username, std::string password);

enum class scram_hash { sha256, sha512 };
/// Returns the client nonce: printable ASCII without ','; an empty string means failure.
using nonce_source = std::function<std::string()>;
/// 24 bytes from OpenSSL's RAND_bytes, base64-encoded; empty when RAND_bytes fails.
std::string random_nonce();
/// SCRAM-SHA-256 (RFC 7677) or SCRAM-SHA-512 (RFC 5802 with SHA-512), without channel binding.
std::unique_ptr<mechanism> make_scram(scram_hash hash, std::string username, std::string password,
                                      nonce_source nonce = random_nonce);

using token_provider = std::function<std::string()>;
/// OAUTHBEARER (RFC 7628, KIP-255) with SASL extensions (KIP-342). `token` is called in start().
std::unique_ptr<mechanism> make_oauthbearer(token_provider token, std::map<std::string, std::string> extensions);

/// GSSAPI (Kerberos) through Cyrus SASL. `host` is the broker host of the service principal.
std::unique_ptr<mechanism> make_gssapi(std::string service, std::string host);

}  // namespace asiokafka::sasl
