// asiokafka::Admin against the real single-node broker: ACLs. The rig runs KRaft's
// StandardAuthorizer with allow.everyone.if.no.acl.found=true and User:ANONYMOUS (the PLAINTEXT
// listeners) as the only super user, so an ACL on a topic restricts the SASL users and
// nothing else. An ACL is created for one SASL user, enforced for the other (both log in with
// asiokafka clients on the SASL_PLAINTEXT listener), described, deleted and reported.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/admin.hpp"
#include "asiokafka/consumer.hpp"
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

SaslConfig sasl_login(const std::string& user, const std::string& password) {
  SaslConfig s;
  s.mechanism = SaslConfig::Mechanism::scram_sha_256;
  s.username = user;
  s.password = password;
  return s;
}

/// An admin logged in as `user` on the SASL_PLAINTEXT listener.
AdminConfig sasl_admin_config(const Rig& rig, const std::string& user, const std::string& password) {
  AdminConfig c;
  c.bootstrap_servers = rig.bootstrap("SASL_PLAINTEXT");
  c.security_protocol = SecurityProtocol::sasl_plaintext;
  c.sasl = sasl_login(user, password);
  c.default_api_timeout = 10s;
  return c;
}

ConsumerConfig sasl_consumer_config(const Rig& rig, const std::string& user, const std::string& password) {
  ConsumerConfig c;
  c.bootstrap_servers = rig.bootstrap("SASL_PLAINTEXT");
  c.security_protocol = SecurityProtocol::sasl_plaintext;
  c.sasl = sasl_login(user, password);
  c.auto_offset_reset = AutoOffsetReset::earliest;
  c.enable_auto_commit = false;
  return c;
}

/// The rig must run an authorizer: without one every ACL call fails with SECURITY_DISABLED.
asio::awaitable<bool> has_authorizer(Admin& admin) {
  auto r = co_await admin.describe_acls(AclBindingFilter(), {}, asio::as_tuple(asio::use_awaitable));
  if (std::get<0>(r) == kafka_errc::security_disabled) {
    ADD_FAILURE() << "the rig has no authorizer (describe_acls: " << std::get<0>(r).message()
                  << "): restart it with the current rig/kafkarig.py, which configures "
                     "authorizer.class.name=StandardAuthorizer";
    co_return false;
  }
  EXPECT_FALSE(std::get<0>(r)) << std::get<0>(r).message();
  co_return !std::get<0>(r);
}

/// describe_acls(filter) until it finds `count` ACLs (the broker applies a new ACL from the
/// metadata log shortly after the controller answered), bounded.
asio::awaitable<std::vector<AclBinding>> acls_once_there(Admin& admin, AclBindingFilter filter, std::size_t count) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  std::vector<AclBinding> found;
  for (int attempt = 0; attempt < 100; ++attempt) {
    found = co_await admin.describe_acls(filter);
    if (found.size() == count) break;
    pause.expires_after(100ms);
    co_await pause.async_wait(asio::use_awaitable);
  }
  co_return found;
}

