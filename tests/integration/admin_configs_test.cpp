// asiokafka::Admin against the real single-node broker: configs (describe, incremental alter
// of topics, brokers, the cluster default and broker loggers), client quotas and SCRAM
// credentials (one created, then used to log in on the SASL_PLAINTEXT listener).
//
// Every change to the shared rig is reverted: in the test's body, and again by a cleanup run
// after it, also when the body failed. A KRaft broker applies a change once the controller's
// record reaches its copy of the metadata, a moment after the answer: reads that must see a
// change poll in bounded loops.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
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
#include "asiokafka/sasl.hpp"
#include "support/admin_support.hpp"
#include "support/async.hpp"
#include "support/co_assert.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

asio::awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

// Runs the test's body, then (also when the body failed or threw) its cleanup.
void run_then_clean_up(const std::function<asio::awaitable<bool>()>& body,
                       const std::function<asio::awaitable<bool>()>& cleanup) {
  try {
    EXPECT_TRUE(run_async(body(), 90s));
  } catch (const std::exception& e) {
    ADD_FAILURE() << "the test's body threw: " << e.what();
  }
  try {
    EXPECT_TRUE(run_async(cleanup(), 60s)) << "cleanup failed: the rig may keep a change of this test";
  } catch (const std::exception& e) {
    ADD_FAILURE() << "cleanup threw (the rig may keep a change of this test): " << e.what();
  }
}

// One config of one resource, as describe_configs reports it now (nullopt: not reported).
asio::awaitable<std::optional<ConfigEntry>> config_of(Admin& admin, const ConfigResource& r, const std::string& name) {
  std::vector<ConfigResource> rs{r};
  const auto d = co_await admin.describe_configs(rs, {.include_synonyms = true});
  if (d.size() != 1 || !d[0].ok()) co_return std::nullopt;
  const ConfigEntry* e = d[0].find(name);
  if (e == nullptr) co_return std::nullopt;
  co_return *e;
}

// Polls config_of (bounded: ~10 s) until `until` holds; returns the last entry seen.
asio::awaitable<std::optional<ConfigEntry>> await_config(Admin& admin, const ConfigResource& r, const std::string& name,
                                                         std::function<bool(const ConfigEntry&)> until) {
  std::optional<ConfigEntry> e;
  for (int attempt = 0; attempt < 100; ++attempt) {
    e = co_await config_of(admin, r, name);
    if (e && until(*e)) break;
    co_await pause(100ms);
  }
  co_return e;
}

std::string describe_entry(const std::optional<ConfigEntry>& e) {
  if (!e) return "(not reported)";
  return e->name + "=" + e->value.value_or("<null>") + " source " + std::to_string(static_cast<int>(e->source));
}

ConfigResource topic_resource(const std::string& name) { return ConfigResource(ConfigResourceType::topic, name); }
const ConfigResource broker1(ConfigResourceType::broker, "1");
const ConfigResource broker_default(ConfigResourceType::broker, "");
const ConfigResource broker1_loggers(ConfigResourceType::broker_logger, "1");

// ---- configs ----

