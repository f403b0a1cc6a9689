// The classic consumer group protocol's payloads (protocol type "consumer"), sans-I/O: the
// member metadata a consumer puts in JoinGroup (ConsumerProtocolSubscription) and the
// assignment the leader hands out in SyncGroup (ConsumerProtocolAssignment).
//
// On the wire both start with an int16 version followed by the body of that version (the
// generated codec reads and writes the body only). The rules, as the Java client's
// ConsumerProtocol applies them:
// - We write version 3 of both (owned partitions, generation and rack in subscriptions).
// - A reader accepts every version from 0; a version above the highest it knows is read as the
//   highest known one (later versions only append fields), and bytes after the fields of the
//   version read are ignored in every version (Java's reader never checks for them; old Java
//   clients wrote an int16 error code after a version 1 assignment).
// - A negative version, a truncated body or a field the codec refuses is an error code
//   (client_errc::malformed, client_errc::truncated, ...), never an exception.
// - Null user data or rack read as empty; an empty rack as no rack (as Java). A null topic
//   list is malformed (the codec refuses it). Topics and partitions come out sorted and unique.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "asiokafka/metadata.hpp"

namespace asiokafka::consumer {

/// The highest consumer-protocol version this client writes and understands.
inline constexpr std::int16_t consumer_protocol_version = 3;

/// One member's JoinGroup metadata as the group leader sees it.
struct member_subscription {
  std::string member_id;                         ///< From the JoinGroup response, not the payload.
  std::optional<std::string> group_instance_id;  ///< Static membership (KIP-345), idem.
  std::vector<std::string> topics;               ///< Sorted, unique.
  std::vector<TopicPartition> owned_partitions;  ///< Sorted by topic, then partition.
  std::int32_t generation = -1;                  ///< Generation of owned_partitions; -1 unknown.
  std::optional<std::string> rack_id;
  std::vector<std::uint8_t> user_data;  ///< The assignor's own data (empty when none).
  friend bool operator==(const member_subscription&, const member_subscription&) = default;
};

/// What the leader assigns one member (the SyncGroup payload).
struct member_assignment {
  std::vector<TopicPartition> partitions;  ///< Sorted by topic, then partition.
  std::vector<std::uint8_t> user_data;
  friend bool operator==(const member_assignment&, const member_assignment&) = default;
};

/// Appends the version-prefixed subscription (`version` 0..3; fields the version lacks are left
/// out). member_id and group_instance_id travel in JoinGroup itself and are not written. Empty
/// user data is written as null, as Java writes an assignor without user data.
std::error_code encode_subscription(const member_subscription& s, std::vector<std::uint8_t>& out,
                                    std::int16_t version = consumer_protocol_version);

/// Decodes a version-prefixed subscription into `out` (whose member_id and group_instance_id
/// are kept); on error `out` is unchanged.
std::error_code decode_subscription(std::span<const std::uint8_t> payload, member_subscription& out);

/// Appends the version-prefixed assignment (`version` 0..3; the body is the same in all).
std::error_code encode_assignment(const member_assignment& a, std::vector<std::uint8_t>& out,
                                  std::int16_t version = consumer_protocol_version);

/// Decodes a version-prefixed assignment; on error `out` is unchanged. An empty payload (what
/// the coordinator sends a member the leader gave nothing) is an empty assignment.
std::error_code decode_assignment(std::span<const std::uint8_t> payload, member_assignment& out);

}  // namespace asiokafka::consumer
