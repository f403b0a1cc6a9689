// Admin: consumer groups and their committed offsets (ListGroups, DescribeGroups,
// ConsumerGroupDescribe, DeleteGroups, OffsetFetch, OffsetCommit, OffsetDelete, LeaveGroup).
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

/// A group's kind, as ListGroups v5+ reports it (KIP-848): the protocol its members speak.
enum class GroupType : std::int8_t {
  unknown = 0,  ///< Not reported (ListGroups before v5) or a name this client does not know.
  classic = 1,  ///< JoinGroup/SyncGroup: consumers, Connect workers, ...
  consumer = 2,  ///< KIP-848 ConsumerGroupHeartbeat; the coordinator assigns.
  share = 3,    ///< KIP-932 share groups.
  streams = 4,  ///< KIP-1071 streams groups.
};

/// A group's state as its coordinator reports it (not the consumer's own GroupState, which is
/// where one member stands). Classic groups: empty, preparing_rebalance, completing_rebalance,
/// stable, dead. KIP-848 consumer groups: empty, assigning, reconciling, stable, dead.
enum class AdminGroupState : std::int8_t {
  unknown = 0,  ///< Not reported (ListGroups before v4) or a name this client does not know.
  preparing_rebalance = 1,
  completing_rebalance = 2,
  stable = 3,
  dead = 4,
  empty = 5,
  assigning = 6,
  reconciling = 7,
  not_ready = 8,  ///< streams groups
};

/// The protocol's name of a state or type ("PreparingRebalance", "consumer"); "" for unknown.
std::string_view to_string(AdminGroupState state) noexcept;
std::string_view to_string(GroupType type) noexcept;

/// A set of group states (for list_groups' filter). Trivially destructible, so it can sit in
/// an options struct written inside `co_await`.
struct GroupStateSet {
  constexpr GroupStateSet() = default;
  constexpr GroupStateSet(std::initializer_list<AdminGroupState> states) {  // NOLINT: implicit on purpose
    for (auto s : states) bits |= static_cast<std::uint32_t>(1u << static_cast<unsigned>(s));
  }
  constexpr bool contains(AdminGroupState s) const noexcept {
    return (bits & (1u << static_cast<unsigned>(s))) != 0;
  }
  constexpr bool empty() const noexcept { return bits == 0; }
  std::uint32_t bits = 0;
};

/// A set of group types (for list_groups' filter).
struct GroupTypeSet {
  constexpr GroupTypeSet() = default;
  constexpr GroupTypeSet(std::initializer_list<GroupType> types) {  // NOLINT: implicit on purpose
    for (auto t : types) bits |= static_cast<std::uint32_t>(1u << static_cast<unsigned>(t));
  }
  constexpr bool contains(GroupType t) const noexcept { return (bits & (1u << static_cast<unsigned>(t))) != 0; }
  constexpr bool empty() const noexcept { return bits == 0; }
  std::uint32_t bits = 0;
};