TEST(AdminConfigs, DescribeReportsEachResourceInTheOrderGivenRoutedToItsBroker) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_name("admin-cfg-describe");
  const std::string missing = unique_name("admin-cfg-missing");
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    std::vector<NewTopic> topics{NewTopic(topic, 1, 1).config("cleanup.policy", "compact").config("retention.ms", "3600000")};
    CO_ASSERT((co_await admin.create_topics(topics)).at(0).ok());
    (void)co_await describe_created(admin, std::vector<std::string>(1, topic));

    std::vector<ConfigResource> resources{topic_resource(topic),
                                          broker1,
                                          topic_resource(missing),
                                          ConfigResource(ConfigResourceType::broker, "abc"),
                                          broker1_loggers,
                                          broker_default,
                                          ConfigResource(ConfigResourceType::broker, "99"),
                                          topic_resource(topic)};
    const auto r = co_await admin.describe_configs(resources, {.include_synonyms = true, .include_documentation = true});
    CO_ASSERT(r.size() == resources.size());
    for (std::size_t i = 0; i < r.size(); ++i) EXPECT_EQ(r[i].resource, resources[i]) << i;

    // The topic: its own configs, their synonyms (strongest first), types and documentation.
    EXPECT_TRUE(r[0].ok()) << r[0].error_message;
    const ConfigEntry* policy = r[0].find("cleanup.policy");
    CO_ASSERT(policy != nullptr);
    EXPECT_EQ(policy->value, "compact");
    EXPECT_EQ(policy->source, ConfigSource::dynamic_topic);
    EXPECT_FALSE(policy->is_default());
    EXPECT_EQ(policy->type, ConfigType::list);
    EXPECT_TRUE(policy->documentation && !policy->documentation->empty());
    CO_ASSERT(policy->synonyms.size() >= 2u);
    EXPECT_EQ(policy->synonyms[0].source, ConfigSource::dynamic_topic);
    EXPECT_EQ(policy->synonyms[0].value, "compact");
    EXPECT_TRUE(std::any_of(policy->synonyms.begin(), policy->synonyms.end(), [](const ConfigSynonym& s) {
      return s.name == "log.cleanup.policy" && s.source == ConfigSource::default_config && s.value == "delete";
    }));
    const ConfigEntry* retention = r[0].find("retention.ms");
    CO_ASSERT(retention != nullptr);
    EXPECT_EQ(retention->value, "3600000");
    EXPECT_EQ(retention->type, ConfigType::int64);
    const ConfigEntry* segment = r[0].find("segment.bytes");
    CO_ASSERT(segment != nullptr);
    EXPECT_TRUE(segment->is_default()) << describe_entry(*segment);
    EXPECT_EQ(segment->type, ConfigType::int32);
    // Named twice: answered twice.
    EXPECT_TRUE(r[7].ok()) << r[7].error_message;
    EXPECT_EQ(r[7].entries.size(), r[0].entries.size());

    // Broker 1 (asked of broker 1): its static configs from server.properties; secrets hidden.
    EXPECT_TRUE(r[1].ok()) << r[1].error_message;
    const ConfigEntry* node_id = r[1].find("node.id");
    CO_ASSERT(node_id != nullptr);
    EXPECT_EQ(node_id->value, "1");
    EXPECT_EQ(node_id->source, ConfigSource::static_broker);
    EXPECT_TRUE(node_id->read_only);
    const ConfigEntry* threads = r[1].find("log.cleaner.threads");
    CO_ASSERT(threads != nullptr);
    EXPECT_EQ(threads->value, "1");
    EXPECT_FALSE(threads->read_only);  // a dynamic broker config
    bool some_sensitive = false;
    for (const ConfigEntry& e : r[1].entries) {
      if (e.is_sensitive) {
        some_sensitive = true;
        EXPECT_FALSE(e.value.has_value()) << e.name;
      }
    }
    EXPECT_TRUE(some_sensitive);

    EXPECT_EQ(r[2].error, kafka_errc::unknown_topic_or_partition) << r[2].error_message;
    EXPECT_TRUE(contains(r[2].error_message, "topic '" + missing + "'")) << r[2].error_message;
    EXPECT_TRUE(r[2].entries.empty());

    EXPECT_EQ(r[3].error, client_errc::invalid_argument) << r[3].error_message;
    EXPECT_TRUE(contains(r[3].error_message, "broker 'abc'")) << r[3].error_message;

    // Broker 1's loggers (asked of broker 1).
    EXPECT_TRUE(r[4].ok()) << r[4].error_message;
    EXPECT_FALSE(r[4].entries.empty());
    const ConfigEntry* replica_manager = r[4].find("kafka.server.ReplicaManager");
    CO_ASSERT(replica_manager != nullptr);
    EXPECT_TRUE(replica_manager->value.has_value());

    // The cluster-wide default (any broker): only what is set dynamically for every broker.
    EXPECT_TRUE(r[5].ok()) << r[5].error_message;
    for (const ConfigEntry& e : r[5].entries) EXPECT_EQ(e.source, ConfigSource::dynamic_default_broker) << e.name;

    // A node id the cluster does not have: refused at once, the others answered.
    EXPECT_EQ(r[6].error, client_errc::no_broker_available) << r[6].error_message;
    EXPECT_TRUE(contains(r[6].error_message, "broker '99'")) << r[6].error_message;

    // Without synonyms or documentation.
    std::vector<ConfigResource> just_topic{topic_resource(topic)};
    const auto plain = co_await admin.describe_configs(just_topic);
    CO_ASSERT(plain.size() == 1u && plain[0].ok());
    const ConfigEntry* p = plain[0].find("cleanup.policy");
    CO_ASSERT(p != nullptr);
    EXPECT_TRUE(p->synonyms.empty());
    EXPECT_FALSE(p->documentation.has_value());

    std::vector<std::string> names{topic};
    co_await admin.delete_topics(names);
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

