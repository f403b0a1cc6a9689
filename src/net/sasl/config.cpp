// SaslConfig helpers, the asiokafka.sasl error category and the mechanism factory.
#include "asiokafka/kafka_error.hpp"
#include "asiokafka/sasl.hpp"
#include "net/sasl/mechanism.hpp"

namespace asiokafka {
namespace {

class sasl_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "asiokafka.sasl"; }
  std::string message(int ev) const override {
    switch (static_cast<sasl_errc>(ev)) {
      case sasl_errc::authentication_failed: return "SASL authentication failed";
      case sasl_errc::mechanism_not_enabled: return "SASL mechanism not enabled on the broker";
      case sasl_errc::malformed_server_message: return "malformed SASL server message";
      case sasl_errc::invalid_server_nonce: return "SCRAM server nonce does not extend the client nonce";
      case sasl_errc::iteration_count_out_of_range: return "SCRAM iteration count out of range";
      case sasl_errc::server_signature_mismatch: return "SCRAM server signature mismatch";
      case sasl_errc::unsupported_extension: return "unsupported mandatory SCRAM extension";
      case sasl_errc::invalid_config: return "invalid SASL configuration";
      case sasl_errc::token_provider_failed: return "OAUTHBEARER token provider failed";
      case sasl_errc::random_failed: return "random number generation failed";
      case sasl_errc::crypto_failed: return "cryptographic primitive failed";
      case sasl_errc::gssapi_failed: return "GSSAPI authentication failed";
      case sasl_errc::illegal_state: return "SASL exchange in an illegal state";
    }
    return "unknown asiokafka SASL error " + std::to_string(ev);
  }
};

}  // namespace

const std::error_category& sasl_category() noexcept {
  static const sasl_category_impl instance;
  return instance;
}

bool is_authentication_failure(std::error_code ec) noexcept {
  return ec == kafka_errc::sasl_authentication_failed || ec == sasl_errc::authentication_failed ||
         ec == sasl_errc::server_signature_mismatch;
}

std::string_view to_string(SaslConfig::Mechanism m) noexcept {
  switch (m) {
    case SaslConfig::Mechanism::plain: return "PLAIN";
    case SaslConfig::Mechanism::scram_sha_256: return "SCRAM-SHA-256";
    case SaslConfig::Mechanism::scram_sha_512: return "SCRAM-SHA-512";
    case SaslConfig::Mechanism::oauthbearer: return "OAUTHBEARER";
    case SaslConfig::Mechanism::gssapi: return "GSSAPI";
  }
  return "UNKNOWN";
}

std::optional<SaslConfig::Mechanism> parse_sasl_mechanism(std::string_view name) noexcept {
  for (const auto m : {SaslConfig::Mechanism::plain, SaslConfig::Mechanism::scram_sha_256,
                       SaslConfig::Mechanism::scram_sha_512, SaslConfig::Mechanism::oauthbearer,
                       SaslConfig::Mechanism::gssapi}) {
    if (to_string(m) == name) return m;
  }
  return std::nullopt;
}

std::string to_string(const SaslConfig& c) {
  std::string s = "SaslConfig{mechanism=" + std::string(to_string(c.mechanism));
  switch (c.mechanism) {
    case SaslConfig::Mechanism::plain:
    case SaslConfig::Mechanism::scram_sha_256:
    case SaslConfig::Mechanism::scram_sha_512:
      s += ", username=\"" + c.username + "\", password=" + (c.password.empty() ? "<empty>" : "<redacted>");
      break;
    case SaslConfig::Mechanism::oauthbearer:
      s += std::string(", oauth_token_provider=") + (c.oauth_token_provider ? "<set>" : "<unset>");
      if (c.oauth_token_provider_async) s += ", oauth_token_provider_async=<set>";
      s += ", oauth_extensions={";
      for (auto it = c.oauth_extensions.begin(); it != c.oauth_extensions.end(); ++it) {
        if (it != c.oauth_extensions.begin()) s += ", ";
        s += it->first + "=<redacted>";
      }
      s += "}";
      break;
    case SaslConfig::Mechanism::gssapi:
      s += ", kerberos_service_name=\"" + c.kerberos_service_name + "\"";
      if (!c.kerberos_domain_name.empty()) s += ", kerberos_domain_name=\"" + c.kerberos_domain_name + "\"";
      break;
  }
  return s + "}";
}

namespace sasl {

std::unique_ptr<Mechanism> make_mechanism(const SaslConfig& config, std::string_view host) {
  switch (config.mechanism) {
    case SaslConfig::Mechanism::plain: return make_plain(config.username, config.password);
    case SaslConfig::Mechanism::scram_sha_256:
      return make_scram(ScramHash::sha256, config.username, config.password);
    case SaslConfig::Mechanism::scram_sha_512:
      return make_scram(ScramHash::sha512, config.username, config.password);
    case SaslConfig::Mechanism::oauthbearer:
      return make_oauthbearer(config.oauth_token_provider, config.oauth_extensions);
    case SaslConfig::Mechanism::gssapi:
      return make_gssapi(config.kerberos_service_name,
                         config.kerberos_domain_name.empty() ? std::string(host) : config.kerberos_domain_name);
  }
  return make_plain({}, {});  // unreachable for valid enum values; fails in start()
}

}  // namespace sasl
}  // namespace asiokafka
