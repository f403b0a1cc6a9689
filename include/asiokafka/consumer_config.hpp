// The Consumer's options (aiokafka's AIOKafkaConsumer names, without the `_ms` suffix:
// durations are std::chrono types) and their validation. docs/consumer.md lists every option
// beside aiokafka's and explains where the defaults differ; docs/consumer_groups.md explains
// the group membership options.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "asiokafka/config.hpp"
#include "asiokafka/sasl.hpp"

namespace asiokafka {

/// Where a partition without a valid position starts (auto_offset_reset).
enum class AutoOffsetReset {
  earliest,  ///< the oldest offset still in the log
  latest,    ///< the offset the next record written will get
  none,      ///< fail with an offset-out-of-range error naming the partitions
};

/// Which records a fetch returns (isolation_level); valued as the Fetch request's field.
enum class IsolationLevel : std::int8_t {
  read_uncommitted = 0,  ///< every record, aborted transactions included
  read_committed = 1,    ///< only committed records, up to the last stable offset
};

/// A partition assignment strategy of the classic group protocol (partition_assignment_strategy);
/// each is the JoinGroup protocol name the Java client, librdkafka and aiokafka use.
enum class PartitionAssignor {
  range,               ///< "range": per topic, consecutive ranges of partitions
  roundrobin,          ///< "roundrobin": all partitions dealt in turn
  sticky,              ///< "sticky": balanced, keeps partitions where they were (eager)
  cooperative_sticky,  ///< "cooperative-sticky": sticky, revoking only what moves (KIP-429)
};

/// Which group membership protocol a subscribed consumer uses (group_protocol).
enum class GroupProtocol {
  classic,   ///< JoinGroup/SyncGroup/Heartbeat; the leader member assigns (every broker)
  consumer,  ///< KIP-848 ConsumerGroupHeartbeat; the coordinator assigns (Kafka 4.0+)
};

/// Options of a Consumer: the shared client options (as ClientConfig, same names and defaults)
/// followed by the consumer's own. A flat aggregate, so designated initializers work:
/// `ConsumerConfig{.bootstrap_servers = "localhost:9092", .group_id = "g",
/// .auto_offset_reset = AutoOffsetReset::earliest}`. Validated when a consumer is constructed
/// (see validate below).
struct ConsumerConfig {
  // ---- shared with every client (ClientConfig) ----