TEST(AdminConfigs, IncrementalAlterSetsDeletesAppendsAndSubtractsTopicConfigs) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_name("admin-cfg-alter");
  const std::string missing = unique_name("admin-cfg-alter-missing");
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    std::vector<NewTopic> topics{NewTopic(topic, 1, 1)};
    CO_ASSERT((co_await admin.create_topics(topics)).at(0).ok());
    (void)co_await describe_created(admin, std::vector<std::string>(1, topic));
    const ConfigResource t = topic_resource(topic);

    // validate_only: accepted, nothing changes.
    std::vector<ConfigAlteration> check{ConfigAlteration(t).set("retention.ms", "12345")};
    const auto validated = co_await admin.incremental_alter_configs(check, {.validate_only = true});
    CO_ASSERT(validated.size() == 1u);
    EXPECT_TRUE(validated[0].ok()) << validated[0].error_message;
    EXPECT_EQ(validated[0].resource, t);
    const auto unchanged = co_await config_of(admin, t, "retention.ms");
    CO_ASSERT(unchanged.has_value());
    EXPECT_TRUE(unchanged->is_default()) << describe_entry(unchanged);

    // set, and append to the list config cleanup.policy (default "delete").
    std::vector<ConfigAlteration> first{
        ConfigAlteration(t).set("retention.ms", "12345").append("cleanup.policy", "compact")};
    const auto a = co_await admin.incremental_alter_configs(first);
    CO_ASSERT(a.size() == 1u);
    EXPECT_TRUE(a[0].ok()) << a[0].error_message;
    const std::function<bool(const ConfigEntry&)> is_12345 = [](const ConfigEntry& e) { return e.value == "12345"; };
    const auto retention = co_await await_config(admin, t, "retention.ms", is_12345);
    EXPECT_EQ(describe_entry(retention), "retention.ms=12345 source 1");  // dynamic_topic
    CO_ASSERT(retention.has_value());
    EXPECT_EQ(retention->source, ConfigSource::dynamic_topic);
    const std::function<bool(const ConfigEntry&)> is_both = [](const ConfigEntry& e) {
      return e.value == "delete,compact";
    };
    const auto appended = co_await await_config(admin, t, "cleanup.policy", is_both);
    EXPECT_EQ(describe_entry(appended), "cleanup.policy=delete,compact source 1");

    // subtract from the list, delete the other: back to the default.
    std::vector<ConfigAlteration> second{
        ConfigAlteration(t).subtract("cleanup.policy", "delete").remove("retention.ms")};
    const auto b = co_await admin.incremental_alter_configs(second);
    CO_ASSERT(b.size() == 1u);
    EXPECT_TRUE(b[0].ok()) << b[0].error_message;
    const std::function<bool(const ConfigEntry&)> is_compact = [](const ConfigEntry& e) {
      return e.value == "compact";
    };
    const auto subtracted = co_await await_config(admin, t, "cleanup.policy", is_compact);
    EXPECT_EQ(describe_entry(subtracted), "cleanup.policy=compact source 1");
    const std::function<bool(const ConfigEntry&)> is_default = [](const ConfigEntry& e) { return e.is_default(); };
    const auto deleted = co_await await_config(admin, t, "retention.ms", is_default);
    CO_ASSERT(deleted.has_value());
    EXPECT_TRUE(deleted->is_default()) << describe_entry(deleted);
    EXPECT_EQ(deleted->value, "604800000");

    // Bad input, each item with its own typed error naming it; the good one still applies.
    std::vector<ConfigAlteration> bad{ConfigAlteration(t).set("no.such.config", "1"),
                                      ConfigAlteration(topic_resource(missing)).set("retention.ms", "1000"),
                                      ConfigAlteration(topic_resource("dup")).set("retention.ms", "1"),
                                      ConfigAlteration(ConfigResource(ConfigResourceType::broker_logger, "x1"))
                                          .set("kafka.server.ReplicaManager", "DEBUG"),
                                      ConfigAlteration(topic_resource("dup")).set("retention.ms", "2")};
    const auto r = co_await admin.incremental_alter_configs(bad);
    CO_ASSERT(r.size() == bad.size());
    for (std::size_t i = 0; i < r.size(); ++i) EXPECT_EQ(r[i].resource, bad[i].resource) << i;
    EXPECT_EQ(r[0].error, kafka_errc::invalid_config) << r[0].error_message;
    EXPECT_TRUE(contains(r[0].error_message, "topic '" + topic + "'")) << r[0].error_message;
    EXPECT_TRUE(contains(r[0].error_message, "no.such.config")) << r[0].error_message;
    EXPECT_EQ(r[1].error, kafka_errc::unknown_topic_or_partition) << r[1].error_message;
    EXPECT_TRUE(contains(r[1].error_message, missing)) << r[1].error_message;
    EXPECT_EQ(r[2].error, client_errc::invalid_argument) << r[2].error_message;
    EXPECT_TRUE(contains(r[2].error_message, "topic 'dup'")) << r[2].error_message;
    EXPECT_EQ(r[3].error, client_errc::invalid_argument) << r[3].error_message;
    EXPECT_TRUE(contains(r[3].error_message, "'x1'")) << r[3].error_message;
    EXPECT_EQ(r[4].error, client_errc::invalid_argument) << r[4].error_message;
    // A bad value.
    std::vector<ConfigAlteration> bad_value{ConfigAlteration(t).set("retention.ms", "soon")};
    const auto v = co_await admin.incremental_alter_configs(bad_value);
    EXPECT_EQ(v.at(0).error, kafka_errc::invalid_config) << v[0].error_message;
    EXPECT_TRUE(contains(v[0].error_message, "retention.ms")) << v[0].error_message;

    std::vector<std::string> names{topic};
    co_await admin.delete_topics(names);
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 90s));
}

// A dynamic broker config the test may change without disturbing other tests on the rig:
// log.retention.ms (cluster-wide and per broker), set a millisecond away from its default.
const std::string retention_config = "log.retention.ms";

