// AdminConfig validation and the Admin's public types (no network).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <type_traits>

#include <boost/asio/io_context.hpp>

#include "asiokafka/admin.hpp"
#include "asiokafka/error.hpp"

namespace asiokafka {
namespace {

using namespace std::chrono_literals;

// Options are passed as `{.field = x}` inside co_await: GCC 12 destroys such temporaries
// twice, harmless only for trivially destructible types (docs/design.md, "GCC 12").
static_assert(std::is_trivially_destructible_v<CreateTopicsOptions>);
static_assert(std::is_trivially_destructible_v<DeleteTopicsOptions>);
static_assert(std::is_trivially_destructible_v<ListTopicsOptions>);
static_assert(std::is_trivially_destructible_v<DescribeTopicsOptions>);
static_assert(std::is_trivially_destructible_v<CreatePartitionsOptions>);
static_assert(std::is_trivially_destructible_v<DescribeClusterOptions>);
// Items passed as temporaries have constructors (not aggregates), which GCC 12 handles.
static_assert(!std::is_aggregate_v<NewTopic>);
static_assert(!std::is_aggregate_v<NewPartitions>);
static_assert(!std::is_aggregate_v<ConfigResource>);
// Family B: groups and transactions.
static_assert(std::is_trivially_destructible_v<ListGroupsOptions>);
static_assert(std::is_trivially_destructible_v<DescribeGroupsOptions>);
static_assert(std::is_trivially_destructible_v<DeleteGroupsOptions>);
static_assert(std::is_trivially_destructible_v<ListConsumerGroupOffsetsOptions>);
static_assert(std::is_trivially_destructible_v<AlterConsumerGroupOffsetsOptions>);
static_assert(std::is_trivially_destructible_v<DeleteConsumerGroupOffsetsOptions>);
static_assert(std::is_trivially_destructible_v<RemoveMembersOptions>);
static_assert(std::is_trivially_destructible_v<ListTransactionsOptions>);
static_assert(std::is_trivially_destructible_v<DescribeTransactionsOptions>);
static_assert(std::is_trivially_destructible_v<DescribeProducersOptions>);
static_assert(std::is_trivially_destructible_v<AbortTransactionOptions>);
static_assert(!std::is_aggregate_v<NewGroupOffset>);
static_assert(!std::is_aggregate_v<AbortTransactionSpec>);
static_assert(GroupStateSet{AdminGroupState::stable, AdminGroupState::empty}.contains(AdminGroupState::empty));
static_assert(!GroupStateSet{AdminGroupState::stable}.contains(AdminGroupState::dead));
static_assert(GroupTypeSet{GroupType::consumer}.contains(GroupType::consumer) && GroupTypeSet{}.empty());
static_assert(TransactionStateSet{TransactionState::ongoing}.contains(TransactionState::ongoing));

std::string message_of(const AdminConfig& c) {
  try {
    validate(c);
  } catch (const error& e) {
    EXPECT_EQ(e.code(), client_errc::invalid_config);
    return e.what();
  }
  return "";
}

TEST(AdminConfigTest, DefaultsAreValidAndSafe) {
  AdminConfig c;
  EXPECT_EQ(message_of(c), "");
  EXPECT_FALSE(c.allow_auto_create_topics);  // describing a topic never creates it
  EXPECT_EQ(c.default_api_timeout, 60s);
  EXPECT_FALSE(client_config_of(c).allow_auto_create_topics);
}

TEST(AdminConfigTest, BadValuesNameTheOption) {
  AdminConfig c;
  c.default_api_timeout = 0ms;
  EXPECT_NE(message_of(c).find("AdminConfig.default_api_timeout"), std::string::npos) << message_of(c);
  AdminConfig d;
  d.bootstrap_servers = "";
  EXPECT_NE(message_of(d).find("AdminConfig.bootstrap_servers"), std::string::npos) << message_of(d);
  boost::asio::io_context io;
  EXPECT_THROW(Admin(io.get_executor(), d), error);
}

TEST(AdminConfigTest, NewTopicBuildsItsConfigs) {
  NewTopic t = NewTopic("t", 3, 1).config("cleanup.policy", "compact").config("retention.ms", "1000");
  EXPECT_EQ(t.num_partitions, 3);
  EXPECT_EQ(t.configs.size(), 2u);
  EXPECT_EQ(t.configs.at("retention.ms"), "1000");
  AuthorizedOperations none = AuthorizedOperations::from_wire(INT32_MIN);
  EXPECT_FALSE(none.known);
  EXPECT_FALSE(none.allows(AclOperation::read));
  AuthorizedOperations some = AuthorizedOperations::from_wire((1 << 3) | (1 << 8));
  EXPECT_TRUE(some.allows(AclOperation::read));
  EXPECT_TRUE(some.allows(AclOperation::describe));
  EXPECT_FALSE(some.allows(AclOperation::write));
}

TEST(AdminConfigTest, GroupAndTransactionStatesHaveTheProtocolNames) {
  EXPECT_EQ(to_string(AdminGroupState::preparing_rebalance), "PreparingRebalance");
  EXPECT_EQ(to_string(AdminGroupState::completing_rebalance), "CompletingRebalance");
  EXPECT_EQ(to_string(AdminGroupState::reconciling), "Reconciling");
  EXPECT_EQ(to_string(AdminGroupState::unknown), "");
  EXPECT_EQ(to_string(GroupType::consumer), "consumer");
  EXPECT_EQ(to_string(GroupType::classic), "classic");
  EXPECT_EQ(to_string(TransactionState::prepare_epoch_fence), "PrepareEpochFence");
  EXPECT_EQ(to_string(TransactionState::ongoing), "Ongoing");
}

}  // namespace
}  // namespace asiokafka
