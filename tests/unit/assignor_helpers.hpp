// Shorthands for the assignor tests: members, partitions and results written compactly.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "consumer/sansio/assignors.hpp"

namespace asiokafka::test {

using consumer::group_assignment;
using consumer::member_subscription;
using consumer::partition_counts;
using tps = std::vector<TopicPartition>;

inline member_subscription member(std::string id, std::vector<std::string> topics, tps owned = {},
                                  std::int32_t generation = -1, std::optional<std::string> instance = std::nullopt) {
  member_subscription m;
  m.member_id = std::move(id);
  m.topics = std::move(topics);
  m.owned_partitions = std::move(owned);
  m.generation = generation;
  m.group_instance_id = std::move(instance);
  return m;
}

inline TopicPartition tp(std::string topic, std::int32_t p) { return TopicPartition(std::move(topic), p); }

inline group_assignment run(std::string_view assignor, const partition_counts& counts,
                            const std::vector<member_subscription>& members) {
  const auto a = consumer::make_assignor(assignor);
  return a->assign(counts, members);
}

}  // namespace asiokafka::test