TEST(AdminConfigs, BrokerAndClusterDefaultDynamicConfigsAreSetAndReverted) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  // What the rig had before (a dynamic value set by someone else is put back).
  std::optional<std::string> before_broker;
  std::optional<std::string> before_default;
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    const auto initial = co_await config_of(admin, broker1, retention_config);
    CO_ASSERT(initial.has_value());
    if (initial->source == ConfigSource::dynamic_broker) before_broker = initial->value;
    for (const ConfigSynonym& s : initial->synonyms) {
      if (s.source == ConfigSource::dynamic_default_broker) before_default = s.value;
    }

    // Per broker (sent to broker 1) and the cluster-wide default (any broker).
    std::vector<ConfigAlteration> set{ConfigAlteration(broker1).set(retention_config, "604800001"),
                                      ConfigAlteration(broker_default).set(retention_config, "604800002")};
    const auto r = co_await admin.incremental_alter_configs(set);
    CO_ASSERT(r.size() == 2u);
    EXPECT_TRUE(r[0].ok()) << r[0].error_message;
    EXPECT_TRUE(r[1].ok()) << r[1].error_message;
    const std::function<bool(const ConfigEntry&)> both_set = [](const ConfigEntry& e) {
      return e.value == "604800001" && e.synonyms.size() >= 2 &&
             e.synonyms[1].source == ConfigSource::dynamic_default_broker && e.synonyms[1].value == "604800002";
    };
    const auto per_broker = co_await await_config(admin, broker1, retention_config, both_set);
    CO_ASSERT(per_broker.has_value());
    EXPECT_EQ(per_broker->value, "604800001");
    EXPECT_EQ(per_broker->source, ConfigSource::dynamic_broker);
    CO_ASSERT(per_broker->synonyms.size() >= 2u);
    EXPECT_EQ(per_broker->synonyms[0].source, ConfigSource::dynamic_broker);
    EXPECT_EQ(per_broker->synonyms[1].source, ConfigSource::dynamic_default_broker);
    EXPECT_EQ(per_broker->synonyms[1].value, "604800002");
    const auto cluster_wide = co_await config_of(admin, broker_default, retention_config);
    CO_ASSERT(cluster_wide.has_value());
    EXPECT_EQ(cluster_wide->value, "604800002");
    EXPECT_EQ(cluster_wide->source, ConfigSource::dynamic_default_broker);

    // A bad value and a read-only config are refused, naming the broker and the config. A
    // broker answers INVALID_REQUEST where a topic has INVALID_CONFIG. (Brokers accept config
    // names they do not know, for plugins: validate_only keeps the rig clean should one of
    // these be accepted.)
    std::vector<ConfigAlteration> bad{ConfigAlteration(broker1).set(retention_config, "soon"),
                                      ConfigAlteration(broker_default).set(retention_config, "later")};
    const auto b = co_await admin.incremental_alter_configs(bad, {.validate_only = true});
    CO_ASSERT(b.size() == 2u);
    EXPECT_EQ(b[0].error, kafka_errc::invalid_request) << b[0].error_message;
    EXPECT_TRUE(contains(b[0].error_message, "broker '1'")) << b[0].error_message;
    EXPECT_TRUE(contains(b[0].error_message, retention_config)) << b[0].error_message;
    EXPECT_EQ(b[1].error, kafka_errc::invalid_request) << b[1].error_message;
    EXPECT_TRUE(contains(b[1].error_message, "the cluster-wide broker default")) << b[1].error_message;
    std::vector<ConfigAlteration> read_only{ConfigAlteration(broker1).set("node.id", "7")};
    const auto ro = co_await admin.incremental_alter_configs(read_only, {.validate_only = true});
    EXPECT_EQ(ro.at(0).error, kafka_errc::invalid_request) << ro[0].error_message;
    EXPECT_TRUE(contains(ro[0].error_message, "node.id")) << ro[0].error_message;
    // validate_only changed nothing.
    const auto still = co_await config_of(admin, broker1, retention_config);
    CO_ASSERT(still.has_value());
    EXPECT_EQ(still->value, "604800001");

    // Reverted: removed (or what was there before put back).
    ConfigAlteration back_broker(broker1);
    ConfigAlteration back_default(broker_default);
    if (before_broker) {
      back_broker.set(retention_config, *before_broker);
    } else {
      back_broker.remove(retention_config);
    }
    if (before_default) {
      back_default.set(retention_config, *before_default);
    } else {
      back_default.remove(retention_config);
    }
    std::vector<ConfigAlteration> revert{back_broker, back_default};
    const auto reverted = co_await admin.incremental_alter_configs(revert);
    EXPECT_TRUE(reverted.at(0).ok()) << reverted[0].error_message;
    EXPECT_TRUE(reverted.at(1).ok()) << reverted[1].error_message;
    const std::function<bool(const ConfigEntry&)> neither = [](const ConfigEntry& e) {
      return e.value != "604800001" && e.value != "604800002";
    };
    const auto after = co_await await_config(admin, broker1, retention_config, neither);
    CO_ASSERT(after.has_value());
    EXPECT_EQ(after->source, initial->source) << describe_entry(after);
    EXPECT_EQ(after->value, initial->value) << describe_entry(after);
    co_return true;
  };
  auto cleanup = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    ConfigAlteration back_broker(broker1);
    ConfigAlteration back_default(broker_default);
    if (before_broker) {
      back_broker.set(retention_config, *before_broker);
    } else {
      back_broker.remove(retention_config);
    }
    if (before_default) {
      back_default.set(retention_config, *before_default);
    } else {
      back_default.remove(retention_config);
    }
    std::vector<ConfigAlteration> revert{back_broker, back_default};
    const auto r = co_await admin.incremental_alter_configs(revert);
    co_return r.size() == 2u && r[0].ok() && r[1].ok();
  };
  run_then_clean_up(body, cleanup);
}

const std::string logger_name = "kafka.server.ReplicaManager";

TEST(AdminConfigs, BrokerLoggerLevelIsSetDescribedAndRestored) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  std::optional<std::string> before;
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    const auto initial = co_await config_of(admin, broker1_loggers, logger_name);
    CO_ASSERT(initial.has_value() && initial->value.has_value());
    before = initial->value;
    const std::string level = *before == "DEBUG" ? "TRACE" : "DEBUG";

    std::vector<ConfigAlteration> validate{ConfigAlteration(broker1_loggers).set(logger_name, level)};
    const auto v = co_await admin.incremental_alter_configs(validate, {.validate_only = true});
    EXPECT_TRUE(v.at(0).ok()) << v[0].error_message;
    EXPECT_EQ((co_await config_of(admin, broker1_loggers, logger_name))->value, before);

    const auto r = co_await admin.incremental_alter_configs(validate);
    CO_ASSERT(r.size() == 1u);
    EXPECT_TRUE(r[0].ok()) << r[0].error_message;
    // Applied by the broker itself (not through the controller): visible at once.
    const auto now = co_await config_of(admin, broker1_loggers, logger_name);
    CO_ASSERT(now.has_value());
    EXPECT_EQ(now->value, level);
    EXPECT_EQ(now->source, ConfigSource::dynamic_broker_logger);

    // An unknown logger and a bad level: INVALID_CONFIG naming them.
    std::vector<ConfigAlteration> bad{ConfigAlteration(broker1_loggers).set("no.such.Logger.anywhere", "DEBUG")};
    const auto b = co_await admin.incremental_alter_configs(bad);
    EXPECT_EQ(b.at(0).error, kafka_errc::invalid_config) << b[0].error_message;
    EXPECT_TRUE(contains(b[0].error_message, "broker '1' loggers")) << b[0].error_message;
    EXPECT_TRUE(contains(b[0].error_message, "no.such.Logger.anywhere")) << b[0].error_message;
    std::vector<ConfigAlteration> bad_level{ConfigAlteration(broker1_loggers).set(logger_name, "LOUD")};
    const auto bl = co_await admin.incremental_alter_configs(bad_level);
    EXPECT_EQ(bl.at(0).error, kafka_errc::invalid_config) << bl[0].error_message;
    EXPECT_TRUE(contains(bl[0].error_message, "LOUD")) << bl[0].error_message;

    std::vector<ConfigAlteration> restore{ConfigAlteration(broker1_loggers).set(logger_name, *before)};
    EXPECT_TRUE((co_await admin.incremental_alter_configs(restore)).at(0).ok());
    EXPECT_EQ((co_await config_of(admin, broker1_loggers, logger_name))->value, before);
    co_return true;
  };
  auto cleanup = [&]() -> asio::awaitable<bool> {
    if (!before) co_return true;  // nothing was changed
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    std::vector<ConfigAlteration> restore{ConfigAlteration(broker1_loggers).set(logger_name, *before)};
    co_return (co_await admin.incremental_alter_configs(restore)).at(0).ok();
  };
  run_then_clean_up(body, cleanup);
}

