// asiokafka::Client: the low-level cluster client the Producer, Consumer and Admin are built on.
// It bootstraps from a list of brokers, keeps the cluster metadata fresh, keeps one pipelined
// connection per broker and purpose, and routes any request the codec knows to a broker, a
// partition's leader, a group or transaction coordinator, or the controller. See docs/client.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include "asiokafka/protocol/message_types.hpp"
#include "asiokafka/response.hpp"
#include "asiokafka/sasl.hpp"

namespace asiokafka {

namespace net {
class Cluster;
}

/// How connections to brokers are secured (Kafka's security.protocol).
enum class SecurityProtocol { plaintext, ssl, sasl_plaintext, sasl_ssl };

/// Options shared by every client (aiokafka's names, Java's defaults where aiokafka has none).
/// Validated when a Client is constructed: a bad value throws std::system_error with
/// client_errc::invalid_config and a message naming the option.
struct ClientConfig {
  /// "host[:port]" entries separated by commas or spaces; the port defaults to 9092. IPv6
  /// literals in brackets ("[::1]:9092"). A "PLAINTEXT://"-style prefix is ignored.
  std::string bootstrap_servers = "localhost";
  /// Sent with every request; brokers log it and quotas may key on it.
  std::string client_id = "asiokafka";
  /// Bound on each request from send until its response (aiokafka request_timeout_ms).
  std::chrono::milliseconds request_timeout{40'000};
  /// Bound on one connection attempt: resolve, TCP, TLS, ApiVersions and SASL together.
  std::chrono::milliseconds connect_timeout{10'000};
  /// Metadata is refreshed at least this often (metadata_max_age_ms).
  std::chrono::milliseconds metadata_max_age{300'000};
  /// Least time between two metadata refreshes, and between coordinator lookups
  /// (retry_backoff_ms).
  std::chrono::milliseconds retry_backoff{100};
  /// Wait after a failed connection attempt, doubling (with ±20% jitter) up to the max
  /// (reconnect_backoff_ms, reconnect_backoff_max_ms).
  std::chrono::milliseconds reconnect_backoff{50};
  std::chrono::milliseconds reconnect_backoff_max{1'000};
  /// Connections without traffic for this long are closed (connections_max_idle_ms).
  std::chrono::milliseconds connections_max_idle{540'000};
  SecurityProtocol security_protocol = SecurityProtocol::plaintext;
  /// For ssl and sasl_ssl: the TLS context (see create_ssl_context in tls.hpp). Without one a
  /// context trusting the system's default CAs is made.
  std::shared_ptr<boost::asio::ssl::context> ssl_context;
  /// Check that the broker's certificate names the host connected to.
  bool ssl_check_hostname = true;
  /// For sasl_plaintext and sasl_ssl: mechanism and credentials.
  std::optional<SaslConfig> sasl;
  /// Requests written and not answered, per connection.
  std::size_t max_in_flight_requests_per_connection = 5;
  /// Larger response frames fail their connection with client_errc::frame_too_large.
  std::size_t max_response_bytes = 100 * 1024 * 1024;
  /// Metadata requests let the broker auto-create unknown topics (when the broker allows it).
  bool allow_auto_create_topics = true;
};

/// One entry of ClientConfig::bootstrap_servers.
struct BootstrapAddress {
  std::string host;
  std::uint16_t port = 9092;
  friend bool operator==(const BootstrapAddress&, const BootstrapAddress&) = default;
};

/// Parses a bootstrap_servers list; throws std::system_error(client_errc::invalid_config)
/// naming the bad entry.
std::vector<BootstrapAddress> parse_bootstrap_servers(std::string_view list);

/// Checks every option; throws std::system_error(client_errc::invalid_config) naming the
/// first bad one and the accepted values. Credentials never appear in the message.
void validate(const ClientConfig& config);

/// Which of a broker's connections a request travels on, so a heartbeat never queues behind a
/// large fetch or a produce burst.
enum class ConnectionPurpose { produce, fetch, group, other };

/// Produce -> produce, Fetch -> fetch, group coordination APIs (JoinGroup, SyncGroup,
/// Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, TxnOffsetCommit, ConsumerGroupHeartbeat)
/// -> group, everything else -> other.
ConnectionPurpose purpose_of(std::int16_t api_key) noexcept;

/// FindCoordinator's key type.
enum class CoordinatorType : std::int8_t { group = 0, transaction = 1, share = 2 };

struct BrokerMetadata {
  std::int32_t node_id = -1;
  std::string host;
  std::int32_t port = 0;
  std::optional<std::string> rack;
};

struct PartitionMetadata {
  std::int32_t partition = 0;
  std::int32_t leader = -1;        ///< -1: no leader known.
  std::int32_t leader_epoch = -1;  ///< -1: unknown.
  std::vector<std::int32_t> replicas;
  std::vector<std::int32_t> isr;
  std::vector<std::int32_t> offline_replicas;
  std::error_code error;
};

struct TopicMetadata {
  std::string name;
  protocol::uuid topic_id{};
  bool is_internal = false;
  std::error_code error;  ///< Empty when usable.
  std::vector<PartitionMetadata> partitions;
};

/// A copy of the client's view of the cluster.
struct ClusterMetadata {
  std::optional<std::string> cluster_id;
  std::int32_t controller_id = -1;
  std::vector<BrokerMetadata> brokers;  ///< By node id.
  std::vector<TopicMetadata> topics;    ///< By name; only topics the client has asked about.

  /// Lookups return pointers into this object, so they are not offered on a temporary
  /// (`client.metadata().topic(...)` would dangle): keep the copy in a variable.
  const BrokerMetadata* broker(std::int32_t node_id) const& noexcept;
  const TopicMetadata* topic(std::string_view name) const& noexcept;
  const BrokerMetadata* broker(std::int32_t node_id) const&& = delete;
  const TopicMetadata* topic(std::string_view name) const&& = delete;
};

/// A connection the client holds (for monitoring and tests).
struct ConnectionInfo {
  std::int32_t node_id = -1;  ///< Negative: a bootstrap address (-1 for the first, ...).
  ConnectionPurpose purpose = ConnectionPurpose::other;
  std::string address;
  std::size_t in_flight = 0;
};

namespace detail {
/// Where a request goes (see the Client::send* family).
struct route {
  enum class kind { any, node, leader, coordinator, controller };
  kind target = kind::any;
  std::int32_t node_id = -1;
  std::string name;  ///< Topic (leader) or key (coordinator).
  std::int32_t partition = 0;
  CoordinatorType coordinator = CoordinatorType::group;
};

/// The type-erased send (client.cpp); runs on the client's executor.
boost::asio::awaitable<void> client_call(const std::shared_ptr<net::Cluster>& cluster, const route& where,
                                         request_base& request);

template <class Request>
boost::asio::awaitable<response<typename Request::response_type>> client_send(
    std::shared_ptr<net::Cluster> cluster, route where, std::unique_ptr<typed_request<Request>> request) {
  co_await client_call(cluster, where, *request);
  co_return std::move(request->result);
}
}  // namespace detail

/// The low-level client. Runs on the executor given at construction (use a strand with a
/// multi-threaded io_context); its awaitable operations may be awaited from any executor (they
/// hop over), the synchronous accessors must be called on its executor.
///
/// GCC 12: pass named values, not temporaries, to these awaitable calls (see docs/design.md).
///
/// Errors are thrown as std::system_error: Kafka error codes (kafka_errc) for broker errors,
/// client_errc for the client's own (timeout, connection_failed, connection_lost, ...); the
/// message names the broker and the API.
class Client {
 public:
  /// Validates `config` (throws client_errc::invalid_config). Nothing connects before start().
  Client(boost::asio::any_io_executor executor, ClientConfig config);
  /// Without close(): fails requests in flight with client_errc::client_closed and closes the
  /// connections at once; background tasks end on their next turn of the executor.
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Connects to the bootstrap addresses in order until one answers a Metadata request, then
  /// starts the background metadata refresh. Throws client_errc::connection_failed naming
  /// every address tried and why each failed (bounded by connect_timeout plus
  /// request_timeout per address), or the authentication / TLS error.
  boost::asio::awaitable<void> start();
  /// Stops the background tasks, fails requests in flight with client_errc::client_closed,
  /// closes every connection and waits until all of it has ended. Idempotent.
  boost::asio::awaitable<void> close();

  /// Sends to the least-loaded broker (fewest requests in flight, connected ones first).
  template <class Request>
  boost::asio::awaitable<response<typename Request::response_type>> send(const Request& request) {
    return send_routed(detail::route{}, request);
  }
  /// Sends to broker `node_id`.
  template <class Request>
  boost::asio::awaitable<response<typename Request::response_type>> send_to(std::int32_t node_id, const Request& request) {
    return send_routed(detail::route{.target = detail::route::kind::node, .node_id = node_id}, request);
  }
  /// Sends to the leader of a partition, waiting for metadata when the leader is unknown
  /// (bounded by request_timeout). A routing error in the response is the caller's to report
  /// with invalidate_leader(); a lost connection invalidates it here.
  template <class Request>
  boost::asio::awaitable<response<typename Request::response_type>> send_to_leader(std::string_view topic,
                                                                                  std::int32_t partition,
                                                                                  const Request& request) {
    return send_routed(detail::route{.target = detail::route::kind::leader, .name = std::string(topic),
                                     .partition = partition},
                       request);
  }
  /// Sends to the coordinator of `key` (found with FindCoordinator and cached). A top-level
  /// NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE or COORDINATOR_LOAD_IN_PROGRESS answer, or a
  /// coordinator that cannot be reached, makes the client look the coordinator up again and
  /// resend, retry_backoff apart, within request_timeout; then the last answer or error is
  /// returned or thrown.
  template <class Request>
  boost::asio::awaitable<response<typename Request::response_type>> send_to_coordinator(CoordinatorType type,
                                                                                       std::string_view key,
                                                                                       const Request& request) {
    return send_routed(detail::route{.target = detail::route::kind::coordinator, .name = std::string(key),
                                     .coordinator = type},
                       request);
  }
  /// Sends to the active controller as the metadata names it (admin requests).
  template <class Request>
  boost::asio::awaitable<response<typename Request::response_type>> send_to_controller(const Request& request) {
    return send_routed(detail::route{.target = detail::route::kind::controller}, request);
  }

  /// Waits for fresh metadata (any refresh that starts after this call).
  boost::asio::awaitable<void> refresh_metadata();
  /// Adds `topics` to the metadata the client keeps and waits until each is known with a
  /// leader for every partition (topic auto-creation included), or request_timeout passes
  /// (client_errc::timeout). A final topic error (e.g. TOPIC_AUTHORIZATION_FAILED) is thrown.
  boost::asio::awaitable<void> refresh_metadata(std::span<const std::string> topics);
  /// The coordinator of `key`, from the cache or FindCoordinator (retried within
  /// request_timeout while the broker answers COORDINATOR_NOT_AVAILABLE).
  boost::asio::awaitable<BrokerMetadata> find_coordinator(CoordinatorType type, std::string_view key);

  /// A routing error for a partition (NOT_LEADER_OR_FOLLOWER, ...): forgets its leader when
  /// the error says so and schedules an early metadata refresh.
  void invalidate_leader(std::string_view topic, std::int32_t partition, std::error_code reason);
  /// Forgets a cached coordinator.
  void invalidate_coordinator(CoordinatorType type, std::string_view key);

  /// A copy of the metadata (call on the client's executor).
  ClusterMetadata metadata() const;
  /// The connections held now (call on the client's executor).
  std::vector<ConnectionInfo> connections() const;
  /// Throws client_errc::client_closed on a moved-from Client.
  const ClientConfig& config() const;
  boost::asio::any_io_executor get_executor() const;

 private:
  template <class Request>
  boost::asio::awaitable<response<typename Request::response_type>> send_routed(detail::route where,
                                                                               const Request& request) {
    // Not a coroutine: the request is copied into the heap object before this returns, so
    // it need not outlive the call. (Requests hold views, e.g. of record batches, whose
    // bytes must stay valid until the send completes.)
    auto typed = std::make_unique<detail::typed_request<Request>>(request, Request::max_version);
    return detail::client_send<Request>(cluster_, std::move(where), std::move(typed));
  }

  std::shared_ptr<net::Cluster> cluster_;
};

}  // namespace asiokafka
