// probe_broker: connect to one broker, negotiate ApiVersions and read the cluster's identity.
// A diagnostic in the spirit of `kcat -L`; the full client (asiokafka::Client) builds on the
// connection layer instead.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace asiokafka {

/// The versions of one API a broker supports.
struct ApiVersionRange {
  std::int16_t api_key = 0;
  std::int16_t min_version = 0;
  std::int16_t max_version = 0;
};

/// A broker as listed in cluster metadata.
struct BrokerNode {
  std::int32_t node_id = -1;
  std::string host;
  std::int32_t port = 0;
  std::optional<std::string> rack;
};

/// What probe_broker learned.
struct BrokerProbe {
  std::string address;                      ///< The host:port that answered.
  std::int16_t api_versions_version = 0;    ///< ApiVersions version the broker answered.
  std::vector<ApiVersionRange> api_versions;  ///< Every API the broker announced.
  std::int16_t metadata_version = 0;        ///< Metadata version used.
  std::optional<std::string> cluster_id;    ///< Null on brokers that have none.
  std::int32_t controller_id = -1;
  std::vector<BrokerNode> brokers;

  /// The broker's range for `api_key`, or nullptr when it does not support that API.
  const ApiVersionRange* find(std::int16_t api_key) const noexcept;
};

/// TLS settings for the probe. Peer verification is always on.
struct ProbeTls {
  std::string ca_file;           ///< PEM CA bundle; empty uses the system's default paths.
  std::string cert_file;         ///< PEM client certificate chain, for mutual TLS.
  std::string key_file;          ///< PEM private key matching cert_file.
  std::string key_password;      ///< Password of an encrypted key_file.
  bool verify_hostname = true;   ///< Check the certificate names the host we connected to.
};

struct ProbeOptions {
  std::string client_id = "asiokafka";
  std::optional<ProbeTls> tls;                     ///< Set to connect with TLS.
  std::chrono::milliseconds timeout{10'000};       ///< Bound on the whole probe.
  std::int32_t max_response_bytes = 64 << 20;      ///< Larger frames fail with frame_too_large.
  /// Also read cluster metadata. Turn off on SASL listeners: brokers answer only ApiVersions
  /// before authentication.
  bool read_metadata = true;
};

/// Connects to `address` ("host:port", "[v6]:port"; port defaults to 9092), trying every
/// resolved address, then sends ApiVersions (v3, falling back as KIP-511 describes) and
/// Metadata without topics. Throws std::system_error: client_errc::timeout when `timeout`
/// passes, client_errc codes for malformed answers, Asio/OpenSSL codes for network and TLS
/// failures; the exception's message names the address.
boost::asio::awaitable<BrokerProbe> probe_broker(std::string_view address, ProbeOptions options);

/// probe_broker with default options. An overload rather than a default argument: GCC 12
/// destroys a defaulted class-type argument twice when the call sits inside a coroutine.
boost::asio::awaitable<BrokerProbe> probe_broker(std::string_view address);

}  // namespace asiokafka
