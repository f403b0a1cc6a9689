#include "asiokafka/kafka_error.hpp"

#include <array>
#include <string>

#include "asiokafka/error.hpp"
#include "protocol/error_class.hpp"

namespace asiokafka {
namespace {

struct entry {
  kafka_errc code;
  std::string_view name;
  bool retriable;  // Kafka's classification: the Java client maps the code to a RetriableException
  std::string_view message;
};

// One row per code, ascending and contiguous from -1, so a code's row is at index code + 1.
constexpr entry table[] = {
    {kafka_errc::unknown_server_error, "UNKNOWN_SERVER_ERROR", false, "the broker hit an unexpected error while handling the request"},
    {kafka_errc::none, "NONE", false, "success"},
    {kafka_errc::offset_out_of_range, "OFFSET_OUT_OF_RANGE", false, "the offset is outside the range the broker holds for this partition"},
    {kafka_errc::corrupt_message, "CORRUPT_MESSAGE", true, "a record failed its CRC or size checks, or is otherwise corrupt"},
    {kafka_errc::unknown_topic_or_partition, "UNKNOWN_TOPIC_OR_PARTITION", true, "this broker does not host the topic-partition"},
    {kafka_errc::invalid_fetch_size, "INVALID_FETCH_SIZE", false, "the fetch size is not valid"},
    {kafka_errc::leader_not_available, "LEADER_NOT_AVAILABLE", true, "the partition has no leader right now (election under way)"},
    {kafka_errc::not_leader_or_follower, "NOT_LEADER_OR_FOLLOWER", true, "this broker is not the leader (or not a replica) of the partition"},
    {kafka_errc::request_timed_out, "REQUEST_TIMED_OUT", true, "the broker timed out handling the request"},
    {kafka_errc::broker_not_available, "BROKER_NOT_AVAILABLE", false, "the broker is not available"},
    {kafka_errc::replica_not_available, "REPLICA_NOT_AVAILABLE", true, "the replica is not available for the partition"},
    {kafka_errc::message_too_large, "MESSAGE_TOO_LARGE", false, "a record is larger than the broker accepts"},
    {kafka_errc::stale_controller_epoch, "STALE_CONTROLLER_EPOCH", false, "the controller moved to another broker"},
    {kafka_errc::offset_metadata_too_large, "OFFSET_METADATA_TOO_LARGE", false, "the committed offset metadata string is too long"},
    {kafka_errc::network_exception, "NETWORK_EXCEPTION", true, "the connection was closed before the response arrived"},
    {kafka_errc::coordinator_load_in_progress, "COORDINATOR_LOAD_IN_PROGRESS", true, "the coordinator is still loading its state"},
    {kafka_errc::coordinator_not_available, "COORDINATOR_NOT_AVAILABLE", true, "the coordinator is not available"},
    {kafka_errc::not_coordinator, "NOT_COORDINATOR", true, "this broker is not the coordinator for the group or transaction"},
    {kafka_errc::invalid_topic_exception, "INVALID_TOPIC_EXCEPTION", false, "the topic name is not valid for this operation"},
    {kafka_errc::record_list_too_large, "RECORD_LIST_TOO_LARGE", false, "the record batch is larger than the broker's segment size"},
    {kafka_errc::not_enough_replicas, "NOT_ENOUGH_REPLICAS", true, "too few in-sync replicas to accept the write"},
    {kafka_errc::not_enough_replicas_after_append, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", true, "the write was appended but to fewer in-sync replicas than required"},
    {kafka_errc::invalid_required_acks, "INVALID_REQUIRED_ACKS", false, "the produce request's acks value is not valid"},
    {kafka_errc::illegal_generation, "ILLEGAL_GENERATION", false, "the group generation id is not current"},
    {kafka_errc::inconsistent_group_protocol, "INCONSISTENT_GROUP_PROTOCOL", false, "the member's protocols do not match the group's (or are empty)"},
    {kafka_errc::invalid_group_id, "INVALID_GROUP_ID", false, "the group id is not valid"},
    {kafka_errc::unknown_member_id, "UNKNOWN_MEMBER_ID", false, "the coordinator does not know this member id"},
    {kafka_errc::invalid_session_timeout, "INVALID_SESSION_TIMEOUT", false, "the session timeout is outside the range the broker allows"},
    {kafka_errc::rebalance_in_progress, "REBALANCE_IN_PROGRESS", false, "the group is rebalancing; the member must rejoin"},
    {kafka_errc::invalid_commit_offset_size, "INVALID_COMMIT_OFFSET_SIZE", false, "the offset commit data has an invalid size"},
    {kafka_errc::topic_authorization_failed, "TOPIC_AUTHORIZATION_FAILED", false, "not authorized to access the topic"},
    {kafka_errc::group_authorization_failed, "GROUP_AUTHORIZATION_FAILED", false, "not authorized to access the group"},
    {kafka_errc::cluster_authorization_failed, "CLUSTER_AUTHORIZATION_FAILED", false, "not authorized for this cluster operation"},
    {kafka_errc::invalid_timestamp, "INVALID_TIMESTAMP", false, "the record timestamp is outside the accepted range"},
    {kafka_errc::unsupported_sasl_mechanism, "UNSUPPORTED_SASL_MECHANISM", false, "the broker does not offer this SASL mechanism"},
    {kafka_errc::illegal_sasl_state, "ILLEGAL_SASL_STATE", false, "the request is not allowed in the current SASL state"},
    {kafka_errc::unsupported_version, "UNSUPPORTED_VERSION", false, "the broker does not support this API version"},
    {kafka_errc::topic_already_exists, "TOPIC_ALREADY_EXISTS", false, "a topic with this name already exists"},
    {kafka_errc::invalid_partitions, "INVALID_PARTITIONS", false, "the partition count is not valid"},
    {kafka_errc::invalid_replication_factor, "INVALID_REPLICATION_FACTOR", false, "the replication factor is below 1 or above the broker count"},
    {kafka_errc::invalid_replica_assignment, "INVALID_REPLICA_ASSIGNMENT", false, "the replica assignment is not valid"},
    {kafka_errc::invalid_config, "INVALID_CONFIG", false, "the configuration is not valid"},
    {kafka_errc::not_controller, "NOT_CONTROLLER", true, "this broker is not the active controller"},
    {kafka_errc::invalid_request, "INVALID_REQUEST", false, "the broker could not accept the request as sent (malformed or incompatible)"},
    {kafka_errc::unsupported_for_message_format, "UNSUPPORTED_FOR_MESSAGE_FORMAT", false, "the broker's message format version cannot serve this request"},
    {kafka_errc::policy_violation, "POLICY_VIOLATION", false, "the request violates a policy configured on the broker"},
    {kafka_errc::out_of_order_sequence_number, "OUT_OF_ORDER_SEQUENCE_NUMBER", false, "the broker saw a producer sequence number out of order"},
    {kafka_errc::duplicate_sequence_number, "DUPLICATE_SEQUENCE_NUMBER", false, "the broker saw a duplicate producer sequence number"},
    {kafka_errc::invalid_producer_epoch, "INVALID_PRODUCER_EPOCH", false, "the producer epoch is older than the broker's"},
    {kafka_errc::invalid_txn_state, "INVALID_TXN_STATE", false, "the transactional operation is not valid in the current state"},
    {kafka_errc::invalid_producer_id_mapping, "INVALID_PRODUCER_ID_MAPPING", false, "the producer id is not assigned to this transactional id"},
    {kafka_errc::invalid_transaction_timeout, "INVALID_TRANSACTION_TIMEOUT", false, "the transaction timeout exceeds the broker's maximum"},
    {kafka_errc::concurrent_transactions, "CONCURRENT_TRANSACTIONS", true, "another operation on this transaction is still in progress"},
    {kafka_errc::transaction_coordinator_fenced, "TRANSACTION_COORDINATOR_FENCED", false, "the sending transaction coordinator has been replaced"},
    {kafka_errc::transactional_id_authorization_failed, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", false, "not authorized to use this transactional id"},
    {kafka_errc::security_disabled, "SECURITY_DISABLED", false, "security features are turned off on the broker"},
    {kafka_errc::operation_not_attempted, "OPERATION_NOT_ATTEMPTED", false, "the broker skipped this operation because another in the batch failed"},
    {kafka_errc::kafka_storage_error, "KAFKA_STORAGE_ERROR", true, "the broker hit a disk error accessing the log"},
    {kafka_errc::log_dir_not_found, "LOG_DIR_NOT_FOUND", false, "the log directory is not in the broker's configuration"},
    {kafka_errc::sasl_authentication_failed, "SASL_AUTHENTICATION_FAILED", false, "SASL authentication failed"},
    {kafka_errc::unknown_producer_id, "UNKNOWN_PRODUCER_ID", false, "the broker has no state for this producer id"},
    {kafka_errc::reassignment_in_progress, "REASSIGNMENT_IN_PROGRESS", false, "a partition reassignment is under way"},
    {kafka_errc::delegation_token_auth_disabled, "DELEGATION_TOKEN_AUTH_DISABLED", false, "delegation tokens are not enabled"},
    {kafka_errc::delegation_token_not_found, "DELEGATION_TOKEN_NOT_FOUND", false, "the delegation token does not exist"},
    {kafka_errc::delegation_token_owner_mismatch, "DELEGATION_TOKEN_OWNER_MISMATCH", false, "the principal is not the token's owner or renewer"},
    {kafka_errc::delegation_token_request_not_allowed, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", false, "delegation token requests are not allowed on this channel"},
    {kafka_errc::delegation_token_authorization_failed, "DELEGATION_TOKEN_AUTHORIZATION_FAILED", false, "not authorized for this delegation token operation"},
    {kafka_errc::delegation_token_expired, "DELEGATION_TOKEN_EXPIRED", false, "the delegation token has expired"},
    {kafka_errc::invalid_principal_type, "INVALID_PRINCIPAL_TYPE", false, "the principal type is not supported"},
    {kafka_errc::non_empty_group, "NON_EMPTY_GROUP", false, "the group still has members"},
    {kafka_errc::group_id_not_found, "GROUP_ID_NOT_FOUND", false, "the group does not exist"},
    {kafka_errc::fetch_session_id_not_found, "FETCH_SESSION_ID_NOT_FOUND", true, "the broker has no fetch session with this id"},
    {kafka_errc::invalid_fetch_session_epoch, "INVALID_FETCH_SESSION_EPOCH", true, "the fetch session epoch does not match"},
    {kafka_errc::listener_not_found, "LISTENER_NOT_FOUND", true, "the leader has no listener matching the one the request arrived on"},
    {kafka_errc::topic_deletion_disabled, "TOPIC_DELETION_DISABLED", false, "topic deletion is turned off on the broker"},
    {kafka_errc::fenced_leader_epoch, "FENCED_LEADER_EPOCH", true, "the request's leader epoch is older than the broker's"},
    {kafka_errc::unknown_leader_epoch, "UNKNOWN_LEADER_EPOCH", true, "the request's leader epoch is newer than the broker's"},
    {kafka_errc::unsupported_compression_type, "UNSUPPORTED_COMPRESSION_TYPE", false, "the compression type is not supported here"},
    {kafka_errc::stale_broker_epoch, "STALE_BROKER_EPOCH", false, "the broker epoch has changed"},
    {kafka_errc::offset_not_available, "OFFSET_NOT_AVAILABLE", true, "the new leader's high watermark has not caught up yet"},
    {kafka_errc::member_id_required, "MEMBER_ID_REQUIRED", false, "the member must rejoin with the member id the coordinator assigned"},
    {kafka_errc::preferred_leader_not_available, "PREFERRED_LEADER_NOT_AVAILABLE", true, "the preferred leader is not available"},
    {kafka_errc::group_max_size_reached, "GROUP_MAX_SIZE_REACHED", false, "the group has reached its maximum size"},
    {kafka_errc::fenced_instance_id, "FENCED_INSTANCE_ID", false, "another member registered with the same group instance id"},
    {kafka_errc::eligible_leaders_not_available, "ELIGIBLE_LEADERS_NOT_AVAILABLE", true, "no eligible leader is available for the partition"},
    {kafka_errc::election_not_needed, "ELECTION_NOT_NEEDED", true, "the partition does not need a leader election"},
    {kafka_errc::no_reassignment_in_progress, "NO_REASSIGNMENT_IN_PROGRESS", false, "no partition reassignment is under way"},
    {kafka_errc::group_subscribed_to_topic, "GROUP_SUBSCRIBED_TO_TOPIC", false, "cannot delete offsets of a topic the group is subscribed to"},
    {kafka_errc::invalid_record, "INVALID_RECORD", false, "the broker rejected a record that failed validation"},
    {kafka_errc::unstable_offset_commit, "UNSTABLE_OFFSET_COMMIT", true, "there are pending transactional offsets for this partition"},
    {kafka_errc::throttling_quota_exceeded, "THROTTLING_QUOTA_EXCEEDED", true, "the request would exceed a throttling quota"},
    {kafka_errc::producer_fenced, "PRODUCER_FENCED", false, "a newer producer with the same transactional id took over"},
    {kafka_errc::resource_not_found, "RESOURCE_NOT_FOUND", false, "the request names a resource that does not exist"},
    {kafka_errc::duplicate_resource, "DUPLICATE_RESOURCE", false, "the request names the same resource twice"},
    {kafka_errc::unacceptable_credential, "UNACCEPTABLE_CREDENTIAL", false, "the credential does not meet the acceptance criteria"},
    {kafka_errc::inconsistent_voter_set, "INCONSISTENT_VOTER_SET", false, "sender or receiver is not one of the expected voters"},
    {kafka_errc::invalid_update_version, "INVALID_UPDATE_VERSION", false, "the update version is not valid"},
    {kafka_errc::feature_update_failed, "FEATURE_UPDATE_FAILED", false, "the broker could not update finalized features"},
    {kafka_errc::principal_deserialization_failure, "PRINCIPAL_DESERIALIZATION_FAILURE", false, "the broker could not deserialize a forwarded principal"},
    {kafka_errc::snapshot_not_found, "SNAPSHOT_NOT_FOUND", false, "the requested snapshot does not exist"},
    {kafka_errc::position_out_of_range, "POSITION_OUT_OF_RANGE", false, "the position is outside the snapshot"},
    {kafka_errc::unknown_topic_id, "UNKNOWN_TOPIC_ID", true, "this broker does not host a topic with this id"},
    {kafka_errc::duplicate_broker_registration, "DUPLICATE_BROKER_REGISTRATION", false, "the broker id is already registered"},
    {kafka_errc::broker_id_not_registered, "BROKER_ID_NOT_REGISTERED", false, "the broker id is not registered"},
    {kafka_errc::inconsistent_topic_id, "INCONSISTENT_TOPIC_ID", true, "the topic id does not match the log's topic id"},
    {kafka_errc::inconsistent_cluster_id, "INCONSISTENT_CLUSTER_ID", false, "the cluster id does not match the server's"},
    {kafka_errc::transactional_id_not_found, "TRANSACTIONAL_ID_NOT_FOUND", false, "the transactional id does not exist"},
    {kafka_errc::fetch_session_topic_id_error, "FETCH_SESSION_TOPIC_ID_ERROR", true, "the fetch session used topic ids inconsistently"},
    {kafka_errc::ineligible_replica, "INELIGIBLE_REPLICA", false, "the proposed ISR contains an ineligible replica"},
    {kafka_errc::new_leader_elected, "NEW_LEADER_ELECTED", false, "the partition state was updated but a new leader was elected"},
    {kafka_errc::offset_moved_to_tiered_storage, "OFFSET_MOVED_TO_TIERED_STORAGE", false, "the offset is only available in tiered storage"},
    {kafka_errc::fenced_member_epoch, "FENCED_MEMBER_EPOCH", false, "the member epoch is fenced; the member must rejoin"},
    {kafka_errc::unreleased_instance_id, "UNRELEASED_INSTANCE_ID", false, "another member still holds this instance id"},
    {kafka_errc::unsupported_assignor, "UNSUPPORTED_ASSIGNOR", false, "the group does not support this assignor or version"},
    {kafka_errc::stale_member_epoch, "STALE_MEMBER_EPOCH", false, "the member epoch is stale; the member must use its latest epoch"},
    {kafka_errc::mismatched_endpoint_type, "MISMATCHED_ENDPOINT_TYPE", false, "the request reached an endpoint of the wrong type"},
    {kafka_errc::unsupported_endpoint_type, "UNSUPPORTED_ENDPOINT_TYPE", false, "the endpoint type is not supported"},
    {kafka_errc::unknown_controller_id, "UNKNOWN_CONTROLLER_ID", false, "the controller id is not known"},
    {kafka_errc::unknown_subscription_id, "UNKNOWN_SUBSCRIPTION_ID", false, "the telemetry subscription id is unknown or outdated"},
    {kafka_errc::telemetry_too_large, "TELEMETRY_TOO_LARGE", false, "the telemetry payload is larger than the broker accepts"},
    {kafka_errc::invalid_registration, "INVALID_REGISTRATION", false, "the controller considers the broker registration invalid"},
    {kafka_errc::transaction_abortable, "TRANSACTION_ABORTABLE", false, "the transaction failed; abort it to keep using the transactional id"},
    {kafka_errc::invalid_record_state, "INVALID_RECORD_STATE", false, "the record state does not allow this acknowledgement"},
    {kafka_errc::share_session_not_found, "SHARE_SESSION_NOT_FOUND", true, "the broker has no such share session"},
    {kafka_errc::invalid_share_session_epoch, "INVALID_SHARE_SESSION_EPOCH", true, "the share session epoch does not match"},
    {kafka_errc::fenced_state_epoch, "FENCED_STATE_EPOCH", false, "the share-group state epoch does not match"},
    {kafka_errc::invalid_voter_key, "INVALID_VOTER_KEY", false, "the voter key does not match the receiving replica"},
    {kafka_errc::duplicate_voter, "DUPLICATE_VOTER", false, "the voter is already in the voter set"},
    {kafka_errc::voter_not_found, "VOTER_NOT_FOUND", false, "the voter is not in the voter set"},
    {kafka_errc::invalid_regular_expression, "INVALID_REGULAR_EXPRESSION", false, "the regular expression is not valid"},
    {kafka_errc::rebootstrap_required, "REBOOTSTRAP_REQUIRED", false, "the client's metadata is stale; it must bootstrap again"},
    {kafka_errc::streams_invalid_topology, "STREAMS_INVALID_TOPOLOGY", false, "the streams topology is not valid"},
    {kafka_errc::streams_invalid_topology_epoch, "STREAMS_INVALID_TOPOLOGY_EPOCH", false, "the streams topology epoch is not valid"},
    {kafka_errc::streams_topology_fenced, "STREAMS_TOPOLOGY_FENCED", false, "the streams topology epoch is outdated"},
    {kafka_errc::share_session_limit_reached, "SHARE_SESSION_LIMIT_REACHED", true, "the broker has reached its share session limit"},
};

constexpr int first_code = -1;
constexpr int table_size = static_cast<int>(std::size(table));

constexpr bool table_is_contiguous() {
  for (int i = 0; i < table_size; ++i) {
    if (static_cast<int>(table[i].code) != first_code + i) return false;
  }
  return true;
}
static_assert(table_is_contiguous(), "kafka error table must be ascending and without gaps");

const entry* find(int value) noexcept {
  const int i = value - first_code;
  if (i < 0 || i >= table_size) return nullptr;
  return &table[i];
}

constexpr auto all_codes = [] {
  std::array<kafka_errc, std::size(table)> codes{};
  for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = table[i].code;
  return codes;
}();

class kafka_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kafka"; }

  std::string message(int ev) const override {
    if (const entry* e = find(ev)) {
      std::string m(e->name);
      m += ": ";
      m += e->message;
      return m;
    }
    return "unknown Kafka error code " + std::to_string(ev);
  }

  std::error_condition default_error_condition(int ev) const noexcept override {
    if (find(ev) == nullptr) return {static_cast<int>(kafka_errc::unknown_server_error), *this};
    return {ev, *this};
  }
};

}  // namespace

const std::error_category& kafka_category() noexcept {
  static const kafka_category_impl instance;
  return instance;
}

std::error_code make_kafka_error(std::int16_t wire_code) noexcept {
  if (wire_code == 0) return {};
  return {wire_code, kafka_category()};
}

std::string_view error_name(kafka_errc e) noexcept {
  const entry* row = find(static_cast<int>(e));
  return row ? row->name : std::string_view("UNKNOWN");
}

bool is_known(kafka_errc e) noexcept { return find(static_cast<int>(e)) != nullptr; }

std::span<const kafka_errc> all_kafka_errors() noexcept { return all_codes; }

namespace detail {

bool kafka_retriable(int code) noexcept {
  const entry* row = find(code);
  return row != nullptr && row->retriable;
}

}  // namespace detail

}  // namespace asiokafka
