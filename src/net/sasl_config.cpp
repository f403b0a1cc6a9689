// SaslConfig helpers and the mechanism factory (the sans-I/O mechanisms take plain values).
#include "net/sasl_config.hpp"

#include "asiokafka/sasl.hpp"

namespace asiokafka {

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

std::unique_ptr<mechanism> make_mechanism(const SaslConfig& config, std::string_view host) {
  switch (config.mechanism) {
    case SaslConfig::Mechanism::plain: return make_plain(config.username, config.password);
    case SaslConfig::Mechanism::scram_sha_256:
      return make_scram(scram_hash::sha256, config.username, config.password);
    case SaslConfig::Mechanism::scram_sha_512:
      return make_scram(scram_hash::sha512, config.username, config.password);
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
