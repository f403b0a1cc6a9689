// The client_errc and sasl_errc categories.
#include "asiokafka/error.hpp"

namespace asiokafka {
namespace {

class client_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "asiokafka.client"; }
  std::string message(int ev) const override {
    switch (static_cast<client_errc>(ev)) {
      case client_errc::truncated: return "message truncated";
      case client_errc::malformed: return "malformed message";
      case client_errc::frame_too_large: return "response frame too large";
      case client_errc::correlation_mismatch: return "unexpected correlation id";
      case client_errc::unsupported_version: return "no API version supported by both sides";
      case client_errc::broker_error: return "broker returned an error";
      case client_errc::timeout: return "operation timed out";
      case client_errc::field_not_in_version: return "field has a value but the chosen version lacks it";
      case client_errc::unknown_api: return "API key or version not implemented";
      case client_errc::crc_mismatch: return "record batch CRC mismatch";
      case client_errc::corrupt_record: return "corrupt record";
      case client_errc::unsupported_compression: return "unsupported compression type";
      case client_errc::decompressed_too_large: return "decompressed data exceeds the allowed size";
      case client_errc::compression_failed: return "compression library error";
      case client_errc::connection_failed: return "could not connect to the broker";
      case client_errc::connection_lost: return "connection to the broker lost";
      case client_errc::connection_closed: return "connection closed by the client";
      case client_errc::invalid_config: return "invalid configuration";
      case client_errc::no_broker_available: return "no broker available";
      case client_errc::client_closed: return "the client is closed";
      case client_errc::invalid_argument: return "invalid argument";
      case client_errc::illegal_state: return "not allowed in the current state";
      case client_errc::consumer_stopped: return "the consumer stopped";
      case client_errc::commit_failed: return "commit failed: the group rebalanced and this member's generation is gone";
    }
    return "unknown asiokafka client error " + std::to_string(ev);
  }
};

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

const std::error_category& client_category() noexcept {
  static const client_category_impl instance;
  return instance;
}

const std::error_category& sasl_category() noexcept {
  static const sasl_category_impl instance;
  return instance;
}

}  // namespace asiokafka
