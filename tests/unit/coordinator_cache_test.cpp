// net::coordinator_cache: FindCoordinator v0-v3 (one key) and v4+ (batched keys), caching per
// (key type, key), and which errors invalidate.
#include "net/sansio/coordinator_cache.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"

namespace asiokafka::net {
namespace {

using protocol::messages::FindCoordinatorResponse;

std::int16_t code(kafka_errc e) { return static_cast<std::int16_t>(e); }

FindCoordinatorResponse single(std::int32_t node, kafka_errc err = kafka_errc::none) {
  FindCoordinatorResponse r;
  r.error_code = code(err);
  r.node_id = node;
  r.host = "b" + std::to_string(node);
  r.port = 9092;
  return r;
}

FindCoordinatorResponse::Coordinator entry(std::string key, std::int32_t node,
                                           kafka_errc err = kafka_errc::none) {
  FindCoordinatorResponse::Coordinator c;
  c.key = std::move(key);
  c.node_id = node;
  c.host = "b" + std::to_string(node);
  c.port = 9093;
  c.error_code = code(err);
  return c;
}

const std::vector<std::string> group_g{"g"};

TEST(CoordinatorCache, RequestShapePerVersion) {
  const std::vector<std::string> keys{"g1", "g2"};
  auto v3 = coordinator_cache::make_request(CoordinatorType::group, keys, 3);
  EXPECT_EQ(v3.key, "g1");
  EXPECT_TRUE(v3.coordinator_keys.empty());
  EXPECT_EQ(v3.key_type, 0);
  auto v4 = coordinator_cache::make_request(CoordinatorType::transaction, keys, 4);
  EXPECT_EQ(v4.key, "");
  EXPECT_EQ(v4.coordinator_keys, keys);
  EXPECT_EQ(v4.key_type, 1);
}

TEST(CoordinatorCache, SingleKeyVersions) {
  coordinator_cache c;
  for (std::int16_t v = 0; v <= 3; ++v) {
    auto res = c.apply(CoordinatorType::group, group_g, single(2), v);
    ASSERT_EQ(res.size(), 1u);
    EXPECT_FALSE(res[0].ec);
    ASSERT_TRUE(res[0].coordinator);
    EXPECT_EQ(res[0].coordinator->node_id, 2);
    const BrokerMetadata* found = c.find(CoordinatorType::group, "g");
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(*found, (BrokerMetadata{2, "b2", 9092}));
  }
  // The same key under another type is another entry.
  EXPECT_EQ(c.find(CoordinatorType::transaction, "g"), nullptr);
  EXPECT_EQ(c.size(), 1u);
}

TEST(CoordinatorCache, BatchedKeys) {
  coordinator_cache c;
  FindCoordinatorResponse r;
  r.coordinators = {entry("t2", 3, kafka_errc::coordinator_not_available), entry("t1", 1)};
  const std::vector<std::string> keys{"t1", "t2", "t3"};
  auto res = c.apply(CoordinatorType::transaction, keys, r, 4);
  ASSERT_EQ(res.size(), 3u);  // in asked order
  EXPECT_EQ(res[0].key, "t1");
  EXPECT_FALSE(res[0].ec);
  EXPECT_EQ(res[1].ec, kafka_errc::coordinator_not_available);
  EXPECT_EQ(res[2].key, "t3");  // omitted by the broker
  EXPECT_EQ(res[2].ec, kafka_errc::coordinator_not_available);
  ASSERT_NE(c.find(CoordinatorType::transaction, "t1"), nullptr);
  EXPECT_EQ(c.find(CoordinatorType::transaction, "t1")->port, 9093);
  EXPECT_EQ(c.find(CoordinatorType::transaction, "t2"), nullptr);
  EXPECT_EQ(c.size(), 1u);
}

TEST(CoordinatorCache, FindCoordinatorErrorsInvalidateExceptLoadInProgress) {
  coordinator_cache c;
  c.apply(CoordinatorType::group, group_g, single(1), 3);
  // Still loading the group's state: keep what we had.
  auto res = c.apply(CoordinatorType::group, group_g,
                     single(-1, kafka_errc::coordinator_load_in_progress), 3);
  EXPECT_EQ(res[0].ec, kafka_errc::coordinator_load_in_progress);
  EXPECT_NE(c.find(CoordinatorType::group, "g"), nullptr);
  res = c.apply(CoordinatorType::group, group_g,
                single(-1, kafka_errc::coordinator_not_available), 3);
  EXPECT_EQ(c.find(CoordinatorType::group, "g"), nullptr);
  // Final error: nothing cached.
  c.apply(CoordinatorType::group, group_g, single(1), 3);
  res = c.apply(CoordinatorType::group, group_g,
                single(-1, kafka_errc::group_authorization_failed), 3);
  EXPECT_EQ(res[0].ec, kafka_errc::group_authorization_failed);
  EXPECT_EQ(c.find(CoordinatorType::group, "g"), nullptr);
  // "No error" but no node: not usable.
  res = c.apply(CoordinatorType::group, group_g, single(-1), 3);
  EXPECT_EQ(res[0].ec, kafka_errc::coordinator_not_available);
  EXPECT_EQ(c.find(CoordinatorType::group, "g"), nullptr);
}

TEST(CoordinatorCache, ErrorsFromTheCoordinator) {
  coordinator_cache c;
  auto prime = [&] { c.apply(CoordinatorType::group, group_g, single(1), 3); };

  prime();
  EXPECT_EQ(c.on_error(CoordinatorType::group, "g", make_error_code(kafka_errc::not_coordinator)),
            coordinator_action::rediscover);
  EXPECT_EQ(c.find(CoordinatorType::group, "g"), nullptr);

  prime();
  EXPECT_EQ(c.on_error(CoordinatorType::group, "g",
                       make_error_code(kafka_errc::coordinator_not_available)),
            coordinator_action::rediscover);
  EXPECT_EQ(c.find(CoordinatorType::group, "g"), nullptr);

  prime();
  EXPECT_EQ(c.on_error(CoordinatorType::group, "g",
                       make_error_code(kafka_errc::coordinator_load_in_progress)),
            coordinator_action::retry);
  EXPECT_NE(c.find(CoordinatorType::group, "g"), nullptr);

  EXPECT_EQ(c.on_error(CoordinatorType::group, "g",
                       std::make_error_code(std::errc::connection_reset)),
            coordinator_action::rediscover);
  EXPECT_EQ(c.find(CoordinatorType::group, "g"), nullptr);

  prime();
  EXPECT_EQ(c.on_error(CoordinatorType::group, "g", make_error_code(client_errc::timeout)),
            coordinator_action::rediscover);
  prime();
  EXPECT_EQ(c.on_error(CoordinatorType::group, "g",
                       make_error_code(kafka_errc::group_authorization_failed)),
            coordinator_action::fail);
  EXPECT_NE(c.find(CoordinatorType::group, "g"), nullptr);
  EXPECT_EQ(c.on_error(CoordinatorType::group, "g", {}), coordinator_action::none);
}

TEST(CoordinatorCache, LostBrokerForgetsItsCoordinators) {
  coordinator_cache c;
  FindCoordinatorResponse r;
  r.coordinators = {entry("a", 1), entry("b", 2), entry("c", 1)};
  const std::vector<std::string> keys{"a", "b", "c"};
  c.apply(CoordinatorType::group, keys, r, 6);
  c.apply(CoordinatorType::transaction, group_g, single(1), 0);
  EXPECT_EQ(c.size(), 4u);
  EXPECT_EQ(c.invalidate_node(1).size(), 3u);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_NE(c.find(CoordinatorType::group, "b"), nullptr);
  EXPECT_TRUE(c.invalidate(CoordinatorType::group, "b"));
  EXPECT_FALSE(c.invalidate(CoordinatorType::group, "b"));
}

}  // namespace
}  // namespace asiokafka::net
