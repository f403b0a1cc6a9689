// The classic consumer group's partition assignors, sans-I/O: the group leader decodes every
// member's JoinGroup metadata (group_protocol.hpp), calls assign() with the partition count of
// each subscribed topic, and sends each member its share in SyncGroup. Pure functions of their
// inputs: the same members and counts give the same result on every leader.
//
// Common rules: every member gets an entry (possibly empty); each member's list is sorted by
// topic, then partition; a partition goes only to a member subscribed to its topic; topics
// missing from the counts (or with no partitions) and counts for topics nobody subscribes are
// ignored; member ids are unique (the coordinator makes them so; a repeated id after the
// first is ignored). "Member order" is Java's MemberInfo order: static members
// (group_instance_id) first, by instance id, then the others by member id; strings compare by
// bytes (Java compares UTF-16 units, which differs only between characters above U+FFFF and
// those in U+E000..U+FFFF).
//
// range (Java RangeAssignor without racks): per topic, the members subscribed to it in member
//   order get consecutive ranges of n / m partitions, the first n % m one more.
// roundrobin (Java RoundRobinAssignor): all partitions of the subscribed topics sorted by
//   topic then partition are dealt in member order, circularly, skipping members not
//   subscribed to the partition's topic.
// sticky (eager; Java StickyAssignor's guarantees, KIP-54/341/792, our own algorithm):
//   1. Previous owners. For "sticky" a member's previous partitions and generation come from
//      its user data when it has any, in the Java StickyAssignor layout (version 1: array of
//      {topic string, partitions [int32]} then generation int32; version 0 has no generation,
//      unreadable data counts as nothing owned), else from owned_partitions/generation. For
//      "cooperative-sticky" from owned_partitions, with the generation from the subscription,
//      or (if that is -1) from the int32 in its user data (what Java's cooperative assignor
//      writes). A partition claimed by several members goes to the claimant of the highest
//      generation; if two or more claim it in that generation, nobody keeps it. A member keeps
//      a previous partition only while it still subscribes to its topic and the partition
//      exists.
//   2. Every partition without a kept owner goes, fewest eligible members first, to the least
//      loaded member subscribed to its topic.
//   3. Balance: while some member A with load L can pass a partition along a chain of members
//      A -> ... -> B (each link: the giver holds a partition of a topic the taker subscribes)
//      to a member B with load <= L - 2, the shortest such chain is applied (only A and B
//      change load). An assignment with no such chain is optimally balanced for any
//      unequal subscriptions (it minimises the sum of squared loads; semi-matching theory),
//      and with equal subscriptions loads differ by at most one. Along each link the giver
//      passes, in this order of preference, a partition the taker owned before, one the
//      giver did not own before, any other: with equal subscriptions the number of moved
//      partitions (previously owned by a member still present, now with another member) is
//      then the minimum any balanced assignment needs.
// cooperative-sticky (KIP-429): the sticky result, then a partition assigned to a member that
//   is not its previous owner (step 1) while any other member claims it in owned_partitions
//   is withheld this round: its owner revokes it, and the follow-up rebalance assigns it.
//
// Deviations from Java: no rack-aware assignment (KIP-881: it needs replica racks, not in
// these inputs; members' rack_id is ignored). Java's sticky is balance-first with heuristics
// for unequal subscriptions; ours is exactly balanced (no cost-reducing chain) and may move
// different partitions than Java in those cases. Cooperative-sticky withholds a partition
// claimed by two members of the same generation even when it stays with one of them (Java
// keeps it there); a partition that several members think they own is thus never consumed
// twice.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "asiokafka/metadata.hpp"
#include "consumer/sansio/group_protocol.hpp"

namespace asiokafka::consumer {

/// Eager: members revoke everything before joining. Cooperative (KIP-429): members keep what
/// they own; the assignor never hands a partition to a new member while another still owns it.
enum class rebalance_protocol { eager, cooperative };

/// Topic -> partition count, for the topics some member subscribes to.
using partition_counts = std::map<std::string, std::int32_t>;
/// Member id -> its partitions.
using group_assignment = std::map<std::string, std::vector<TopicPartition>>;

/// A partition assignment strategy (JoinGroup protocol name).
class assignor {
 public:
  virtual ~assignor();
  /// The protocol name in JoinGroup ("range", "roundrobin", ...).
  virtual std::string_view name() const = 0;
  virtual rebalance_protocol protocol() const = 0;
  /// The leader's computation: `members` as decoded from JoinGroup.
  virtual group_assignment assign(const partition_counts& partitions,
                                  const std::vector<member_subscription>& members) const = 0;
  /// The user data a member puts in its subscription, given the partitions of its last
  /// assignment and that assignment's generation (-1 if none). Sticky assignors record them
  /// there for leaders that read them (the Java layouts); the others send none (empty).
  virtual std::vector<std::uint8_t> subscription_user_data(const std::vector<TopicPartition>& last_assignment,
                                                           std::int32_t generation) const;
};

/// "range", "roundrobin", "sticky" or "cooperative-sticky"; nullptr for any other name.
std::unique_ptr<assignor> make_assignor(std::string_view name);

/// Java's MemberInfo order (see above): true if `a` comes before `b`.
bool member_order_less(const member_subscription& a, const member_subscription& b);

}  // namespace asiokafka::consumer