TEST(AdminAcls, AnAclLetsOneSaslUserReadAndRefusesTheOther) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string t = unique_name("admin-acl");
  const std::string user_x = rig.get("SASL_USER");
  const std::string pass_x = rig.get("SASL_PASSWORD");
  const std::string user_y = rig.get("ADMIN_USER");
  const std::string pass_y = rig.get("ADMIN_PASSWORD");
  const std::string principal_x = "User:" + user_x;
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    CO_ASSERT(co_await has_authorizer(admin));
    std::vector<NewTopic> topics{NewTopic(t, 1, 1)};
    CO_ASSERT((co_await admin.create_topics(topics)).at(0).ok());
    {
      ProducerConfig pc;
      pc.bootstrap_servers = rig.bootstrap("PLAINTEXT");
      Producer producer(co_await asio::this_coro::executor, std::move(pc));
      co_await producer.start();
      for (int i = 0; i < 3; ++i) {
        SendOptions options;
        options.partition = 0;
        co_await producer.send_and_wait(t, "acl-" + std::to_string(i), options);
      }
      co_await producer.stop();
    }

    // X may read and describe the topic; the third binding is not valid for a creation.
    const AclBinding read_x(AclResourceType::topic, t, AclPatternType::literal, principal_x, "*", AclOperation::read,
                            AclPermission::allow);
    const AclBinding describe_x(AclResourceType::topic, t, AclPatternType::literal, principal_x, "*",
                                AclOperation::describe, AclPermission::allow);
    const AclBinding invalid(AclResourceType::topic, t, AclPatternType::literal, principal_x, "*", AclOperation::any,
                             AclPermission::allow);
    std::vector<AclBinding> bindings{read_x, invalid, describe_x};
    const auto created = co_await admin.create_acls(bindings);
    CO_ASSERT(created.size() == 3u);
    EXPECT_TRUE(created[0].ok()) << created[0].error_message;
    EXPECT_EQ(created[0].binding, read_x);
    EXPECT_EQ(created[1].error, client_errc::invalid_argument) << created[1].error_message;
    EXPECT_TRUE(mentions(created[1].error_message, "TOPIC '" + t + "'")) << created[1].error_message;
    EXPECT_TRUE(mentions(created[1].error_message, "operation ANY")) << created[1].error_message;
    EXPECT_TRUE(created[2].ok()) << created[2].error_message;

    // describe_acls finds both (the topic's filter), and one with an exact filter.
    const AclBindingFilter on_topic(AclResourceType::topic, t, AclPatternType::literal, std::nullopt, std::nullopt,
                                    AclOperation::any, AclPermission::any);
    const auto described = co_await acls_once_there(admin, on_topic, 2);
    CO_ASSERT(described.size() == 2u);
    EXPECT_TRUE(std::find(described.begin(), described.end(), read_x) != described.end());
    EXPECT_TRUE(std::find(described.begin(), described.end(), describe_x) != described.end());
    const auto exact = co_await admin.describe_acls(AclBindingFilter(read_x));
    CO_ASSERT(exact.size() == 1u);
    EXPECT_EQ(exact[0], read_x);
    // MATCH: the ACLs that apply to the topic.
    const AclBindingFilter matching(AclResourceType::topic, t, AclPatternType::match, principal_x, std::nullopt,
                                    AclOperation::any, AclPermission::any);
    EXPECT_EQ((co_await admin.describe_acls(matching)).size(), 2u);

    // Y has no ACL on a topic that has ACLs: refused, typed.
    {
      Admin as_y(co_await asio::this_coro::executor, sasl_admin_config(rig, user_y, pass_y));
      co_await as_y.start();
      std::vector<std::string> names{t};
      const auto d = co_await as_y.describe_topics(names);
      EXPECT_EQ(d.at(0).error, kafka_errc::topic_authorization_failed) << d[0].error_message;
      EXPECT_TRUE(mentions(d[0].error_message, "topic '" + t + "'")) << d[0].error_message;
      std::vector<std::pair<TopicPartition, OffsetSpec>> q{{TopicPartition(t, 0), OffsetSpec::latest()}};
      const auto o = co_await as_y.list_offsets(q);
      EXPECT_EQ(o.at(0).error, kafka_errc::topic_authorization_failed) << o[0].error_message;
      co_await as_y.close();

      Consumer consumer(co_await asio::this_coro::executor, sasl_consumer_config(rig, user_y, pass_y));
      consumer.assign({TopicPartition(t, 0)});
      co_await consumer.start();
      auto got = co_await consumer.getmany({.timeout = 10s}, asio::as_tuple(asio::use_awaitable));
      EXPECT_EQ(std::get<0>(got), kafka_errc::topic_authorization_failed) << std::get<0>(got).message();
      EXPECT_TRUE(std::get<1>(got).empty());
      co_await consumer.stop();
    }
    // X reads the three records.
    {
      Consumer consumer(co_await asio::this_coro::executor, sasl_consumer_config(rig, user_x, pass_x));
      consumer.assign({TopicPartition(t, 0)});
      co_await consumer.start();
      std::vector<std::string> values;
      for (int attempt = 0; attempt < 20 && values.size() < 3; ++attempt) {
        const RecordBatches batches = co_await consumer.getmany({.timeout = 1s});
        for (const auto& entry : batches) {
          for (const auto& rec : entry.second) {
            values.emplace_back(reinterpret_cast<const char*>(rec.value->data()), rec.value->size());
          }
        }
      }
      const std::vector<std::string> expected{"acl-0", "acl-1", "acl-2"};
      EXPECT_EQ(values, expected);
      co_await consumer.stop();

      // What X may do on the topic (KIP-430): read and describe, not write.
      Admin as_x(co_await asio::this_coro::executor, sasl_admin_config(rig, user_x, pass_x));
      co_await as_x.start();
      std::vector<std::string> names{t};
      const auto d = co_await as_x.describe_topics(names, {.include_authorized_operations = true});
      CO_ASSERT(d.size() == 1u);
      EXPECT_TRUE(d[0].ok()) << d[0].error_message;
      EXPECT_TRUE(d[0].authorized_operations.known);
      EXPECT_TRUE(d[0].authorized_operations.allows(AclOperation::read));
      EXPECT_TRUE(d[0].authorized_operations.allows(AclOperation::describe));
      EXPECT_FALSE(d[0].authorized_operations.allows(AclOperation::write));
      co_await as_x.close();
    }
    // With the authorizer on, the super user's authorized operations are known: all of them.
    const ClusterDescription cluster = co_await admin.describe_cluster({.include_authorized_operations = true});
    EXPECT_TRUE(cluster.authorized_operations.known);
    EXPECT_TRUE(cluster.authorized_operations.allows(AclOperation::describe));
    EXPECT_TRUE(cluster.authorized_operations.allows(AclOperation::alter));
    EXPECT_TRUE(cluster.authorized_operations.allows(AclOperation::cluster_action));
    std::vector<std::string> names{t};
    const auto mine = co_await admin.describe_topics(names, {.include_authorized_operations = true});
    EXPECT_TRUE(mine.at(0).authorized_operations.known);
    EXPECT_TRUE(mine[0].authorized_operations.allows(AclOperation::write));
    EXPECT_TRUE(mine[0].authorized_operations.allows(AclOperation::remove));

    // delete_acls: the READ binding by an exact filter, a filter matching nothing, then the rest.
    const AclBindingFilter nothing(AclResourceType::topic, unique_name("admin-acl-none"), AclPatternType::literal,
                                   std::nullopt, std::nullopt, AclOperation::any, AclPermission::any);
    std::vector<AclBindingFilter> filters{AclBindingFilter(read_x), nothing};
    const auto deleted = co_await admin.delete_acls(filters);
    CO_ASSERT(deleted.size() == 2u);
    EXPECT_TRUE(deleted[0].ok()) << deleted[0].error_message;
    EXPECT_EQ(deleted[0].filter, AclBindingFilter(read_x));
    CO_ASSERT(deleted[0].deleted.size() == 1u);
    EXPECT_EQ(deleted[0].deleted[0].binding, read_x);
    EXPECT_TRUE(deleted[0].deleted[0].ok()) << deleted[0].deleted[0].error_message;
    EXPECT_TRUE(deleted[1].ok()) << deleted[1].error_message;
    EXPECT_TRUE(deleted[1].deleted.empty());
    EXPECT_TRUE((co_await admin.describe_acls(nothing)).empty());

    const auto left = co_await acls_once_there(admin, on_topic, 1);
    CO_ASSERT(left.size() == 1u);
    EXPECT_EQ(left[0], describe_x);
    std::vector<AclBindingFilter> rest{on_topic};
    const auto rest_deleted = co_await admin.delete_acls(rest);
    CO_ASSERT(rest_deleted.size() == 1u);
    CO_ASSERT(rest_deleted[0].deleted.size() == 1u);
    EXPECT_EQ(rest_deleted[0].deleted[0].binding, describe_x);
    EXPECT_TRUE((co_await acls_once_there(admin, on_topic, 0)).empty());
    co_await admin.delete_topics(names);
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 120s));
}

