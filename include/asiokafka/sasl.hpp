// SASL authentication settings and the errors the SASL layer reports. See docs/sasl.md.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <boost/asio/awaitable.hpp>

#include "asiokafka/error.hpp"

namespace asiokafka {

/// How a connection authenticates on a SASL_PLAINTEXT or SASL_SSL listener. Field names follow
/// aiokafka's options (sasl_mechanism, sasl_plain_username, sasl_plain_password,
/// sasl_oauth_token_provider, sasl_kerberos_service_name, sasl_kerberos_domain_name).
struct SaslConfig {
  enum class Mechanism { plain, scram_sha_256, scram_sha_512, oauthbearer, gssapi };

  Mechanism mechanism = Mechanism::plain;
  /// PLAIN and SCRAM: the user name (SCRAM escapes ',' and '=' itself).
  std::string username;
  /// PLAIN and SCRAM. Never printed, never part of an error message.
  std::string password;
  /// OAUTHBEARER: returns the bearer token (e.g. a JWT); called once per authentication, so a
  /// re-authentication (KIP-368) picks up a refreshed token. An exception it throws fails the
  /// authentication with sasl_errc::token_provider_failed.
  std::function<std::string()> oauth_token_provider;
  /// OAUTHBEARER: an awaitable token provider, like aiokafka's `async def token()`, for a token
  /// that has to be fetched (an HTTP call to the identity provider). net::connection awaits it
  /// on the connection's executor before every OAUTHBEARER exchange (connect and each KIP-368
  /// re-authentication), bounded by ClientConfig::connect_timeout; when that runs out the
  /// provider's coroutine is cancelled (terminal) and not waited for. An exception it throws,
  /// an empty token or the timeout fail the authentication with
  /// sasl_errc::token_provider_failed. When set it is used instead of oauth_token_provider.
  /// The connection keeps a copy of this function until the coroutine it returned has
  /// completed, so a coroutine lambda's captures stay valid even when it is abandoned.
  std::function<boost::asio::awaitable<std::string>()> oauth_token_provider_async;
  /// OAUTHBEARER SASL extensions (KIP-342): keys are ASCII letters only and not "auth";
  /// values are printable ASCII. Values are not printed by to_string.
  std::map<std::string, std::string> oauth_extensions;
  /// GSSAPI: the service name of the broker's principal (service/host@REALM).
  std::string kerberos_service_name = "kafka";
  /// GSSAPI: the host part of the broker's principal; empty uses the broker's host name.
  std::string kerberos_domain_name;
};

/// The mechanism's SASL name, e.g. "SCRAM-SHA-256".
std::string_view to_string(SaslConfig::Mechanism m) noexcept;
/// The mechanism for a SASL name (case-sensitive, as Kafka spells them); nullopt if unknown.
std::optional<SaslConfig::Mechanism> parse_sasl_mechanism(std::string_view name) noexcept;
/// A description for logs. Never contains the password, the token or extension values.
std::string to_string(const SaslConfig& config);

}  // namespace asiokafka