// ---- client quotas ----

// Polls describe_client_quotas for exactly `entity` (bounded: ~10 s) until its quotas are
// `expected` (empty: no entry); returns what was seen last.
asio::awaitable<std::map<std::string, double>> await_quotas(Admin& admin, const ClientQuotaEntity& entity,
                                                            const std::map<std::string, double>& expected) {
  std::vector<ClientQuotaFilterComponent> parts;
  for (const auto& part : entity.entries) {
    if (part.second) {
      parts.push_back(ClientQuotaFilterComponent::of_entity(part.first, *part.second));
    } else {
      parts.push_back(ClientQuotaFilterComponent::of_default_entity(part.first));
    }
  }
  const ClientQuotaFilter filter(parts, true);
  std::map<std::string, double> seen;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const ClientQuotasDescription d = co_await admin.describe_client_quotas(filter);
    EXPECT_TRUE(d.ok()) << d.error_message;
    seen.clear();
    EXPECT_LE(d.entries.size(), 1u);
    if (const ClientQuotaEntry* e = d.find(entity)) seen = e->values;
    if (seen == expected) break;
    co_await pause(100ms);
  }
  co_return seen;
}

TEST(AdminQuotas, ClientIdQuotaIsSetDescribedAndRemoved) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string client = unique_name("admin-quota-client");
  const std::string user = unique_name("admin-quota-user");
  const ClientQuotaEntity by_client({{quota_entity::client_id, client}});
  const ClientQuotaEntity by_user_and_client({{quota_entity::user, user}, {quota_entity::client_id, client}});
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();

    // validate_only changes nothing (checked below: the entity's quotas are exactly ours).
    std::vector<ClientQuotaAlteration> check{ClientQuotaAlteration(by_client).set("producer_byte_rate", 999)};
    const auto v = co_await admin.alter_client_quotas(check, {.validate_only = true});
    CO_ASSERT(v.size() == 1u);
    EXPECT_TRUE(v[0].ok()) << v[0].error_message;

    std::vector<ClientQuotaAlteration> set{
        ClientQuotaAlteration(by_client).set("producer_byte_rate", 1048576).set("consumer_byte_rate", 2097152),
        ClientQuotaAlteration(by_user_and_client).set("request_percentage", 50)};
    const auto r = co_await admin.alter_client_quotas(set);
    CO_ASSERT(r.size() == 2u);
    EXPECT_TRUE(r[0].ok()) << r[0].error_message;
    EXPECT_EQ(r[0].entity, by_client);
    EXPECT_TRUE(r[1].ok()) << r[1].error_message;
    EXPECT_EQ(r[1].entity, by_user_and_client);
    const std::map<std::string, double> both{{"producer_byte_rate", 1048576}, {"consumer_byte_rate", 2097152}};
    EXPECT_EQ((co_await await_quotas(admin, by_client, both)), both);
    const std::map<std::string, double> percentage{{"request_percentage", 50}};
    EXPECT_EQ((co_await await_quotas(admin, by_user_and_client, percentage)), percentage);

    // Not strict: any entity with this client id, with or without a user.
    const ClientQuotaFilter with_client({ClientQuotaFilterComponent::of_entity(quota_entity::client_id, client)});
    const auto loose = co_await admin.describe_client_quotas(with_client);
    EXPECT_TRUE(loose.ok()) << loose.error_message;
    EXPECT_EQ(loose.entries.size(), 2u);
    EXPECT_NE(loose.find(by_client), nullptr);
    EXPECT_NE(loose.find(by_user_and_client), nullptr);
    // Any client id: ours among them.
    const ClientQuotaFilter any_client({ClientQuotaFilterComponent::of_any(quota_entity::client_id)}, true);
    const auto any = co_await admin.describe_client_quotas(any_client);
    EXPECT_TRUE(any.ok()) << any.error_message;
    EXPECT_NE(any.find(by_client), nullptr);
    EXPECT_EQ(any.find(by_user_and_client), nullptr);  // strict: no user part

    // Remove one quota, then the rest: no entry left.
    std::vector<ClientQuotaAlteration> remove_one{ClientQuotaAlteration(by_client).remove("producer_byte_rate")};
    EXPECT_TRUE((co_await admin.alter_client_quotas(remove_one)).at(0).ok());
    const std::map<std::string, double> consumer_only{{"consumer_byte_rate", 2097152}};
    EXPECT_EQ((co_await await_quotas(admin, by_client, consumer_only)), consumer_only);
    std::vector<ClientQuotaAlteration> remove_rest{ClientQuotaAlteration(by_client).remove("consumer_byte_rate"),
                                                   ClientQuotaAlteration(by_user_and_client).remove("request_percentage")};
    const auto removed = co_await admin.alter_client_quotas(remove_rest);
    EXPECT_TRUE(removed.at(0).ok()) << removed[0].error_message;
    EXPECT_TRUE(removed.at(1).ok()) << removed[1].error_message;
    const std::map<std::string, double> none;
    EXPECT_EQ((co_await await_quotas(admin, by_client, none)), none);
    EXPECT_EQ((co_await await_quotas(admin, by_user_and_client, none)), none);
    co_return true;
  };
  auto cleanup = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    std::vector<ClientQuotaAlteration> all{
        ClientQuotaAlteration(by_client).remove("producer_byte_rate").remove("consumer_byte_rate"),
        ClientQuotaAlteration(by_user_and_client).remove("request_percentage")};
    const auto r = co_await admin.alter_client_quotas(all);
    co_return r.size() == 2u && r[0].ok() && r[1].ok();
  };
  run_then_clean_up(body, cleanup);
}