  /// As ClientConfig::bootstrap_servers: "host[:port]" entries separated by commas or spaces.
  std::string bootstrap_servers = "localhost";
  /// As ClientConfig::client_id: sent with every request.
  std::string client_id = "asiokafka";
  /// As ClientConfig::request_timeout (request_timeout_ms). A fetch waits at the broker up to
  /// fetch_max_wait on purpose; its bound is request_timeout plus that wait.
  std::chrono::milliseconds request_timeout{40'000};
  /// As ClientConfig::connect_timeout: bound on one connection attempt.
  std::chrono::milliseconds connect_timeout{10'000};
  /// As ClientConfig::metadata_max_age (metadata_max_age_ms).
  std::chrono::milliseconds metadata_max_age{300'000};
  /// As ClientConfig::retry_backoff (retry_backoff_ms): also the wait before a failed fetch
  /// or offset lookup is retried.
  std::chrono::milliseconds retry_backoff{100};
  /// As ClientConfig::reconnect_backoff and reconnect_backoff_max.
  std::chrono::milliseconds reconnect_backoff{50};
  std::chrono::milliseconds reconnect_backoff_max{1'000};
  /// As ClientConfig::connections_max_idle (connections_max_idle_ms).
  std::chrono::milliseconds connections_max_idle{540'000};
  /// As ClientConfig::security_protocol.
  SecurityProtocol security_protocol = SecurityProtocol::plaintext;
  /// As ClientConfig::ssl_context: the TLS context for ssl and sasl_ssl.
  std::shared_ptr<boost::asio::ssl::context> ssl_context;
  /// As ClientConfig::ssl_check_hostname.
  bool ssl_check_hostname = true;
  /// As ClientConfig::sasl: mechanism and credentials for sasl_plaintext and sasl_ssl.
  std::optional<SaslConfig> sasl;
  /// As ClientConfig::max_in_flight_requests_per_connection.
  std::size_t max_in_flight_requests_per_connection = 5;
  /// As ClientConfig::max_response_bytes: a fetch response larger than this fails its
  /// connection, so fetch_max_bytes may not exceed it.
  std::size_t max_response_bytes = 100 * 1024 * 1024;
  /// As ClientConfig::allow_auto_create_topics: looking up an unknown topic may create it.
  bool allow_auto_create_topics = true;

  // ---- the consumer's own ----

  /// The consumer group, for committed offsets (and, with the group coordinator, membership).
  /// Unset: no group; commit() and committed() fail, enable_auto_commit is ignored.
  std::optional<std::string> group_id;
  /// Bytes the broker waits for before answering a fetch, up to fetch_max_wait
  /// (fetch_min_bytes). 0 answers at once.
  std::size_t fetch_min_bytes = 1;
  /// Upper bound of one fetch response, over its partitions (fetch_max_bytes). Not absolute:
  /// the first record batch of the first non-empty partition is returned whatever its size.
  std::size_t fetch_max_bytes = 52'428'800;
  /// Longest the broker holds a fetch waiting for fetch_min_bytes (fetch_max_wait_ms).
  std::chrono::milliseconds fetch_max_wait{500};
  /// Upper bound of the data one fetch returns per partition (max_partition_fetch_bytes); as
  /// fetch_max_bytes, a larger first batch is still returned.
  std::size_t max_partition_fetch_bytes = 1'048'576;
  /// Most records one getmany() returns (max_poll_records). Unset: no limit.
  std::optional<std::size_t> max_poll_records;
  /// Where a partition starts without a valid committed or sought position (auto_offset_reset).
  AutoOffsetReset auto_offset_reset = AutoOffsetReset::latest;
  /// Commit the consumed positions in the background every auto_commit_interval, and on stop
  /// (enable_auto_commit). Needs group_id; without one it is ignored, as in aiokafka.
  bool enable_auto_commit = true;
  /// Time between background commits (auto_commit_interval_ms).
  std::chrono::milliseconds auto_commit_interval{5'000};
  /// Check each record batch's CRC32C; a mismatch fails with a corrupt-record error naming
  /// topic, partition and offset (check_crcs).
  bool check_crcs = true;
  /// Longest the background fetcher waits before it looks again at assignment changes and
  /// partitions to fetch (consumer_timeout_ms).
  std::chrono::milliseconds consumer_timeout{200};
  /// Topics matched by a subscription pattern leave out internal topics such as
  /// __consumer_offsets (exclude_internal_topics).
  bool exclude_internal_topics = true;
  /// Which records fetches return (isolation_level).
  IsolationLevel isolation_level = IsolationLevel::read_uncommitted;
  /// This consumer's rack, for fetching from the closest replica when the brokers have a
  /// replica selector (KIP-392, client_rack). Empty: none, fetch from leaders.
  std::string client_rack;
  /// Bytes of fetched records the consumer buffers over all partitions and brokers (aiokafka
  /// has none; librdkafka's queued.max.messages.kbytes is this, with the same 64 MiB default).
  /// While it is used up no fetch goes out; it bounds memory when the application does not
  /// consume. At least max_partition_fetch_bytes, so one partition can always be fetched.
  std::size_t fetch_buffer_memory = 64 * 1024 * 1024;

  // ---- group membership (subscribe(); docs/consumer_groups.md) ----

  /// Static membership (KIP-345, group_instance_id): a member that restarts with the same id
  /// within session_timeout gets its partitions back without a rebalance. A static member
  /// does not leave the group on stop(). Unset: a dynamic member.
  std::optional<std::string> group_instance_id;
  /// The assignors this member supports, most preferred first; the group uses the first one
  /// every member supports (partition_assignment_strategy). Cooperative rebalancing (KIP-429)
  /// only when every one listed is cooperative (cooperative_sticky), as in the Java client.
  std::vector<PartitionAssignor> partition_assignment_strategy = {PartitionAssignor::roundrobin};
  /// The coordinator removes a member it has not heard a heartbeat from for this long
  /// (session_timeout_ms); the broker bounds it (group.min/max.session.timeout.ms).
  std::chrono::milliseconds session_timeout{10'000};
  /// Time between heartbeats (heartbeat_interval_ms); below session_timeout, usually a third.
  std::chrono::milliseconds heartbeat_interval{3'000};
  /// How long the coordinator waits for every member to rejoin in a rebalance
  /// (rebalance_timeout_ms): the time the rebalance listener may take. Unset: session_timeout
  /// (aiokafka's default; heartbeats and rebalances run in the background, so it is not tied
  /// to max_poll_interval as in the Java client).
  std::optional<std::chrono::milliseconds> rebalance_timeout;
  /// A member whose application calls no get*() for this long leaves the group (its partitions
  /// go to the others) and rejoins on its next get*() (max_poll_interval_ms).
  std::chrono::milliseconds max_poll_interval{300'000};
  /// The membership protocol (docs/consumer_groups.md explains the default). With `consumer`
  /// the coordinator assigns (group_remote_assignor), and partition_assignment_strategy and
  /// session_timeout are the broker's business (session_timeout only bounds how long the
  /// member keeps partitions while heartbeats fail).
  GroupProtocol group_protocol = GroupProtocol::classic;
  /// The coordinator's assignor with group_protocol consumer ("uniform" or "range"); unset:
  /// the broker's default (group.consumer.assignors, uniform first).
  std::optional<std::string> group_remote_assignor;
  /// The longest backoff between failed group requests (they back off exponentially from
  /// retry_backoff; retry_backoff_max_ms of the Java client). Below retry_backoff: a constant
  /// retry_backoff, as in the Java client.
  std::chrono::milliseconds retry_backoff_max{1'000};
};

/// The shared options of `config`, copied out (what the consumer's connections use).
ClientConfig client_config_of(const ConsumerConfig& config);

/// Checks every option and their combinations (docs/consumer.md lists the rules); throws
/// asiokafka::error with client_errc::invalid_config and a message naming the option(s) and
/// the values, as "ConsumerConfig.<option>". Credentials never appear in the message.
void validate(const ConsumerConfig& config);

}  // namespace asiokafka
