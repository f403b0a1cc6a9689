// The sticky assignors' internals (assignors.hpp describes the algorithm): the factory, the
// Java user-data layouts, and helpers shared with the other assignors.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "consumer/sansio/assignors.hpp"

namespace asiokafka::consumer::detail {

/// "sticky" (eager) or "cooperative-sticky" (cooperative).
std::unique_ptr<assignor> make_sticky_assignor(rebalance_protocol protocol);

/// Java StickyAssignor user data, version 1: previous partitions by topic, then generation.
std::vector<std::uint8_t> encode_sticky_user_data(const std::vector<TopicPartition>& partitions,
                                                  std::int32_t generation);
/// Reads version 1, else version 0 (generation -1); false if neither layout fits.
bool decode_sticky_user_data(std::span<const std::uint8_t> data, std::vector<TopicPartition>& partitions,
                             std::int32_t& generation);

/// The members with distinct ids (first occurrence kept), sorted by member id.
std::vector<const member_subscription*> unique_members(const std::vector<member_subscription>& members);

/// An assignment with an empty entry for each of `members`.
group_assignment empty_assignment(const std::vector<const member_subscription*>& members);

/// Whether `m` subscribes to `topic` (its topics are sorted).
bool subscribes(const member_subscription& m, const std::string& topic);

}  // namespace asiokafka::consumer::detail