TEST(AdminQuotas, BadQuotaKeysEntitiesAndFiltersGetTypedErrorsNamingThem) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string client = unique_name("admin-quota-bad");
  const std::string good_client = unique_name("admin-quota-good");
  const ClientQuotaEntity good({{quota_entity::client_id, good_client}});
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    const ClientQuotaEntity by_client({{quota_entity::client_id, client}});
    const ClientQuotaEntity bad_type({{"no-such-entity-type", client}});
    std::vector<ClientQuotaAlteration> bad{ClientQuotaAlteration(by_client).set("no_such_quota", 1),
                                           ClientQuotaAlteration(bad_type).set("producer_byte_rate", 1),
                                           ClientQuotaAlteration(good).set("producer_byte_rate", 4096)};
    const auto r = co_await admin.alter_client_quotas(bad, {.validate_only = true});
    CO_ASSERT(r.size() == 3u);
    EXPECT_EQ(r[0].error, kafka_errc::invalid_request) << r[0].error_message;
    EXPECT_TRUE(contains(r[0].error_message, "client-id '" + client + "'")) << r[0].error_message;
    EXPECT_TRUE(contains(r[0].error_message, "no_such_quota")) << r[0].error_message;
    EXPECT_EQ(r[1].error, kafka_errc::invalid_request) << r[1].error_message;
    EXPECT_TRUE(contains(r[1].error_message, "no-such-entity-type")) << r[1].error_message;
    EXPECT_TRUE(r[2].ok()) << r[2].error_message;

    const ClientQuotaFilter bad_filter({ClientQuotaFilterComponent::of_entity("no-such-entity-type", "x")});
    const auto d = co_await admin.describe_client_quotas(bad_filter);
    // The broker's code for it (ClientQuotaManager / the metadata's quota lookup).
    EXPECT_EQ(d.error, kafka_errc::unsupported_version) << d.error_message;
    EXPECT_TRUE(contains(d.error_message, "no-such-entity-type")) << d.error_message;
    EXPECT_TRUE(contains(d.error_message, "client quota filter {no-such-entity-type = 'x'}")) << d.error_message;
    EXPECT_TRUE(d.entries.empty());
    // validate_only left nothing behind.
    const ClientQuotaFilter good_only({ClientQuotaFilterComponent::of_entity(quota_entity::client_id, good_client)});
    const auto g = co_await admin.describe_client_quotas(good_only);
    EXPECT_TRUE(g.ok()) << g.error_message;
    EXPECT_TRUE(g.entries.empty());
    co_return true;
  };
  auto cleanup = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    std::vector<ClientQuotaAlteration> all{ClientQuotaAlteration(good).remove("producer_byte_rate")};
    co_return (co_await admin.alter_client_quotas(all)).at(0).ok();
  };
  run_then_clean_up(body, cleanup);
}

// ---- SCRAM credentials ----

// Logs in on the SASL_PLAINTEXT listener with a SCRAM mechanism and describes the cluster:
// the error, empty when both succeeded.
asio::awaitable<std::error_code> try_login(const Rig& rig, const std::string& user, const std::string& password,
                                           SaslConfig::Mechanism mechanism) {
  AdminConfig c;
  c.bootstrap_servers = rig.bootstrap("SASL_PLAINTEXT");
  c.security_protocol = SecurityProtocol::sasl_plaintext;
  c.connect_timeout = 10s;
  c.default_api_timeout = 10s;
  SaslConfig sasl;
  sasl.mechanism = mechanism;
  sasl.username = user;
  sasl.password = password;
  c.sasl = sasl;
  Admin admin(co_await asio::this_coro::executor, c);
  auto started = co_await admin.start(asio::as_tuple(asio::use_awaitable));
  std::error_code ec = std::get<0>(started);
  if (!ec) {
    auto described = co_await admin.describe_cluster({}, asio::as_tuple(asio::use_awaitable));
    ec = std::get<0>(described);
  }
  co_await admin.close();
  co_return ec;
}

// Polls try_login (bounded: ~10 s) until it succeeds (`succeed`) or fails with an
// authentication error; returns the last outcome.
asio::awaitable<std::error_code> await_login(const Rig& rig, const std::string& user, const std::string& password,
                                             SaslConfig::Mechanism mechanism, bool succeed) {
  std::error_code ec;
  for (int attempt = 0; attempt < 50; ++attempt) {
    ec = co_await try_login(rig, user, password, mechanism);
    if (succeed ? !ec : is_authentication_failure(ec)) break;
    co_await pause(200ms);
  }
  co_return ec;
}

