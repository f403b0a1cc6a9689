// asiokafka::Admin against the real single-node broker: a partition's records and leaders
// (list_offsets, delete_records, elect_leaders) and what the brokers report (log dirs, API
// versions, features), with per-item results and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/admin.hpp"
#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "asiokafka/producer.hpp"
#include "support/admin_support.hpp"
#include "support/async.hpp"
#include "support/co_assert.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

bool mentions(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

/// Writes one record per entry of `timestamps` to `partition` of `topic`, in order, and waits
/// for every acknowledgement.
asio::awaitable<bool> produce(const Rig& rig, std::string topic, std::int32_t partition,
                              std::vector<std::int64_t> timestamps) {
  ProducerConfig cfg;
  cfg.bootstrap_servers = rig.bootstrap("PLAINTEXT");
  Producer producer(co_await asio::this_coro::executor, std::move(cfg));
  co_await producer.start();
  for (std::size_t i = 0; i < timestamps.size(); ++i) {
    SendOptions options;
    options.partition = partition;
    options.timestamp = timestamps[i];
    const std::string value = "v" + std::to_string(i);
    const RecordMetadata md = co_await producer.send_and_wait(topic, value, options);
    CO_ASSERT(md.offset == static_cast<std::int64_t>(i));
  }
  co_await producer.stop();
  co_return true;
}

TEST(AdminRecords, ListOffsetsFindsEarliestLatestMaxTimestampAndByTime) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string t = unique_name("admin-offsets");
  const std::string missing = unique_name("admin-offsets-missing");
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    std::vector<NewTopic> topics{NewTopic(t, 2, 1)};
    CO_ASSERT((co_await admin.create_topics(topics)).at(0).ok());
    // Partition 0: timestamps out of order, so max_timestamp is not the last record.
    const std::vector<std::int64_t> times{1000, 3000, 2000};
    CO_ASSERT(co_await produce(rig, t, 0, times));

    const TopicPartition p0(t, 0);
    const TopicPartition p1(t, 1);
    std::vector<std::pair<TopicPartition, OffsetSpec>> query{
        {p0, OffsetSpec::earliest()},
        {p1, OffsetSpec::latest()},
        {TopicPartition(missing, 0), OffsetSpec::latest()},
        {TopicPartition(t, 7), OffsetSpec::earliest()},
    };
    const auto r = co_await admin.list_offsets(query);
    CO_ASSERT(r.size() == 4u);
    EXPECT_EQ(r[0].topic_partition, p0);
    EXPECT_TRUE(r[0].ok()) << r[0].error_message;
    EXPECT_EQ(r[0].offset, 0);
    EXPECT_TRUE(r[1].ok()) << r[1].error_message;
    EXPECT_EQ(r[1].topic_partition, p1);
    EXPECT_EQ(r[1].offset, 0);  // nothing written there
    EXPECT_EQ(r[2].error, kafka_errc::unknown_topic_or_partition) << r[2].error_message;
    EXPECT_TRUE(mentions(r[2].error_message, "topic '" + missing + "' partition 0")) << r[2].error_message;
    EXPECT_EQ(r[3].error, kafka_errc::unknown_topic_or_partition) << r[3].error_message;
    EXPECT_TRUE(mentions(r[3].error_message, "topic '" + t + "' partition 7")) << r[3].error_message;

    // The map form, and every kind of spec on partition 0 (one per call: a map key is unique).
    std::map<TopicPartition, OffsetSpec> latest{{p0, OffsetSpec::latest()}};
    const auto l = co_await admin.list_offsets(latest);
    CO_ASSERT(l.size() == 1u);
    EXPECT_TRUE(l[0].ok()) << l[0].error_message;
    EXPECT_EQ(l[0].offset, 3);
    EXPECT_GE(l[0].leader_epoch.value_or(-1), 0);

    std::vector<std::pair<TopicPartition, OffsetSpec>> max_ts{{p0, OffsetSpec::max_timestamp()}};
    const auto mx = co_await admin.list_offsets(max_ts);
    EXPECT_TRUE(mx.at(0).ok()) << mx[0].error_message;
    EXPECT_EQ(mx[0].offset, 1);
    EXPECT_EQ(mx[0].timestamp, 3000);

    // The first record at or after 1500 is offset 1 (3000); after the last one, none.
    std::vector<std::pair<TopicPartition, OffsetSpec>> by_time{{p0, OffsetSpec::at(1500)}, {p1, OffsetSpec::at(0)}};
    const auto bt = co_await admin.list_offsets(by_time);
    CO_ASSERT(bt.size() == 2u);
    EXPECT_TRUE(bt[0].ok()) << bt[0].error_message;
    EXPECT_EQ(bt[0].offset, 1);
    EXPECT_EQ(bt[0].timestamp, 3000);
    EXPECT_TRUE(bt[1].ok()) << bt[1].error_message;
    EXPECT_EQ(bt[1].offset, -1);  // an empty partition has no such record
    std::vector<std::pair<TopicPartition, OffsetSpec>> late{{p0, OffsetSpec::at(10'000)}};
    EXPECT_EQ((co_await admin.list_offsets(late)).at(0).offset, -1);

    // read_committed: without transactions the last stable offset is the high watermark.
    const auto committed = co_await admin.list_offsets(latest, {.isolation = IsolationLevel::read_committed});
    EXPECT_TRUE(committed.at(0).ok()) << committed[0].error_message;
    EXPECT_EQ(committed[0].offset, 3);

    // Bad input is refused per item, without hiding the others.
    std::vector<std::pair<TopicPartition, OffsetSpec>> bad{
        {p0, OffsetSpec::latest()}, {p0, OffsetSpec::earliest()}, {p1, OffsetSpec::at(-5)}};
    const auto b = co_await admin.list_offsets(bad);
    CO_ASSERT(b.size() == 3u);
    EXPECT_TRUE(b[0].ok()) << b[0].error_message;
    EXPECT_EQ(b[0].offset, 3);
    EXPECT_EQ(b[1].error, client_errc::invalid_argument);
    EXPECT_TRUE(mentions(b[1].error_message, "topic '" + t + "' partition 0")) << b[1].error_message;
    EXPECT_EQ(b[2].error, client_errc::invalid_argument);
    EXPECT_TRUE(mentions(b[2].error_message, "negative timestamp")) << b[2].error_message;

    std::vector<std::string> names{t};
    co_await admin.delete_topics(names);
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 90s));
}

TEST(AdminRecords, DeleteRecordsMovesTheLogStart) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string t = unique_name("admin-delrec");
  const std::string missing = unique_name("admin-delrec-missing");
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    std::vector<NewTopic> topics{NewTopic(t, 3, 1)};
    CO_ASSERT((co_await admin.create_topics(topics)).at(0).ok());
    CO_ASSERT(co_await produce(rig, t, 0, std::vector<std::int64_t>(10, 1'700'000'000'000)));
    CO_ASSERT(co_await produce(rig, t, 1, std::vector<std::int64_t>(4, 1'700'000'000'000)));

    const TopicPartition p0(t, 0);
    const TopicPartition p1(t, 1);
    const TopicPartition p2(t, 2);
    std::vector<std::pair<TopicPartition, std::int64_t>> before{
        {p0, 6}, {p1, -1}, {p2, 100}, {TopicPartition(missing, 0), 1}};
    const auto r = co_await admin.delete_records(before);
    CO_ASSERT(r.size() == 4u);
    EXPECT_EQ(r[0].topic_partition, p0);
    EXPECT_TRUE(r[0].ok()) << r[0].error_message;
    EXPECT_EQ(r[0].low_watermark, 6);
    EXPECT_TRUE(r[1].ok()) << r[1].error_message;
    EXPECT_EQ(r[1].low_watermark, 4);  // -1: up to the high watermark
    // Beyond the high watermark (0 in the empty partition).
    EXPECT_EQ(r[2].error, kafka_errc::offset_out_of_range) << r[2].error_message;
    EXPECT_TRUE(mentions(r[2].error_message, "topic '" + t + "' partition 2")) << r[2].error_message;
    EXPECT_EQ(r[3].error, kafka_errc::unknown_topic_or_partition) << r[3].error_message;
    EXPECT_TRUE(mentions(r[3].error_message, missing)) << r[3].error_message;

    // list_offsets sees the new log start; the end is where it was.
    std::vector<std::pair<TopicPartition, OffsetSpec>> query{{p0, OffsetSpec::earliest()},
                                                             {p1, OffsetSpec::earliest()},
                                                             {p2, OffsetSpec::earliest()}};
    const auto e = co_await admin.list_offsets(query);
    CO_ASSERT(e.size() == 3u);
    EXPECT_EQ(e[0].offset, 6) << e[0].error_message;
    EXPECT_EQ(e[1].offset, 4) << e[1].error_message;
    EXPECT_EQ(e[2].offset, 0) << e[2].error_message;
    std::map<TopicPartition, OffsetSpec> end{{p0, OffsetSpec::latest()}};
    EXPECT_EQ((co_await admin.list_offsets(end)).at(0).offset, 10);

    // The map form; deleting less than what is already gone changes nothing.
    std::map<TopicPartition, std::int64_t> again{{p0, 3}};
    const auto a = co_await admin.delete_records(again);
    EXPECT_TRUE(a.at(0).ok()) << a[0].error_message;
    EXPECT_EQ(a[0].low_watermark, 6);
    std::vector<std::pair<TopicPartition, std::int64_t>> bad{{p0, -7}};
    EXPECT_EQ((co_await admin.delete_records(bad)).at(0).error, client_errc::invalid_argument);

    std::vector<std::string> names{t};
    co_await admin.delete_topics(names);
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 90s));
}

