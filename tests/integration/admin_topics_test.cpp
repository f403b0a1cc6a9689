// asiokafka::Admin against the real single-node broker: topics (create, delete, list,
// describe, create_partitions), the cluster, per-item results and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/admin.hpp"
#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "support/admin_support.hpp"
#include "support/async.hpp"
#include "support/co_assert.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

template <class R>
const R* find_named(const std::vector<R>& results, const std::string& name) {
  auto it = std::find_if(results.begin(), results.end(), [&](const R& r) { return r.name == name; });
  return it == results.end() ? nullptr : &*it;
}

TEST(AdminTopics, CreateReportsEachTopicAndOneFailureHidesNoSuccess) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string existing = unique_name("admin-exists");
  const std::string a = unique_name("admin-a");
  const std::string b = unique_name("admin-b");
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    std::vector<NewTopic> first{NewTopic(existing, 1, 1)};
    const auto pre = co_await admin.create_topics(first);
    CO_ASSERT(pre.size() == 1u);
    CO_ASSERT(pre[0].ok());

    std::vector<NewTopic> topics{NewTopic(a, 3, 1).config("cleanup.policy", "compact"), NewTopic(existing, 1, 1),
                                 NewTopic(b, std::map<std::int32_t, std::vector<std::int32_t>>{{0, {1}}, {1, {1}}})};
    const auto created = co_await admin.create_topics(topics);
    CO_ASSERT(created.size() == 3u);
    // In the order given.
    EXPECT_EQ(created[0].name, a);
    EXPECT_EQ(created[1].name, existing);
    EXPECT_EQ(created[2].name, b);
    EXPECT_TRUE(created[0].ok()) << created[0].error_message;
    EXPECT_TRUE(created[2].ok()) << created[2].error_message;
    EXPECT_EQ(created[1].error, kafka_errc::topic_already_exists);
    EXPECT_NE(created[1].error_message.find("topic '" + existing + "'"), std::string::npos) << created[1].error_message;
    EXPECT_NE(created[1].error_message.find("TOPIC_ALREADY_EXISTS"), std::string::npos) << created[1].error_message;
    EXPECT_THROW(created[1].throw_if_error(), asiokafka::error);
    EXPECT_THROW(throw_if_any_error(created), asiokafka::error);
    // What the broker reports it created.
    EXPECT_EQ(created[0].num_partitions, 3);
    EXPECT_EQ(created[0].replication_factor, 1);
    EXPECT_NE(created[0].topic_id, protocol::uuid{});
    auto policy = std::find_if(created[0].configs.begin(), created[0].configs.end(),
                               [](const ConfigEntry& e) { return e.name == "cleanup.policy"; });
    CO_ASSERT(policy != created[0].configs.end());
    EXPECT_EQ(policy->value, "compact");
    EXPECT_EQ(policy->source, ConfigSource::dynamic_topic);
    EXPECT_EQ(created[2].num_partitions, 2);

    // describe_topics sees both, with the same ids.
    std::vector<std::string> names{a, b};
    const auto described = co_await describe_created(admin, names);
    CO_ASSERT(described.size() == 2u);
    EXPECT_TRUE(described[0].ok()) << described[0].error_message;
    EXPECT_EQ(described[0].topic_id, created[0].topic_id);
    CO_ASSERT(described[0].partitions.size() == 3u);
    for (std::int32_t p = 0; p < 3; ++p) {
      const auto& info = described[0].partitions[static_cast<std::size_t>(p)];
      EXPECT_EQ(info.partition, p);
      CO_ASSERT(info.leader.has_value());
      EXPECT_EQ(info.leader->node_id, 1);
      EXPECT_FALSE(info.leader->host.empty());
      CO_ASSERT(info.replicas.size() == 1u);
      EXPECT_EQ(info.replicas[0].node_id, 1);
      EXPECT_EQ(info.isr.size(), 1u);
      EXPECT_TRUE(info.offline_replicas.empty());
      EXPECT_GE(info.leader_epoch, 0);
    }
    EXPECT_EQ(described[1].partitions.size(), 2u);

    std::vector<std::string> all{a, b, existing};
    const auto deleted = co_await admin.delete_topics(all);
    for (const auto& d : deleted) EXPECT_TRUE(d.ok()) << d.error_message;
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