// Polls describe_user_scram_credentials for `user` (bounded: ~10 s) until its credentials
// are `expected` (in any order; empty: the user has none); returns what was seen last.
asio::awaitable<UserScramCredentialsDescription> await_credentials(Admin& admin, const std::string& user,
                                                                   std::vector<ScramCredentialInfo> expected) {
  auto order = [](const ScramCredentialInfo& a, const ScramCredentialInfo& b) { return a.mechanism < b.mechanism; };
  std::sort(expected.begin(), expected.end(), order);
  UserScramCredentialsDescription seen;
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::vector<std::string> users{user};
    const auto d = co_await admin.describe_user_scram_credentials(users);
    EXPECT_EQ(d.size(), 1u);
    if (d.size() != 1) break;
    seen = d[0];
    std::sort(seen.credentials.begin(), seen.credentials.end(), order);
    if (expected.empty() ? seen.error == kafka_errc::resource_not_found : (seen.ok() && seen.credentials == expected)) {
      break;
    }
    co_await pause(100ms);
  }
  co_return seen;
}

TEST(AdminScram, UpsertedCredentialLogsInAndDeletedOneDoesNot) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string user = unique_name("admin-scram-user");
  const std::string password = unique_name("pw");
  using M = SaslConfig::Mechanism;
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    std::vector<std::string> users{user};
    const auto none = co_await admin.describe_user_scram_credentials(users);
    CO_ASSERT(none.size() == 1u);
    EXPECT_EQ(none[0].error, kafka_errc::resource_not_found) << none[0].error_message;
    EXPECT_TRUE(contains(none[0].error_message, "user '" + user + "'")) << none[0].error_message;
    // Not logged in before it exists.
    EXPECT_TRUE(is_authentication_failure(co_await try_login(rig, user, password, M::scram_sha_256)));

    // One alteration of a user per request (a KRaft controller refuses two as
    // DUPLICATE_RESOURCE, whatever their mechanisms: see BadAlterations...).
    std::vector<UserScramCredentialAlteration> upsert256{
        UserScramCredentialAlteration::upsert(user, ScramMechanism::scram_sha_256, password, 8192)};
    const auto r = co_await admin.alter_user_scram_credentials(upsert256);
    CO_ASSERT(r.size() == 1u);
    EXPECT_TRUE(r[0].ok()) << r[0].error_message;
    EXPECT_EQ(r[0].user, user);
    EXPECT_EQ(r[0].mechanism, ScramMechanism::scram_sha_256);
    EXPECT_EQ(r[0].what, UserScramCredentialAlteration::kind::upsert);
    std::vector<UserScramCredentialAlteration> upsert512{
        UserScramCredentialAlteration::upsert(user, ScramMechanism::scram_sha_512, password)};
    const auto r2 = co_await admin.alter_user_scram_credentials(upsert512);
    CO_ASSERT(r2.size() == 1u);
    EXPECT_TRUE(r2[0].ok()) << r2[0].error_message;
    EXPECT_EQ(r2[0].mechanism, ScramMechanism::scram_sha_512);
    const std::vector<ScramCredentialInfo> both{{ScramMechanism::scram_sha_256, 8192},
                                                {ScramMechanism::scram_sha_512, 4096}};
    const auto described = co_await await_credentials(admin, user, both);
    EXPECT_TRUE(described.ok()) << described.error_message;
    EXPECT_EQ(described.user, user);
    EXPECT_EQ(described.credentials, both);

    // Every user: ours and the rig's own SCRAM user, sorted by name.
    const auto all = co_await admin.describe_user_scram_credentials();
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.user < b.user; }));
    EXPECT_TRUE(std::any_of(all.begin(), all.end(), [&](const auto& d) { return d.user == user && d.ok(); }));
    EXPECT_TRUE(std::any_of(all.begin(), all.end(), [&](const auto& d) { return d.user == rig.get("SASL_USER"); }));

    // The salted password derived here is what the broker checks a login against.
    const std::error_code login256 = co_await await_login(rig, user, password, M::scram_sha_256, true);
    EXPECT_FALSE(login256) << login256.message();
    const std::error_code login512 = co_await await_login(rig, user, password, M::scram_sha_512, true);
    EXPECT_FALSE(login512) << login512.message();
    const std::error_code wrong = co_await try_login(rig, user, password + "x", M::scram_sha_256);
    EXPECT_TRUE(is_authentication_failure(wrong)) << wrong.message();

    // Delete one mechanism: that login fails, the other still works.
    std::vector<UserScramCredentialAlteration> remove256{
        UserScramCredentialAlteration::remove(user, ScramMechanism::scram_sha_256)};
    const auto d = co_await admin.alter_user_scram_credentials(remove256);
    CO_ASSERT(d.size() == 1u);
    EXPECT_TRUE(d[0].ok()) << d[0].error_message;
    EXPECT_EQ(d[0].what, UserScramCredentialAlteration::kind::remove);
    const std::vector<ScramCredentialInfo> only512{{ScramMechanism::scram_sha_512, 4096}};
    EXPECT_EQ((co_await await_credentials(admin, user, only512)).credentials, only512);
    const std::error_code gone = co_await await_login(rig, user, password, M::scram_sha_256, false);
    EXPECT_TRUE(is_authentication_failure(gone)) << gone.message();
    EXPECT_FALSE(co_await try_login(rig, user, password, M::scram_sha_512));

    std::vector<UserScramCredentialAlteration> remove512{
        UserScramCredentialAlteration::remove(user, ScramMechanism::scram_sha_512)};
    EXPECT_TRUE((co_await admin.alter_user_scram_credentials(remove512)).at(0).ok());
    const std::vector<ScramCredentialInfo> no_credentials;
    const auto empty = co_await await_credentials(admin, user, no_credentials);
    EXPECT_EQ(empty.error, kafka_errc::resource_not_found) << empty.error_message;
    co_return true;
  };
  auto cleanup = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    // Whatever is left of the user (a credential already gone answers RESOURCE_NOT_FOUND).
    std::vector<UserScramCredentialAlteration> rest{
        UserScramCredentialAlteration::remove(user, ScramMechanism::scram_sha_256)};
    (void)co_await admin.alter_user_scram_credentials(rest);
    rest = {UserScramCredentialAlteration::remove(user, ScramMechanism::scram_sha_512)};
    (void)co_await admin.alter_user_scram_credentials(rest);
    std::vector<std::string> users{user};
    const auto left = co_await admin.describe_user_scram_credentials(users);
    co_return left.size() == 1u && left[0].error == kafka_errc::resource_not_found;
  };
  run_then_clean_up(body, cleanup);
}

