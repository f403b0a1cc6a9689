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

#include "asiokafka/sasl.hpp"

namespace asiokafka::sasl {

using bytes = std::vector<std::uint8_t>;

/// An error with a human-readable message. Messages never contain passwords, tokens,
/// proofs or extension values; they may quote the server's own diagnostics.
struct Failure {
  std::error_code code;
  std::string message;
};

/// What a mechanism wants next.
struct Step {
  enum class Kind { send, done, fail };
  Kind kind = Kind::fail;
  bytes data;       ///< kind == send: the client message to send.
  Failure failure;  ///< kind == fail.

  static Step send(bytes b) { return {Kind::send, std::move(b), {}}; }
  static Step done() { return {Kind::done, {}, {}}; }
  static Step fail(std::error_code ec, std::string msg) { return {Kind::fail, {}, {ec, std::move(msg)}}; }
};

/// One authentication exchange. Call start() once, then step() with every server message until
/// it returns done or fail. After done or fail, step() fails with sasl_errc::illegal_state.
class Mechanism {
 public:
  virtual ~Mechanism() = default;
  /// The SASL name sent in SaslHandshake, e.g. "SCRAM-SHA-512".
  virtual std::string_view name() const noexcept = 0;
  /// The client's initial message.
  virtual Step start() = 0;
  /// The next client message for the server's message `challenge`.
  virtual Step step(std::span<const std::uint8_t> challenge) = 0;
  /// Server-side detail kept for the final error (e.g. OAUTHBEARER's error JSON); empty if none.
  virtual std::string diagnostic() const { return {}; }
};

/// PLAIN (RFC 4616) with an empty authorization identity.
std::unique_ptr<Mechanism> make_plain(std::string username, std::string password);

enum class ScramHash { sha256, sha512 };
/// Returns the client nonce: printable ASCII without ','; an empty string means failure.
using NonceSource = std::function<std::string()>;
/// 24 bytes from OpenSSL's RAND_bytes, base64-encoded; empty when RAND_bytes fails.
std::string random_nonce();
/// SCRAM-SHA-256 (RFC 7677) or SCRAM-SHA-512 (RFC 5802 with SHA-512), without channel binding.
std::unique_ptr<Mechanism> make_scram(ScramHash hash, std::string username, std::string password,
                                      NonceSource nonce = random_nonce);

using TokenProvider = std::function<std::string()>;
/// OAUTHBEARER (RFC 7628, KIP-255) with SASL extensions (KIP-342). `token` is called in start().
std::unique_ptr<Mechanism> make_oauthbearer(TokenProvider token, std::map<std::string, std::string> extensions);

/// GSSAPI (Kerberos) through Cyrus SASL. `host` is the broker host of the service principal.
std::unique_ptr<Mechanism> make_gssapi(std::string service, std::string host);

/// The mechanism `config` selects, for a broker at `host` (used by GSSAPI only). Configuration
/// errors surface as a failing start().
std::unique_ptr<Mechanism> make_mechanism(const SaslConfig& config, std::string_view host);

}  // namespace asiokafka::sasl