TEST(AdminRecords, ElectLeadersOnOneNodeNeedsNoElection) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string t = unique_name("admin-elect");
  const std::string missing = unique_name("admin-elect-missing");
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    std::vector<NewTopic> topics{NewTopic(t, 2, 1)};
    CO_ASSERT((co_await admin.create_topics(topics)).at(0).ok());
    std::vector<TopicPartition> parts{TopicPartition(t, 1), TopicPartition(missing, 0), TopicPartition(t, 0)};
    const auto r = co_await admin.elect_leaders(ElectionType::preferred, parts);
    CO_ASSERT(r.size() == 3u);
    // In the order given; the only replica already leads.
    EXPECT_EQ(r[0].topic_partition, TopicPartition(t, 1));
    EXPECT_EQ(r[0].error, kafka_errc::election_not_needed) << r[0].error_message;
    EXPECT_TRUE(mentions(r[0].error_message, "topic '" + t + "' partition 1")) << r[0].error_message;
    EXPECT_TRUE(mentions(r[0].error_message, "ELECTION_NOT_NEEDED")) << r[0].error_message;
    EXPECT_EQ(r[1].error, kafka_errc::unknown_topic_or_partition) << r[1].error_message;
    EXPECT_TRUE(mentions(r[1].error_message, missing)) << r[1].error_message;
    EXPECT_EQ(r[2].topic_partition, TopicPartition(t, 0));
    EXPECT_EQ(r[2].error, kafka_errc::election_not_needed) << r[2].error_message;

    // An unclean election for a partition that has a leader is not needed either.
    std::vector<TopicPartition> one{TopicPartition(t, 0)};
    const auto u = co_await admin.elect_leaders(ElectionType::unclean, one);
    EXPECT_EQ(u.at(0).error, kafka_errc::election_not_needed) << u[0].error_message;

    // Every partition: the broker leaves out those that need no election (all of them here).
    const auto all = co_await admin.elect_leaders(ElectionType::preferred, std::nullopt);
    for (const auto& a : all) {
      EXPECT_NE(a.error, kafka_errc::election_not_needed) << a.error_message;
      EXPECT_NE(a.topic_partition.topic, t) << a.error_message;
    }
    std::vector<std::string> names{t};
    co_await admin.delete_topics(names);
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