TEST(AdminAcls, BadBindingsAndFiltersGetTypedErrorsNamingThem) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string t = unique_name("admin-acl-bad");
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    CO_ASSERT(co_await has_authorizer(admin));
    std::vector<AclBinding> bindings{
        AclBinding(AclResourceType::any, t, AclPatternType::literal, "User:x", "*", AclOperation::read,
                   AclPermission::allow),
        AclBinding(AclResourceType::topic, t, AclPatternType::match, "User:x", "*", AclOperation::read,
                   AclPermission::allow),
        AclBinding(AclResourceType::topic, t, AclPatternType::literal, "User:x", "*", AclOperation::read,
                   AclPermission::any),
        AclBinding(AclResourceType::topic, t, AclPatternType::literal, "", "*", AclOperation::read,
                   AclPermission::allow),
        // Only the broker knows this one is wrong: a principal without a type.
        AclBinding(AclResourceType::topic, t, AclPatternType::literal, "nobody", "*", AclOperation::read,
                   AclPermission::deny),
    };
    const auto r = co_await admin.create_acls(bindings);
    CO_ASSERT(r.size() == 5u);
    EXPECT_EQ(r[0].error, client_errc::invalid_argument);
    EXPECT_TRUE(mentions(r[0].error_message, "resource type ANY")) << r[0].error_message;
    EXPECT_EQ(r[1].error, client_errc::invalid_argument);
    EXPECT_TRUE(mentions(r[1].error_message, "pattern type MATCH")) << r[1].error_message;
    EXPECT_EQ(r[2].error, client_errc::invalid_argument);
    EXPECT_TRUE(mentions(r[2].error_message, "permission ANY")) << r[2].error_message;
    EXPECT_EQ(r[3].error, client_errc::invalid_argument);
    EXPECT_TRUE(mentions(r[3].error_message, "principal")) << r[3].error_message;
    for (std::size_t i = 0; i < 4; ++i) {
      EXPECT_TRUE(mentions(r[i].error_message, "ACL ")) << r[i].error_message;
      EXPECT_TRUE(mentions(r[i].error_message, "'" + t + "'")) << r[i].error_message;
    }
    EXPECT_EQ(r[4].error, kafka_errc::invalid_request) << r[4].error_message;
    EXPECT_TRUE(mentions(r[4].error_message, "nobody")) << r[4].error_message;

    // A filter with an UNKNOWN field: refused per filter (delete) or as the call (describe).
    AclBindingFilter unknown_op;
    unknown_op.operation = AclOperation::unknown;
    std::vector<AclBindingFilter> filters{unknown_op};
    const auto d = co_await admin.delete_acls(filters);
    EXPECT_EQ(d.at(0).error, client_errc::invalid_argument) << d[0].error_message;
    EXPECT_TRUE(mentions(d[0].error_message, "operation UNKNOWN")) << d[0].error_message;
    auto described = co_await admin.describe_acls(unknown_op, {}, asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(std::get<0>(described), client_errc::invalid_argument);
    // Nothing was created.
    const AclBindingFilter on_topic(AclResourceType::topic, t, AclPatternType::any, std::nullopt, std::nullopt,
                                    AclOperation::any, AclPermission::any);
    EXPECT_TRUE((co_await admin.describe_acls(on_topic)).empty());
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

}  // namespace
}  // namespace asiokafka::test
