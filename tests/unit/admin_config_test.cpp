// AdminConfig validation and the Admin's public types (no network).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <type_traits>

#include <boost/asio/io_context.hpp>

#include "asiokafka/admin.hpp"
// Every public header together: no two define the same name.
#include "asiokafka/client.hpp"
#include "asiokafka/consumer.hpp"
#include "asiokafka/probe.hpp"
#include "asiokafka/producer.hpp"
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
static_assert(std::is_trivially_destructible_v<DescribeConfigsOptions>);
static_assert(std::is_trivially_destructible_v<IncrementalAlterConfigsOptions>);
static_assert(std::is_trivially_destructible_v<DescribeClientQuotasOptions>);
static_assert(std::is_trivially_destructible_v<AlterClientQuotasOptions>);
static_assert(std::is_trivially_destructible_v<DescribeUserScramCredentialsOptions>);
static_assert(std::is_trivially_destructible_v<AlterUserScramCredentialsOptions>);
// family C: records, ACLs, brokers
static_assert(std::is_trivially_destructible_v<ListOffsetsOptions>);
static_assert(std::is_trivially_destructible_v<DeleteRecordsOptions>);
static_assert(std::is_trivially_destructible_v<ElectLeadersOptions>);
static_assert(std::is_trivially_destructible_v<CreateAclsOptions>);
static_assert(std::is_trivially_destructible_v<DescribeAclsOptions>);
static_assert(std::is_trivially_destructible_v<DeleteAclsOptions>);
static_assert(std::is_trivially_destructible_v<DescribeLogDirsOptions>);
static_assert(std::is_trivially_destructible_v<DescribeApiVersionsOptions>);
static_assert(std::is_trivially_destructible_v<DescribeFeaturesOptions>);
static_assert(std::is_trivially_destructible_v<UpdateFeaturesOptions>);
static_assert(!std::is_aggregate_v<OffsetSpec>);
static_assert(!std::is_aggregate_v<AclBinding>);
static_assert(!std::is_aggregate_v<AclBindingFilter>);
static_assert(!std::is_aggregate_v<FeatureUpdate>);
// Items passed as temporaries have constructors (not aggregates), which GCC 12 handles.
static_assert(!std::is_aggregate_v<NewTopic>);
static_assert(!std::is_aggregate_v<NewPartitions>);
static_assert(!std::is_aggregate_v<ConfigResource>);
static_assert(!std::is_aggregate_v<AlterConfigOp>);
static_assert(!std::is_aggregate_v<ConfigAlteration>);
static_assert(!std::is_aggregate_v<ClientQuotaEntity>);
static_assert(!std::is_aggregate_v<ClientQuotaFilterComponent>);
static_assert(!std::is_aggregate_v<ClientQuotaFilter>);
static_assert(!std::is_aggregate_v<ClientQuotaOp>);
static_assert(!std::is_aggregate_v<ClientQuotaAlteration>);
static_assert(!std::is_aggregate_v<UserScramCredentialAlteration>);
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
static_assert(std::is_trivially_destructible_v<FenceProducersOptions>);
static_assert(std::is_trivially_destructible_v<FindCoordinatorOptions>);
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

TEST(AdminConfigTest, AlterationsBuildTheirOperations) {
  const ConfigAlteration a = ConfigAlteration(ConfigResource(ConfigResourceType::topic, "t"))
                                 .set("retention.ms", "1000")
                                 .remove("segment.ms")
                                 .append("cleanup.policy", "compact")
                                 .subtract("cleanup.policy", "delete");
  ASSERT_EQ(a.ops.size(), 4u);
  EXPECT_EQ(a.ops[0].op, AlterConfigOpType::set);
  EXPECT_EQ(a.ops[0].value, "1000");
  EXPECT_EQ(a.ops[1].op, AlterConfigOpType::remove);
  EXPECT_FALSE(a.ops[1].value.has_value());
  EXPECT_EQ(a.ops[2].op, AlterConfigOpType::append);
  EXPECT_EQ(a.ops[3].op, AlterConfigOpType::subtract);

  const ClientQuotaEntity e({{quota_entity::client_id, "app"}, {quota_entity::user, std::nullopt}});
  EXPECT_EQ(e.to_string(), "entity {client-id 'app', user <default>}");
  const ClientQuotaAlteration q = ClientQuotaAlteration(e).set("producer_byte_rate", 1024).remove("consumer_byte_rate");
  ASSERT_EQ(q.ops.size(), 2u);
  EXPECT_EQ(q.ops[0].value, 1024.0);
  EXPECT_FALSE(q.ops[1].value.has_value());
  const ClientQuotaFilter f({ClientQuotaFilterComponent::of_entity(quota_entity::client_id, "app"),
                             ClientQuotaFilterComponent::of_any(quota_entity::user)},
                            true);
  EXPECT_EQ(f.to_string(), "client quota filter {client-id = 'app', user <any>} (strict)");

  const auto up = UserScramCredentialAlteration::upsert("alice", ScramMechanism::scram_sha_256, "pw");
  EXPECT_EQ(up.what, UserScramCredentialAlteration::kind::upsert);
  EXPECT_EQ(up.iterations, 4096);
  const auto del = UserScramCredentialAlteration::remove("alice", ScramMechanism::scram_sha_512);
  EXPECT_EQ(del.what, UserScramCredentialAlteration::kind::remove);
  EXPECT_TRUE(del.password.empty());
  EXPECT_EQ(to_string(ScramMechanism::scram_sha_512), "SCRAM-SHA-512");
}

TEST(AdminConfigTest, AclsAndOffsetSpecsDescribeThemselves) {
  const AclBinding b(AclResourceType::topic, "orders", AclPatternType::prefixed, "User:alice", "*",
                     AclOperation::describe_configs, AclPermission::deny);
  EXPECT_EQ(to_string(b), "TOPIC 'orders' (PREFIXED): User:alice from * DENY DESCRIBE_CONFIGS");
  EXPECT_EQ(to_string(AclBindingFilter()), "filter ANY (any name) (ANY): any principal from any host ANY ANY");
  const AclBindingFilter exact(b);
  EXPECT_EQ(exact.resource_name, "orders");
  EXPECT_EQ(exact.pattern_type, AclPatternType::prefixed);
  EXPECT_EQ(exact.principal, "User:alice");
  EXPECT_EQ(to_string(AclOperation::remove), "DELETE");
  EXPECT_EQ(to_string(AclOperation::two_phase_commit), "TWO_PHASE_COMMIT");
  EXPECT_EQ(to_string(AclResourceType::transactional_id), "TRANSACTIONAL_ID");
  // ListOffsets' timestamp codes.
  EXPECT_EQ(OffsetSpec::earliest().timestamp(), -2);
  EXPECT_EQ(OffsetSpec::latest().timestamp(), -1);
  EXPECT_EQ(OffsetSpec::max_timestamp().timestamp(), -3);
  EXPECT_EQ(OffsetSpec::at(42).timestamp(), 42);
  EXPECT_EQ(OffsetSpec::at(42).kind(), OffsetSpec::Kind::timestamp);
  EXPECT_NE(OffsetSpec::at(-1), OffsetSpec::latest());
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
