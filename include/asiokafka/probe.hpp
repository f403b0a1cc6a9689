// probe_broker: connect to one broker, negotiate ApiVersions and read the cluster's identity.
// A diagnostic in the spirit of `kcat -L`; the full client (asiokafka::Client) builds on the
// same connection layer.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include "asiokafka/async.hpp"
#include "asiokafka/metadata.hpp"

namespace asiokafka {

/// The versions of one API a broker supports.
struct ApiVersionRange {
  std::int16_t api_key = 0;
  std::int16_t min_version = 0;
  std::int16_t max_version = 0;
};

/// What probe_broker learned.
struct BrokerProbe {
  std::string address;                        ///< The host:port that answered.
  std::int16_t api_versions_version = 0;      ///< ApiVersions version the broker answered.
  std::vector<ApiVersionRange> api_versions;  ///< Every API the broker announced.
  std::int16_t metadata_version = 0;          ///< Metadata version used.
  std::optional<std::string> cluster_id;      ///< Null on brokers that have none.
  std::int32_t controller_id = -1;
  std::vector<BrokerMetadata> brokers;

  /// The broker's range for `api_key`, or nullptr when it does not support that API.
  const ApiVersionRange* find(std::int16_t api_key) const noexcept;
};

/// How to probe. Not an aggregate on purpose (set the fields after construction): a
/// brace-initialised aggregate temporary inside a co_await expression is destroyed twice by
/// GCC 12, so `co_await probe_broker(ex, a, ProbeOptions{})` must not be one.
struct ProbeOptions {
  ProbeOptions() = default;
  std::string client_id = "asiokafka";
  /// Set: TLS with this context (create_ssl_context in tls.hpp); peer verification is on.
  std::shared_ptr<boost::asio::ssl::context> ssl_context;
  /// With TLS: check that the certificate names the host connected to.
  bool ssl_check_hostname = true;
  /// Bound on the whole probe.
  std::chrono::milliseconds timeout{10'000};
  /// Larger response frames fail with client_errc::frame_too_large.
  std::size_t max_response_bytes = std::size_t{64} << 20;
  /// Also read cluster metadata. Turn off on SASL listeners: brokers answer only ApiVersions
  /// before authentication.
  bool read_metadata = true;
};

namespace detail {
boost::asio::awaitable<op_error> probe(std::string address, ProbeOptions options, std::shared_ptr<BrokerProbe> out);
}

/// Connects to `address` ("host:port", "[v6]:port"; port defaults to 9092), trying every
/// resolved address, then sends ApiVersions (falling back as KIP-511 describes) and Metadata
/// without topics, on `executor`. Fails with client_errc::timeout when `options.timeout`
/// passes, client_errc codes for bad addresses and malformed answers, client_errc::
/// connection_failed / TLS errors otherwise; the message names the address. Completion:
/// void(error_code, BrokerProbe).
template <boost::asio::completion_token_for<void(error_code, BrokerProbe)> Token = default_token_t>
auto probe_broker(boost::asio::any_io_executor executor, std::string_view address, ProbeOptions options,
                  Token&& token = default_token_t{}) {
  return boost::asio::async_initiate<Token, void(error_code, BrokerProbe)>(
      [ex = std::move(executor)](auto handler, std::string a, ProbeOptions o) {
        auto out = std::make_shared<BrokerProbe>();
        detail::launch(ex, detail::probe(std::move(a), std::move(o), out), std::move(handler),
                       [out] { return std::move(*out); });
      },
      token, std::string(address), std::move(options));
}

/// probe_broker with default options.
template <boost::asio::completion_token_for<void(error_code, BrokerProbe)> Token = default_token_t>
auto probe_broker(boost::asio::any_io_executor executor, std::string_view address, Token&& token = default_token_t{}) {
  return probe_broker(std::move(executor), address, ProbeOptions(), std::forward<Token>(token));
}

}  // namespace asiokafka