TEST(AdminBrokers, DescribeLogDirsShowsTheReplicasAndTheVolume) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string t = unique_name("admin-logdirs");
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    std::vector<NewTopic> topics{NewTopic(t, 2, 1)};
    CO_ASSERT((co_await admin.create_topics(topics)).at(0).ok());
    CO_ASSERT(co_await produce(rig, t, 1, std::vector<std::int64_t>(5, 1'700'000'000'000)));

    const auto all = co_await admin.describe_log_dirs();
    CO_ASSERT(all.size() == 1u);
    EXPECT_EQ(all[0].broker_id, 1);
    EXPECT_TRUE(all[0].ok()) << all[0].error_message;
    CO_ASSERT(!all[0].dirs.empty());
    const ReplicaLogInfo* p0 = nullptr;
    const ReplicaLogInfo* p1 = nullptr;
    for (const auto& d : all[0].dirs) {
      EXPECT_TRUE(d.ok()) << d.error_message;
      EXPECT_FALSE(d.path.empty());
      // DescribeLogDirs v4 (Kafka 3.3+): the volume's size and free space.
      CO_ASSERT(d.total_bytes.has_value() && d.usable_bytes.has_value());
      EXPECT_GT(*d.total_bytes, 0);
      EXPECT_LE(*d.usable_bytes, *d.total_bytes);
      for (const auto& rep : d.replicas) {
        if (rep.topic_partition == TopicPartition(t, 0)) p0 = &rep;
        if (rep.topic_partition == TopicPartition(t, 1)) p1 = &rep;
      }
    }
    CO_ASSERT(p0 != nullptr && p1 != nullptr);
    EXPECT_EQ(p0->size_bytes, 0);
    EXPECT_GT(p1->size_bytes, 0);  // the five records
    EXPECT_EQ(p1->offset_lag, 0);
    EXPECT_FALSE(p1->is_future);

    // Named brokers, in the order given: one the cluster does not have.
    std::vector<std::int32_t> ids{99, 1};
    const auto some = co_await admin.describe_log_dirs(ids);
    CO_ASSERT(some.size() == 2u);
    EXPECT_EQ(some[0].broker_id, 99);
    EXPECT_EQ(some[0].error, client_errc::invalid_argument) << some[0].error_message;
    EXPECT_TRUE(mentions(some[0].error_message, "broker 99")) << some[0].error_message;
    EXPECT_TRUE(some[1].ok()) << some[1].error_message;
    EXPECT_EQ(some[1].dirs.size(), all[0].dirs.size());

    std::vector<std::string> names{t};
    co_await admin.delete_topics(names);
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

