// The bridge from the public SaslConfig to the sans-I/O SASL mechanisms, which take plain values
// (so the sans-I/O core never sees SaslConfig's awaitable token provider).
#pragma once

#include <memory>
#include <string_view>

#include "asiokafka/sasl.hpp"
#include "net/sansio/sasl/mechanism.hpp"

namespace asiokafka::sasl {

/// The mechanism `config` selects, for a broker at `host` (used by GSSAPI only). Configuration
/// errors surface as a failing start(). OAUTHBEARER here uses the synchronous provider; the
/// connection fetches an awaitable provider's token first and builds the mechanism itself.
std::unique_ptr<mechanism> make_mechanism(const SaslConfig& config, std::string_view host);

}  // namespace asiokafka::sasl