TEST(AdminScram, BadAlterationsGetTypedErrorsNamingTheUser) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string few = unique_name("admin-scram-few");
  const std::string many = unique_name("admin-scram-many");
  const std::string ghost = unique_name("admin-scram-ghost");
  const std::string mixed = unique_name("admin-scram-mixed");
  const std::string twice = unique_name("admin-scram-twice");
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    std::vector<UserScramCredentialAlteration> bad{
        UserScramCredentialAlteration::upsert(few, ScramMechanism::scram_sha_256, "pw", 1000),
        UserScramCredentialAlteration::upsert(many, ScramMechanism::scram_sha_512, "pw", 20000),
        UserScramCredentialAlteration::remove(ghost, ScramMechanism::scram_sha_512),
        UserScramCredentialAlteration::upsert(mixed, ScramMechanism::unknown, "pw"),
        UserScramCredentialAlteration::upsert(mixed, ScramMechanism::scram_sha_256, "pw"),
        UserScramCredentialAlteration::upsert("", ScramMechanism::scram_sha_256, "pw"),
        UserScramCredentialAlteration::upsert(twice, ScramMechanism::scram_sha_256, "pw"),
        UserScramCredentialAlteration::upsert(twice, ScramMechanism::scram_sha_512, "pw")};
    const auto r = co_await admin.alter_user_scram_credentials(bad);
    CO_ASSERT(r.size() == bad.size());
    EXPECT_EQ(r[0].error, kafka_errc::unacceptable_credential) << r[0].error_message;
    EXPECT_TRUE(contains(r[0].error_message, "user '" + few + "' SCRAM-SHA-256")) << r[0].error_message;
    EXPECT_EQ(r[1].error, kafka_errc::unacceptable_credential) << r[1].error_message;
    EXPECT_TRUE(contains(r[1].error_message, "user '" + many + "' SCRAM-SHA-512")) << r[1].error_message;
    EXPECT_EQ(r[2].error, kafka_errc::resource_not_found) << r[2].error_message;
    EXPECT_TRUE(contains(r[2].error_message, ghost)) << r[2].error_message;
    EXPECT_EQ(r[3].error, client_errc::invalid_argument) << r[3].error_message;
    EXPECT_TRUE(contains(r[3].error_message, mixed)) << r[3].error_message;
    // The broker answers per user: the good alteration of a refused user is not sent.
    EXPECT_EQ(r[4].error, client_errc::invalid_argument) << r[4].error_message;
    EXPECT_TRUE(contains(r[4].error_message, "not sent")) << r[4].error_message;
    EXPECT_EQ(r[5].error, kafka_errc::unacceptable_credential) << r[5].error_message;
    EXPECT_TRUE(contains(r[5].error_message, "user ''")) << r[5].error_message;
    // One user altered twice in one request: both refused (the broker answers per user).
    EXPECT_EQ(r[6].error, kafka_errc::duplicate_resource) << r[6].error_message;
    EXPECT_EQ(r[7].error, kafka_errc::duplicate_resource) << r[7].error_message;
    EXPECT_TRUE(contains(r[7].error_message, "user '" + twice + "' SCRAM-SHA-512")) << r[7].error_message;
    // None of them exists.
    std::vector<std::string> users{few, many, twice, few};
    const auto d = co_await admin.describe_user_scram_credentials(users);
    CO_ASSERT(d.size() == 4u);
    EXPECT_EQ(d[0].user, few);
    EXPECT_EQ(d[1].user, many);
    EXPECT_EQ(d[2].error, kafka_errc::resource_not_found) << d[2].error_message;
    // Named twice: DUPLICATE_RESOURCE.
    EXPECT_EQ(d[0].error, kafka_errc::duplicate_resource) << d[0].error_message;
    EXPECT_EQ(d[3].error, kafka_errc::duplicate_resource) << d[3].error_message;
    EXPECT_EQ(d[1].error, kafka_errc::resource_not_found) << d[1].error_message;
    co_return true;
  };
  auto cleanup = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    std::vector<std::string> users{few, many, mixed, twice};
    const auto d = co_await admin.describe_user_scram_credentials(users);
    co_return std::all_of(d.begin(), d.end(), [](const auto& x) { return x.error == kafka_errc::resource_not_found; });
  };
  run_then_clean_up(body, cleanup);
}

}  // namespace
}  // namespace asiokafka::test