TEST(AdminTopics, BadInputGetsTypedErrorsNamingTheItem) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string good = unique_name("admin-good");
  const std::string bad_config = unique_name("admin-badcfg");
  const std::string negative = unique_name("admin-neg");
  const std::string too_many_replicas = unique_name("admin-rf");
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    std::vector<NewTopic> topics{NewTopic("bad/name", 1, 1), NewTopic(negative, -5, 1),
                                 NewTopic(bad_config, 1, 1).config("no.such.config", "1"),
                                 NewTopic(too_many_replicas, 1, 3), NewTopic(good, 1, 1), NewTopic("", 1, 1)};
    const auto r = co_await admin.create_topics(topics);
    CO_ASSERT(r.size() == 6u);
    EXPECT_EQ(r[0].error, kafka_errc::invalid_topic_exception) << r[0].error_message;
    EXPECT_NE(r[0].error_message.find("topic 'bad/name'"), std::string::npos) << r[0].error_message;
    EXPECT_EQ(r[1].error, kafka_errc::invalid_partitions) << r[1].error_message;
    EXPECT_EQ(r[2].error, kafka_errc::invalid_config) << r[2].error_message;
    EXPECT_NE(r[2].error_message.find("no.such.config"), std::string::npos) << r[2].error_message;
    EXPECT_EQ(r[3].error, kafka_errc::invalid_replication_factor) << r[3].error_message;
    EXPECT_TRUE(r[4].ok()) << r[4].error_message;
    EXPECT_EQ(r[5].error, kafka_errc::invalid_topic_exception) << r[5].error_message;

    // Describing and deleting what does not exist.
    const std::string missing = unique_name("admin-missing");
    std::vector<std::string> names{missing, good};
    (void)co_await describe_created(admin, std::vector<std::string>(1, good));
    const auto d = co_await admin.describe_topics(names);
    CO_ASSERT(d.size() == 2u);
    EXPECT_EQ(d[0].error, kafka_errc::unknown_topic_or_partition) << d[0].error_message;
    EXPECT_NE(d[0].error_message.find(missing), std::string::npos);
    EXPECT_TRUE(d[1].ok());
    const auto del = co_await admin.delete_topics(names);
    CO_ASSERT(del.size() == 2u);
    EXPECT_EQ(del[0].error, kafka_errc::unknown_topic_or_partition) << del[0].error_message;
    EXPECT_TRUE(del[1].ok()) << del[1].error_message;
    std::vector<protocol::uuid> ids{protocol::uuid{1, 2, 3}};
    const auto by_id = co_await admin.delete_topics(ids);
    CO_ASSERT(by_id.size() == 1u);
    EXPECT_EQ(by_id[0].error, kafka_errc::unknown_topic_id) << by_id[0].error_message;
    EXPECT_NE(by_id[0].error_message.find("topic id 01020300"), std::string::npos) << by_id[0].error_message;
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

TEST(AdminTopics, ValidateOnlyCreatesNothingAndDeleteByIdWorks) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string t = unique_name("admin-validate");
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    std::vector<NewTopic> topics{NewTopic(t, 2, 1)};
    const auto v = co_await admin.create_topics(topics, {.validate_only = true});
    CO_ASSERT(v.size() == 1u);
    EXPECT_TRUE(v[0].ok()) << v[0].error_message;
    std::vector<std::string> names{t};
    const auto none = co_await admin.describe_topics(names);
    EXPECT_EQ(none.at(0).error, kafka_errc::unknown_topic_or_partition);

    const auto c = co_await admin.create_topics(topics);
    CO_ASSERT(c.at(0).ok());
    (void)co_await describe_created(admin, names);  // the broker knows it now
    const auto listed = co_await admin.list_topics();
    EXPECT_TRUE(std::any_of(listed.begin(), listed.end(), [&](const TopicListing& l) {
      return l.name == t && l.topic_id == c[0].topic_id && !l.is_internal;
    }));
    EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end(),
                               [](const TopicListing& x, const TopicListing& y) { return x.name < y.name; }));
    EXPECT_TRUE(std::none_of(listed.begin(), listed.end(), [](const TopicListing& l) { return l.is_internal; }));
    const auto with_internal = co_await admin.list_topics({.include_internal = true});
    EXPECT_GE(with_internal.size(), listed.size());

    std::vector<protocol::uuid> ids{c[0].topic_id};
    const auto del = co_await admin.delete_topics(ids);
    CO_ASSERT(del.size() == 1u);
    EXPECT_TRUE(del[0].ok()) << del[0].error_message;
    EXPECT_EQ(del[0].name, t);
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

TEST(AdminTopics, CreatePartitionsRaisesTheCountAndRefusesLowering) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string t = unique_name("admin-parts");
  const std::string missing = unique_name("admin-parts-missing");
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    std::vector<NewTopic> topics{NewTopic(t, 2, 1)};
    CO_ASSERT((co_await admin.create_topics(topics)).at(0).ok());
    std::vector<NewPartitions> check{NewPartitions(t, 4)};
    const auto validated = co_await admin.create_partitions(check, {.validate_only = true});
    EXPECT_TRUE(validated.at(0).ok()) << validated[0].error_message;
    std::vector<std::string> names{t};
    EXPECT_EQ((co_await describe_created(admin, names)).at(0).partitions.size(), 2u);

    std::vector<NewPartitions> grow{NewPartitions(t, 4, {{1}, {1}}), NewPartitions(missing, 3)};
    const auto r = co_await admin.create_partitions(grow);
    CO_ASSERT(r.size() == 2u);
    EXPECT_TRUE(r[0].ok()) << r[0].error_message;
    EXPECT_EQ(r[1].error, kafka_errc::unknown_topic_or_partition) << r[1].error_message;
    EXPECT_NE(r[1].error_message.find(missing), std::string::npos);
    // Partitions, like topics, reach the broker's metadata a moment after the answer.
    EXPECT_EQ(co_await await_partition_count(admin, t, 4), 4u);

    std::vector<NewPartitions> shrink{NewPartitions(t, 3)};
    const auto s = co_await admin.create_partitions(shrink);
    EXPECT_EQ(s.at(0).error, kafka_errc::invalid_partitions) << s[0].error_message;
    co_await admin.delete_topics(names);
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