struct ListGroupsOptions {
  /// Only groups in one of these states (KIP-518: ListGroups v4, Kafka 2.6+). Empty: every
  /// state. A broker too old to filter fails the operation with client_errc::unsupported_version.
  GroupStateSet states;
  /// Only groups of one of these types (KIP-848: ListGroups v5, Kafka 3.8+). Empty: every
  /// type. A broker too old to filter fails the operation with client_errc::unsupported_version.
  GroupTypeSet types;
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// A group of list_groups.
struct GroupListing {
  std::string group_id;
  /// "consumer" for consumer groups (classic or KIP-848), "connect" for Connect, "" for a
  /// group only used to commit offsets.
  std::string protocol_type;
  AdminGroupState state = AdminGroupState::unknown;
  std::string state_name;  ///< As the broker sent it ("" before ListGroups v4).
  GroupType type = GroupType::unknown;
  std::string type_name;  ///< As the broker sent it ("" before ListGroups v5).
};

struct DescribeGroupsOptions {
  /// Ask for the operations the caller may perform on each group (KIP-430).
  bool include_authorized_operations = false;
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// A member of a described group.
struct GroupMemberDescription {
  std::string member_id;
  std::optional<std::string> group_instance_id;  ///< Static members (KIP-345).
  std::string client_id;
  std::string host;
  /// The partitions the member holds, by (topic, partition). Classic groups: decoded from the
  /// consumer-protocol assignment when the protocol type is "consumer" (else empty and the
  /// raw bytes are in raw_assignment).
  std::vector<TopicPartition> assignment;
  /// KIP-848: the partitions the coordinator is moving the member to.
  std::optional<std::vector<TopicPartition>> target_assignment;
  /// KIP-848: the member's epoch.
  std::optional<std::int32_t> member_epoch;
  /// The topics the member subscribed to: KIP-848 from the coordinator, classic "consumer"
  /// groups from the member's subscription.
  std::vector<std::string> subscribed_topics;
  std::optional<std::string> subscribed_topic_regex;  ///< KIP-848 server-side pattern.
  std::optional<std::string> rack_id;                 ///< KIP-848
  /// Classic groups: the member's metadata and assignment as the coordinator holds them.
  std::vector<std::uint8_t> raw_metadata;
  std::vector<std::uint8_t> raw_assignment;
};

/// One group of describe_groups. A group that does not exist reports GROUP_ID_NOT_FOUND,
/// with state dead and no members (what DescribeGroups says of it).
struct GroupDescription : AdminItemResult {
  std::string group_id;
  GroupType type = GroupType::unknown;  ///< classic or consumer (which API described it).
  AdminGroupState state = AdminGroupState::unknown;
  std::string state_name;
  /// Classic: "consumer", "connect", ... ("" for a group only used to commit offsets);
  /// KIP-848 groups: "consumer".
  std::string protocol_type;
  /// Classic: the protocol the members agreed on (for consumers, the assignor: "range");
  /// KIP-848: the coordinator's assignor ("uniform", "range").
  std::string protocol;
  std::optional<std::int32_t> group_epoch;       ///< KIP-848
  std::optional<std::int32_t> assignment_epoch;  ///< KIP-848
  std::optional<BrokerMetadata> coordinator;
  std::vector<GroupMemberDescription> members;
  AuthorizedOperations authorized_operations;
};

struct DeleteGroupsOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One group of delete_groups.
struct DeleteGroupResult : AdminItemResult {
  std::string group_id;
};

struct ListConsumerGroupOffsetsOptions {
  /// Wait for pending transactional offset commits (KIP-447; OffsetFetch v7, Kafka 2.5+): the
  /// coordinator answers UNSTABLE_OFFSET_COMMIT meanwhile, which is asked again until the
  /// timeout.
  bool require_stable = false;
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One partition's committed offset (list_consumer_group_offsets).
struct ListedGroupOffset : AdminItemResult {
  TopicPartition partition;
  /// -1: the group has no committed offset for the partition.
  std::int64_t offset = -1;
  std::optional<std::int32_t> leader_epoch;
  std::string metadata;
  bool committed() const noexcept { return offset >= 0; }
};

/// An offset to commit for a group (alter_consumer_group_offsets). Not an aggregate, so it is
/// safe as a temporary inside `co_await` on GCC 12.
struct NewGroupOffset {
  NewGroupOffset(TopicPartition tp, std::int64_t offset_value, std::string metadata_value = {},
                 std::int32_t epoch = -1)
      : partition(std::move(tp)), offset(offset_value), metadata(std::move(metadata_value)), leader_epoch(epoch) {}
  TopicPartition partition;
  std::int64_t offset = 0;
  std::string metadata;
  std::int32_t leader_epoch = -1;  ///< -1: none (sent from OffsetCommit v6).
};

struct AlterConsumerGroupOffsetsOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

struct DeleteConsumerGroupOffsetsOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One partition of alter_consumer_group_offsets or delete_consumer_group_offsets.
struct GroupOffsetResult : AdminItemResult {
  TopicPartition partition;
};

struct RemoveMembersOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One member of remove_members_from_consumer_group.
struct RemoveMemberResult : AdminItemResult {
  /// The member's id ("" when removed by group instance id).
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

}  // namespace asiokafka
