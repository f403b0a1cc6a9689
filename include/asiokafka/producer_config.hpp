// The Producer's options (aiokafka's AIOKafkaProducer names, without the `_ms` suffix: durations
// are std::chrono types) and their validation. docs/producer.md lists every option beside
// aiokafka's and explains where the defaults differ.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <boost/asio/ssl/context.hpp>

#include "asiokafka/config.hpp"
#include "asiokafka/protocol/records.hpp"
#include "asiokafka/sasl.hpp"

namespace asiokafka {

/// How many replicas must have written a batch before the broker answers (Kafka's acks).
enum class Acks : std::int16_t {
  none = 0,    ///< no answer at all: a send completes once written, with offset -1
  leader = 1,  ///< the partition leader has written it
  all = -1,    ///< every in-sync replica has written it (the broker's min.insync.replicas applies)
};

/// Chooses the partition of a record sent without an explicit one: called with the topic,
/// the serialized key (nullopt for a record without a key), every partition of the topic and
/// those with a leader now. Returns one of `all_partitions`. Called on the producer's executor;
/// it must not block.
using Partitioner = std::function<std::int32_t(std::string_view topic, std::optional<protocol::byte_view> key,
                                               std::span<const std::int32_t> all_partitions,
                                               std::span<const std::int32_t> available_partitions)>;

/// Options of a Producer: the shared client options (as ClientConfig, same names and defaults)
/// followed by the producer's own. A flat aggregate, so designated initializers work:
/// `ProducerConfig{.bootstrap_servers = "localhost:9092", .acks = Acks::all, .linger = 10ms}`.
/// Validated when a producer is constructed (see validate below).
struct ProducerConfig {
  // ---- shared with every client (ClientConfig) ----

  /// As ClientConfig::bootstrap_servers: "host[:port]" entries separated by commas or spaces.
  std::string bootstrap_servers = "localhost";
  /// As ClientConfig::client_id: sent with every request.
  std::string client_id = "asiokafka";
  /// As ClientConfig::request_timeout: bound on each request, ProduceRequests included
  /// (request_timeout_ms).
  std::chrono::milliseconds request_timeout{40'000};
  /// As ClientConfig::connect_timeout: bound on one connection attempt.
  std::chrono::milliseconds connect_timeout{10'000};
  /// As ClientConfig::metadata_max_age (metadata_max_age_ms).
  std::chrono::milliseconds metadata_max_age{300'000};
  /// As ClientConfig::retry_backoff (retry_backoff_ms): also the wait before a batch is retried.
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
  /// As ClientConfig::max_in_flight_requests_per_connection. With idempotence at most 5 (the
  /// broker keeps the sequence numbers of the last 5 batches per producer and partition).
  std::size_t max_in_flight_requests_per_connection = 5;
  /// As ClientConfig::max_response_bytes.
  std::size_t max_response_bytes = 100 * 1024 * 1024;
  /// As ClientConfig::allow_auto_create_topics: sending to an unknown topic may create it.
  bool allow_auto_create_topics = true;

  // ---- the producer's own ----

  /// When the broker acknowledges a batch (acks). Idempotence requires Acks::all.
  Acks acks = Acks::all;
  /// Exactly-once delivery per partition across retries and reconnections: the producer gets
  /// an id from the broker and numbers its batches (enable_idempotence).
  bool enable_idempotence = true;
  /// Codec applied to each batch when it closes (compression_type).
  protocol::CompressionType compression_type = protocol::CompressionType::none;
  /// The codec's level: gzip 1..9, lz4 1..12, zstd -131072..22 (negative levels are zstd's
  /// fast modes). nullopt uses the codec's default; none and snappy take no level.
  std::optional<int> compression_level;
  /// Upper bound in bytes of one batch, per partition (max_batch_size).
  std::size_t max_batch_size = 16384;
  /// How long a batch that is not full waits for more records before it is sent (linger_ms).
  std::chrono::milliseconds linger{5};
  /// Upper bound in bytes of one ProduceRequest, and so of one record (max_request_size).
  std::size_t max_request_size = 1'048'576;
  /// Bytes the producer may buffer over all partitions (Java's buffer.memory); when they are
  /// used up, a send waits for room, up to max_block.
  std::size_t buffer_memory = 32 * 1024 * 1024;
  /// Longest a send waits for buffer room or for its topic's metadata before it fails with a
  /// timeout (Java's max.block.ms).
  std::chrono::milliseconds max_block{60'000};
  /// Bound from a send's return until its delivery is reported, retries included (Java's
  /// delivery.timeout.ms). At least linger + request_timeout.
  std::chrono::milliseconds delivery_timeout{120'000};
  /// Chooses partitions (partitioner). Empty: the default, murmur2 of the key as the Java
  /// client for keyed records, sticky partitioning (KIP-480) for records without a key.
  Partitioner partitioner;
  /// Reserved for transactions (a later issue): must stay unset for now; validate rejects it.
  std::optional<std::string> transactional_id;
};

/// The shared options of `config`, copied out (what the producer's connections use).
ClientConfig client_config_of(const ProducerConfig& config);

/// Checks every option and their combinations (docs/producer.md lists the rules); throws
/// asiokafka::error with client_errc::invalid_config and a message naming the option(s) and
/// the values. Credentials never appear in the message.
void validate(const ProducerConfig& config);

}  // namespace asiokafka
