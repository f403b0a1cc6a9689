// ConsumerConfig validation and the shared options it carries (consumer_config.hpp).
//
// The rules are aiokafka's (max_poll_records, auto_offset_reset, isolation_level) and the Java
// client's ranges, stricter only where a value could not work here: sizes that must fit the
// Fetch request's int32 fields, a byte budget that could never admit one partition's fetch, a
// response bound that the fetch size would exceed, an empty group id (the broker refuses it
// for commits) and a zero auto-commit interval (a background task would commit in a loop).
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "asiokafka/consumer_config.hpp"
#include "asiokafka/error.hpp"

namespace asiokafka {

namespace {

constexpr std::size_t int32_max = static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max());

[[noreturn]] void bad_config(const std::string& what) { throw error(client_errc::invalid_config, what); }

std::string ms(std::chrono::milliseconds v) { return std::to_string(v.count()) + " ms"; }
std::string bytes(std::size_t v) { return std::to_string(v) + " bytes"; }

void validate_shared(const ConsumerConfig& c) { detail::validate_shared_as(client_config_of(c), "ConsumerConfig"); }

// Sizes the Fetch request carries as int32.
void fits_int32(const char* name, std::size_t v) {
  if (v > int32_max) {
    bad_config(std::string("ConsumerConfig.") + name + " is " + bytes(v) + ", more than the protocol's " +
               bytes(int32_max));
  }
}

void positive_size(const char* name, std::size_t v) {
  if (v == 0) bad_config(std::string("ConsumerConfig.") + name + " must be > 0");
}

void validate_sizes(const ConsumerConfig& c) {
  fits_int32("fetch_min_bytes", c.fetch_min_bytes);
  positive_size("fetch_max_bytes", c.fetch_max_bytes);
  fits_int32("fetch_max_bytes", c.fetch_max_bytes);
  positive_size("max_partition_fetch_bytes", c.max_partition_fetch_bytes);
  fits_int32("max_partition_fetch_bytes", c.max_partition_fetch_bytes);
  positive_size("fetch_buffer_memory", c.fetch_buffer_memory);
  if (c.max_partition_fetch_bytes > c.fetch_buffer_memory) {
    bad_config("ConsumerConfig.max_partition_fetch_bytes (" + bytes(c.max_partition_fetch_bytes) +
               ") is larger than fetch_buffer_memory (" + bytes(c.fetch_buffer_memory) + ")");
  }
  if (c.fetch_max_bytes > c.max_response_bytes) {
    bad_config("ConsumerConfig.fetch_max_bytes (" + bytes(c.fetch_max_bytes) + ") is larger than max_response_bytes (" +
               bytes(c.max_response_bytes) + "): such fetch responses would fail their connection");
  }
  if (c.max_poll_records && *c.max_poll_records == 0) {
    bad_config("ConsumerConfig.max_poll_records must be > 0 (leave it unset for no limit)");
  }
}

void validate_durations(const ConsumerConfig& c) {
  if (c.fetch_max_wait.count() < 0 || c.fetch_max_wait.count() > std::numeric_limits<std::int32_t>::max()) {
    bad_config("ConsumerConfig.fetch_max_wait must be within 0.." +
               std::to_string(std::numeric_limits<std::int32_t>::max()) + " ms (got " + ms(c.fetch_max_wait) + ")");
  }
  if (c.consumer_timeout.count() < 0) {
    bad_config("ConsumerConfig.consumer_timeout must be >= 0 (got " + ms(c.consumer_timeout) + ")");
  }
  if (c.enable_auto_commit && c.auto_commit_interval.count() <= 0) {
    bad_config("ConsumerConfig.auto_commit_interval must be > 0 with enable_auto_commit (got " +
               ms(c.auto_commit_interval) + ")");
  }
}

void validate_group(const ConsumerConfig& c) {
  constexpr auto int32_ms = std::chrono::milliseconds(std::numeric_limits<std::int32_t>::max());
  if (c.group_instance_id) {
    if (c.group_instance_id->empty()) bad_config("ConsumerConfig.group_instance_id is empty (leave it unset for a dynamic member)");
    if (!c.group_id) bad_config("ConsumerConfig.group_instance_id is set without group_id");
  }
  if (c.partition_assignment_strategy.empty()) {
    bad_config("ConsumerConfig.partition_assignment_strategy is empty (name at least one assignor)");
  }
  for (std::size_t i = 0; i < c.partition_assignment_strategy.size(); ++i) {
    const auto a = c.partition_assignment_strategy[i];
    if (a != PartitionAssignor::range && a != PartitionAssignor::roundrobin && a != PartitionAssignor::sticky &&
        a != PartitionAssignor::cooperative_sticky) {
      bad_config("ConsumerConfig.partition_assignment_strategy has the unknown value " +
                 std::to_string(static_cast<int>(a)));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (c.partition_assignment_strategy[j] == a) {
        bad_config("ConsumerConfig.partition_assignment_strategy names an assignor twice");
      }
    }
  }
  if (c.session_timeout.count() <= 0 || c.session_timeout > int32_ms) {
    bad_config("ConsumerConfig.session_timeout must be within 1.." + ms(int32_ms) + " (got " + ms(c.session_timeout) + ")");
  }
  if (c.heartbeat_interval.count() <= 0 || c.heartbeat_interval >= c.session_timeout) {
    bad_config("ConsumerConfig.heartbeat_interval (" + ms(c.heartbeat_interval) +
               ") must be > 0 and lower than session_timeout (" + ms(c.session_timeout) + ")");
  }
  if (c.rebalance_timeout && (c.rebalance_timeout->count() <= 0 || *c.rebalance_timeout > int32_ms)) {
    bad_config("ConsumerConfig.rebalance_timeout must be within 1.." + ms(int32_ms) + " (got " +
               ms(*c.rebalance_timeout) + ")");
  }
  if (c.max_poll_interval.count() <= 0) {
    bad_config("ConsumerConfig.max_poll_interval must be > 0 (got " + ms(c.max_poll_interval) + ")");
  }
  if (c.group_protocol != GroupProtocol::classic && c.group_protocol != GroupProtocol::consumer) {
    bad_config("ConsumerConfig.group_protocol has the unknown value " + std::to_string(static_cast<int>(c.group_protocol)) +
               " (expected classic or consumer)");
  }
  if (c.group_remote_assignor && c.group_remote_assignor->empty()) {
    bad_config("ConsumerConfig.group_remote_assignor is empty (leave it unset for the broker's default)");
  }
  if (c.group_remote_assignor && c.group_protocol == GroupProtocol::classic) {
    // As the Java client: with classic, the leader member assigns (partition_assignment_strategy).
    bad_config("ConsumerConfig.group_remote_assignor is the coordinator's assignor of group_protocol consumer; "
               "with group_protocol classic use partition_assignment_strategy");
  }
  if (c.retry_backoff_max.count() < 0) {
    bad_config("ConsumerConfig.retry_backoff_max must be >= 0 (got " + ms(c.retry_backoff_max) + ")");
  }
}

}  // namespace

ClientConfig client_config_of(const ConsumerConfig& c) { return detail::shared_client_config(c); }

void validate(const ConsumerConfig& c) {
  validate_shared(c);

  if (c.group_id && c.group_id->empty()) {
    bad_config("ConsumerConfig.group_id is empty (leave it unset for no group)");
  }
  switch (c.auto_offset_reset) {
    case AutoOffsetReset::earliest:
    case AutoOffsetReset::latest:
    case AutoOffsetReset::none: break;
    default:
      bad_config("ConsumerConfig.auto_offset_reset has the unknown value " +
                 std::to_string(static_cast<int>(c.auto_offset_reset)) + " (expected earliest, latest or none)");
  }
  switch (c.isolation_level) {
    case IsolationLevel::read_uncommitted:
    case IsolationLevel::read_committed: break;
    default:
      bad_config("ConsumerConfig.isolation_level has the unknown value " +
                 std::to_string(static_cast<int>(c.isolation_level)) +
                 " (expected read_uncommitted or read_committed)");
  }
  validate_sizes(c);
  validate_durations(c);
  validate_group(c);
}

}  // namespace asiokafka
