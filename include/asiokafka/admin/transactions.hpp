// Admin: transactions and the producers writing to partitions (ListTransactions,
// DescribeTransactions, DescribeProducers, WriteTxnMarkers; KIP-664).
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asiokafka/admin/common.hpp"
#include "asiokafka/metadata.hpp"

namespace asiokafka {

/// A transaction's state at its coordinator.
enum class TransactionState : std::int8_t {
  unknown = 0,  ///< A name this client does not know.
  empty = 1,
  ongoing = 2,
  prepare_commit = 3,
  prepare_abort = 4,
  complete_commit = 5,
  complete_abort = 6,
  dead = 7,
  prepare_epoch_fence = 8,
};

/// The protocol's name of a state ("Ongoing", "PrepareCommit"); "" for unknown.
std::string_view to_string(TransactionState state) noexcept;

/// A set of transaction states (for list_transactions' filter); trivially destructible.
struct TransactionStateSet {
  constexpr TransactionStateSet() = default;
  constexpr TransactionStateSet(std::initializer_list<TransactionState> states) {  // NOLINT: implicit on purpose
    for (auto s : states) bits |= static_cast<std::uint32_t>(1u << static_cast<unsigned>(s));
  }
  constexpr bool contains(TransactionState s) const noexcept {
    return (bits & (1u << static_cast<unsigned>(s))) != 0;
  }
  constexpr bool empty() const noexcept { return bits == 0; }
  std::uint32_t bits = 0;
};

struct ListTransactionsOptions {
  /// Only transactions in one of these states. Empty: every state.
  TransactionStateSet states;
  /// Only transactions running for longer than this (KIP-994: ListTransactions v1, Kafka
  /// 3.8+; an older broker fails the operation with client_errc::unsupported_version).
  /// Negative: no filter.
  std::chrono::milliseconds running_longer_than{-1};
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// A transactional id of list_transactions.
struct TransactionListing {
  std::string transactional_id;
  std::int64_t producer_id = -1;
  TransactionState state = TransactionState::unknown;
  std::string state_name;  ///< As the broker sent it.
};

struct DescribeTransactionsOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One transactional id of describe_transactions; an unknown id reports
/// TRANSACTIONAL_ID_NOT_FOUND.
struct TransactionDescription : AdminItemResult {
  std::string transactional_id;
  std::optional<BrokerMetadata> coordinator;
  TransactionState state = TransactionState::unknown;
  std::string state_name;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::chrono::milliseconds transaction_timeout{0};
  /// When the ongoing transaction began (ms since the epoch); nullopt when none is ongoing.
  std::optional<std::int64_t> transaction_start_time_ms;
  /// The partitions the ongoing transaction wrote to (or is adding).
  std::vector<TopicPartition> partitions;
};

struct DescribeProducersOptions {
  /// Ask this broker instead of each partition's leader (e.g. a follower); -1: the leader.
  std::int32_t broker_id = -1;
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// A producer that wrote to a partition recently (DescribeProducers).
struct ProducerState {
  std::int64_t producer_id = -1;
  std::int32_t producer_epoch = -1;
  std::int32_t last_sequence = -1;
  std::int64_t last_timestamp_ms = -1;
  /// The epoch of the transaction coordinator that wrote its last marker; nullopt when none.
  std::optional<std::int32_t> coordinator_epoch;
  /// The first offset of its ongoing transaction; nullopt when none is ongoing.
  std::optional<std::int64_t> current_transaction_start_offset;
};

/// One partition of describe_producers.
struct PartitionProducers : AdminItemResult {
  TopicPartition partition;
  std::vector<ProducerState> producers;  ///< By producer id.
};

/// What abort_transaction needs to end a hanging transaction on one partition: the producer
/// as describe_producers reports it (id, epoch, coordinator epoch).
struct AbortTransactionSpec {
  AbortTransactionSpec(TopicPartition tp, std::int64_t pid, std::int16_t epoch, std::int32_t coord_epoch)
      : partition(std::move(tp)), producer_id(pid), producer_epoch(epoch), coordinator_epoch(coord_epoch) {}
  TopicPartition partition;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::int32_t coordinator_epoch = -1;
};

struct AbortTransactionOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// The partition of abort_transaction.
struct AbortTransactionResult : AdminItemResult {
  TopicPartition partition;
};

struct FenceProducersOptions {
  /// The transaction timeout the fenced transactional ids keep (InitProducerId's
  /// transaction_timeout_ms); at most the broker's transaction.max.timeout.ms.
  std::chrono::milliseconds transaction_timeout{60'000};
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One transactional id of fence_producers: the producer id and the new epoch that fences
/// every producer still using the old one.
struct FenceProducerResult : AdminItemResult {
  std::string transactional_id;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
};

}  // namespace asiokafka