TEST(AdminBrokers, DescribeApiVersionsAndFeatures) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    const auto versions = co_await admin.describe_api_versions();
    CO_ASSERT(versions.size() == 1u);
    EXPECT_EQ(versions[0].broker_id, 1);
    EXPECT_TRUE(versions[0].ok()) << versions[0].error_message;
    const auto& apis = versions[0].apis;
    EXPECT_TRUE(std::is_sorted(apis.begin(), apis.end(),
                               [](const ApiVersionInfo& a, const ApiVersionInfo& b) { return a.api_key < b.api_key; }));
    auto list_offsets = std::find_if(apis.begin(), apis.end(), [](const ApiVersionInfo& a) { return a.api_key == 2; });
    CO_ASSERT(list_offsets != apis.end());
    EXPECT_EQ(list_offsets->name, "ListOffsets");
    EXPECT_GE(list_offsets->max_version, 7);  // KIP-734
    EXPECT_LE(list_offsets->min_version, list_offsets->max_version);
    // An API this library has no codec for is listed without a name.
    EXPECT_TRUE(std::any_of(apis.begin(), apis.end(), [](const ApiVersionInfo& a) { return a.name.empty(); }));

    const FeatureMetadata features = co_await admin.describe_features();
    EXPECT_EQ(features.broker_id, 1);
    CO_ASSERT(features.finalized.contains("metadata.version"));
    const FinalizedFeatureLevels mv = features.finalized.at("metadata.version");
    EXPECT_GT(mv.max_level, 0);
    CO_ASSERT(features.supported.contains("metadata.version"));
    EXPECT_LE(features.supported.at("metadata.version").min_version, mv.max_level);
    EXPECT_GE(features.supported.at("metadata.version").max_version, mv.max_level);
    EXPECT_TRUE(features.finalized_epoch.has_value());

    // validate_only: nothing changes. A feature the cluster does not know is refused, named.
    const std::string bogus = "asiokafka.no.such.feature";
    std::map<std::string, FeatureUpdate> bad{{bogus, FeatureUpdate(1)}};
    const auto b = co_await admin.update_features(bad, {.validate_only = true});
    CO_ASSERT(b.size() == 1u);
    EXPECT_EQ(b[0].feature, bogus);
    EXPECT_EQ(b[0].error, kafka_errc::invalid_update_version) << b[0].error_message;
    EXPECT_TRUE(mentions(b[0].error_message, "feature '" + bogus + "'")) << b[0].error_message;
    // The current level of metadata.version is a valid (empty) update.
    std::map<std::string, FeatureUpdate> same{{"metadata.version", FeatureUpdate(mv.max_level)}};
    const auto s = co_await admin.update_features(same, {.validate_only = true});
    EXPECT_TRUE(s.at(0).ok()) << s[0].error_message;
    const FeatureMetadata after = co_await admin.describe_features();
    EXPECT_EQ(after.finalized.at("metadata.version").max_level, mv.max_level);
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

}  // namespace
}  // namespace asiokafka::test