TEST(AdminCluster, DescribeClusterNamesTheRigsClusterAndBroker) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    const ClusterDescription c = co_await admin.describe_cluster();
    EXPECT_EQ(c.cluster_id, rig.get("CLUSTER_ID"));
    CO_ASSERT(c.brokers.size() == 1u);
    EXPECT_EQ(c.brokers[0].node_id, 1);
    EXPECT_EQ(c.controller_id, 1);
    // With the rig's authorizer, the operations are reported when asked for.
    const ClusterDescription with_ops = co_await admin.describe_cluster({.include_authorized_operations = true});
    EXPECT_TRUE(with_ops.authorized_operations.allows(AclOperation::describe));
    // Coordinators: the only broker, for a group and for a transactional id.
    const BrokerMetadata group_coordinator =
        co_await admin.find_coordinator(CoordinatorType::group, unique_name("admin-find-group"));
    EXPECT_EQ(group_coordinator.node_id, 1);
    EXPECT_FALSE(group_coordinator.host.empty());
    const BrokerMetadata txn_coordinator =
        co_await admin.find_coordinator(CoordinatorType::transaction, unique_name("admin-find-txn"));
    EXPECT_EQ(txn_coordinator.node_id, 1);
    co_await admin.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

TEST(AdminApi, BeforeStartAfterCloseAndOtherCompletionTokens) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    // Before start(): a typed error, no hang.
    auto r1 = co_await admin.describe_cluster({}, asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(std::get<0>(r1), client_errc::client_closed);
    co_await admin.start();
    // The error_code form.
    auto r2 = co_await admin.describe_cluster({.timeout = 5s}, asio::as_tuple(asio::use_awaitable));
    EXPECT_FALSE(std::get<0>(r2)) << std::get<0>(r2).message();
    EXPECT_EQ(std::get<1>(r2).brokers.size(), 1u);
    co_await admin.close();
    co_await admin.close();  // idempotent
    auto r3 = co_await admin.list_topics({}, asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(std::get<0>(r3), client_errc::client_closed);
    bool threw = false;
    try {
      co_await admin.list_topics();
    } catch (const asiokafka::error& e) {
      threw = true;
      EXPECT_EQ(e.code(), client_errc::client_closed);
      EXPECT_NE(std::string(e.what()).find("list_topics"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(threw);
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

// The spellings users write, with temporaries and literals inside co_await, in loops and
// lambdas: the initiating functions copy their arguments, so none dangles (ASan build).
TEST(AdminApi, NaturalSpellingsWithTemporariesAreSafe) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string t = unique_name("admin-spell");
  auto body = [&]() -> asio::awaitable<bool> {
    const auto executor = co_await asio::this_coro::executor;
    Admin admin(executor, {.bootstrap_servers = rig.bootstrap("PLAINTEXT"), .default_api_timeout = 20s});
    co_await admin.start();
    const auto v = co_await admin.create_topics(std::vector<NewTopic>(1, NewTopic(t, 1, 1).config("retention.ms", "60000")),
                                                {.validate_only = true, .timeout = 10s});
    EXPECT_TRUE(v.at(0).ok()) << v[0].error_message;
    EXPECT_TRUE((co_await admin.create_topics(std::vector<NewTopic>(1, NewTopic(t, 1, 1)))).at(0).ok());
    for (std::int32_t i = 2; i <= 4; ++i) {
      const auto r = co_await admin.create_partitions(std::vector<NewPartitions>(1, NewPartitions(t, i)), {.timeout = 10s});
      EXPECT_TRUE(r.at(0).ok()) << r[0].error_message;
    }
    auto describe = [&admin](std::string name) -> asio::awaitable<std::size_t> {
      co_return co_await await_partition_count(admin, name, 4);
    };
    EXPECT_EQ(co_await describe(t), 4u);
    const auto missing = co_await admin.describe_topics(std::vector<std::string>(1, "admin-no-such-topic-literal"));
    EXPECT_EQ(missing.at(0).error, kafka_errc::unknown_topic_or_partition);
    const auto del = co_await admin.delete_topics(std::vector<std::string>(1, t), {.timeout = 10s});
    EXPECT_TRUE(del.at(0).ok()) << del[0].error_message;
    co_await admin.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

TEST(AdminApi, AnUnreachableClusterFailsWithinTheTimeout) {
  auto body = [&]() -> asio::awaitable<bool> {
    AdminConfig c;
    c.bootstrap_servers = "127.0.0.1:1";  // nothing listens there
    c.connect_timeout = 1s;
    Admin admin(co_await asio::this_coro::executor, c);
    auto before = co_await admin.describe_cluster({}, asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(std::get<0>(before), client_errc::client_closed);
    auto started = co_await admin.start(asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(std::get<0>(started), client_errc::connection_failed) << std::get<0>(started).message();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

}  // namespace
}  // namespace asiokafka::test
