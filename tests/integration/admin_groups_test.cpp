// asiokafka::Admin against the real single-node broker: groups formed by asiokafka::Consumer
// (classic and KIP-848) listed, described, their offsets listed, altered and deleted, static
// members removed, groups deleted; transactions of librdkafka's transactional producer listed,
// described, seen by describe_producers and aborted (KIP-664). Every per-item result is checked.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/admin.hpp"
#include "asiokafka/client.hpp"
#include "asiokafka/consumer.hpp"
#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "support/admin_support.hpp"
#include "support/async.hpp"
#include "support/co_assert.hpp"
#include "support/fake_broker.hpp"
#include "support/poll.hpp"
#include "support/rig.hpp"
#include "support/topics.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;

ConsumerConfig member_config(const Rig& rig, const std::string& group, GroupProtocol protocol) {
  ConsumerConfig c;
  c.bootstrap_servers = rig.bootstrap("PLAINTEXT");
  c.group_id = group;
  c.group_protocol = protocol;
  c.auto_offset_reset = AutoOffsetReset::earliest;
  c.enable_auto_commit = false;  // the offsets are the test's
  c.session_timeout = 30'000ms;  // static members outlive their consumer's stop() for the test
  c.heartbeat_interval = 500ms;
  return c;
}

// ---- group members: asiokafka consumers polling in the background ----

struct Member {
  explicit Member(std::unique_ptr<Consumer> c) : consumer(std::move(c)) {}
  std::unique_ptr<Consumer> consumer;
  bool stop = false;
  bool running = false;
};

asio::awaitable<void> drain(std::shared_ptr<Member> m) {
  m->running = true;
  for (int i = 0; i < 100'000 && !m->stop; ++i) {
    bool failed = false;
    try {
      GetManyOptions o;
      o.timeout = 100ms;
      (void)co_await m->consumer->getmany(o);
    } catch (const std::exception&) {
      failed = true;
    }
    if (failed) break;
  }
  m->running = false;
}

// The members of a test; whatever happens, their polling ends with the test's body.
struct Members {
  std::vector<std::shared_ptr<Member>> all;
  Members() = default;
  Members(const Members&) = delete;
  Members& operator=(const Members&) = delete;
  ~Members() {
    for (auto& m : all) m->stop = true;
  }
};

asio::awaitable<std::shared_ptr<Member>> join(Members& ms, const ConsumerConfig& cfg, const std::string& topic) {
  const auto ex = co_await asio::this_coro::executor;
  auto m = std::make_shared<Member>(std::make_unique<Consumer>(ex, cfg));
  std::vector<std::string> topics{topic};
  m->consumer->subscribe(topics);
  co_await m->consumer->start();
  ms.all.push_back(m);
  asio::co_spawn(ex, drain(m), asio::detached);
  co_return m;
}

/// Stops polling, then stop(): a dynamic member leaves the group, a static one stays in it
/// until its session times out (KIP-345).
asio::awaitable<void> leave(Member& m) {
  m.stop = true;
  (void)co_await eventually_async([&m] { return !m.running; }, 10s, 10ms);
  co_await m.consumer->stop();
}

/// Every member stable and the topic's partitions split among them.
bool settled(const Members& ms, std::size_t partitions) {
  std::set<TopicPartition> held;
  std::size_t total = 0;
  for (const auto& m : ms.all) {
    if (m->stop) continue;
    const GroupStatus s = m->consumer->group_status();
    if (s.state != GroupState::stable) return false;
    total += s.assignment.size();
    held.insert(s.assignment.begin(), s.assignment.end());
  }
  return total == partitions && held.size() == partitions;
}

asio::awaitable<bool> create(Admin& admin, const std::string& topic, std::int32_t partitions) {
  std::vector<NewTopic> topics{NewTopic(topic, partitions, 1)};
  const auto r = co_await admin.create_topics(topics);
  CO_ASSERT(r.size() == 1u);
  EXPECT_TRUE(r[0].ok()) << r[0].error_message;
  co_return r[0].ok();
}

const GroupListing* find_listing(const std::vector<GroupListing>& l, const std::string& id) {
  auto it = std::find_if(l.begin(), l.end(), [&](const GroupListing& g) { return g.group_id == id; });
  return it == l.end() ? nullptr : &*it;
}

const ListedGroupOffset* find_offset(const std::vector<ListedGroupOffset>& l, const TopicPartition& tp) {
  auto it = std::find_if(l.begin(), l.end(), [&](const ListedGroupOffset& o) { return o.partition == tp; });
  return it == l.end() ? nullptr : &*it;
}

bool has_text(const std::string& message, const std::string& part) { return message.find(part) != std::string::npos; }

/// Polls describe_groups until the group is in `state` (bounded).
asio::awaitable<bool> wait_for_state(Admin& admin, const std::string& group, AdminGroupState state) {
  for (int i = 0; i < 150; ++i) {
    std::vector<std::string> ids{group};
    const auto d = co_await admin.describe_groups(ids);
    if (d.size() == 1 && d[0].ok() && d[0].state == state) co_return true;
    asio::steady_timer t(co_await asio::this_coro::executor, 100ms);
    co_await t.async_wait(asio::use_awaitable);
  }
  co_return false;
}

// GCC 12: no `co_await` inside a condition (CO_ASSERT(co_await f()) is one) in these
// coroutines: GCC 12 miscompiles a coroutine that returns before reaching such a co_await
// (src/admin/groups.cpp, next_round). The results are named first.

// ---- describe and list ----

TEST(AdminGroups, ListAndDescribeAClassicGroupWithItsMembersAndAssignment) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_name("admin-grp-classic");
  const std::string group = unique_name("admin-grp-classic");
  const std::string instance = unique_name("static");
  const std::string missing = unique_name("admin-grp-missing");
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    {
      const bool done = co_await create(admin, topic, 4);
      CO_ASSERT(done);
    }
    Members ms;
    ConsumerConfig a = member_config(rig, group, GroupProtocol::classic);
    a.client_id = "admin-b-static";
    a.group_instance_id = instance;
    ConsumerConfig b = member_config(rig, group, GroupProtocol::classic);
    b.client_id = "admin-b-dynamic";
    (void)co_await join(ms, a, topic);
    (void)co_await join(ms, b, topic);
    {
      const bool done = co_await eventually_async([&] { return settled(ms, 4); }, 60s, 20ms);
      CO_ASSERT(done);
    }
    {
      const bool done = co_await wait_for_state(admin, group, AdminGroupState::stable);
      CO_ASSERT(done);
    }

    // list_groups: every broker's groups, with state, type and protocol type.
    const auto listed = co_await admin.list_groups();
    const GroupListing* l = find_listing(listed, group);
    CO_ASSERT(l != nullptr);
    EXPECT_EQ(l->state, AdminGroupState::stable) << l->state_name;
    EXPECT_EQ(l->state_name, "Stable");
    EXPECT_EQ(l->type, GroupType::classic) << l->type_name;
    EXPECT_EQ(l->protocol_type, "consumer");
    EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end(),
                               [](const GroupListing& x, const GroupListing& y) { return x.group_id < y.group_id; }));
    // The filters are applied by the broker.
    ListGroupsOptions stable_only;
    stable_only.states = {AdminGroupState::stable};
    const auto stable = co_await admin.list_groups(stable_only);
    EXPECT_NE(find_listing(stable, group), nullptr);
    for (const auto& g : stable) EXPECT_EQ(g.state, AdminGroupState::stable) << g.group_id;
    ListGroupsOptions empty_only;
    empty_only.states = {AdminGroupState::empty, AdminGroupState::dead};
    const auto empty = co_await admin.list_groups(empty_only);
    EXPECT_EQ(find_listing(empty, group), nullptr);
    ListGroupsOptions classic_only;
    classic_only.types = {GroupType::classic};
    const auto classic = co_await admin.list_groups(classic_only);
    EXPECT_NE(find_listing(classic, group), nullptr);
    for (const auto& g : classic) EXPECT_EQ(g.type, GroupType::classic) << g.group_id;
    ListGroupsOptions consumer_only;
    consumer_only.types = {GroupType::consumer};
    consumer_only.states = {AdminGroupState::stable};
    const auto kip848 = co_await admin.list_groups(consumer_only);
    EXPECT_EQ(find_listing(kip848, group), nullptr);

    // describe_groups: members, assignment decoded from the consumer protocol, coordinator.
    std::vector<std::string> ids{group, missing, "", group};
    const auto d = co_await admin.describe_groups(ids, {.include_authorized_operations = true});
    CO_ASSERT(d.size() == 4u);
    EXPECT_TRUE(d[0].ok()) << d[0].error_message;
    EXPECT_EQ(d[0].group_id, group);
    EXPECT_EQ(d[0].type, GroupType::classic);
    EXPECT_EQ(d[0].state, AdminGroupState::stable);
    EXPECT_EQ(d[0].protocol_type, "consumer");
    EXPECT_EQ(d[0].protocol, "roundrobin");
    EXPECT_FALSE(d[0].group_epoch.has_value());
    CO_ASSERT(d[0].coordinator.has_value());
    EXPECT_EQ(d[0].coordinator->node_id, 1);
    EXPECT_FALSE(d[0].coordinator->host.empty());
    EXPECT_TRUE(d[0].authorized_operations.allows(AclOperation::describe));
    CO_ASSERT(d[0].members.size() == 2u);
    std::set<TopicPartition> assigned;
    std::size_t total = 0;
    bool saw_static = false;
    for (const auto& mem : d[0].members) {
      EXPECT_FALSE(mem.member_id.empty());
      EXPECT_FALSE(mem.host.empty());
      EXPECT_FALSE(mem.raw_assignment.empty());
      EXPECT_EQ(mem.subscribed_topics, std::vector<std::string>{topic});
      EXPECT_EQ(mem.assignment.size(), 2u);  // roundrobin: 4 partitions over 2 members
      EXPECT_FALSE(mem.member_epoch.has_value());
      EXPECT_FALSE(mem.target_assignment.has_value());
      total += mem.assignment.size();
      assigned.insert(mem.assignment.begin(), mem.assignment.end());
      if (mem.group_instance_id) {
        EXPECT_EQ(*mem.group_instance_id, instance);
        EXPECT_EQ(mem.client_id, "admin-b-static");
        saw_static = true;
      } else {
        EXPECT_EQ(mem.client_id, "admin-b-dynamic");
      }
    }
    EXPECT_TRUE(saw_static);
    EXPECT_EQ(total, 4u);
    EXPECT_EQ(assigned.size(), 4u);
    // The members' own view agrees with the coordinator's.
    std::set<TopicPartition> own;
    for (const auto& m : ms.all) {
      const auto s = m->consumer->group_status();
      own.insert(s.assignment.begin(), s.assignment.end());
    }
    EXPECT_EQ(own, assigned);
    // An unknown group: GROUP_ID_NOT_FOUND naming it, described as dead without members.
    EXPECT_EQ(d[1].error, kafka_errc::group_id_not_found) << d[1].error_message;
    EXPECT_TRUE(has_text(d[1].error_message, "group '" + missing + "'")) << d[1].error_message;
    EXPECT_EQ(d[1].state, AdminGroupState::dead);
    EXPECT_TRUE(d[1].members.empty());
    EXPECT_EQ(d[1].group_id, missing);
    EXPECT_EQ(d[2].error, client_errc::invalid_argument) << d[2].error_message;
    // A repeated id gets the same answer.
    EXPECT_TRUE(d[3].ok()) << d[3].error_message;
    EXPECT_EQ(d[3].members.size(), 2u);

    for (auto& m : ms.all) co_await leave(*m);
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 120s));
}

TEST(AdminGroups, DescribesAKip848GroupWithEpochsAssignorAndTargetAssignment) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_name("admin-grp-848");
  const std::string group = unique_name("admin-grp-848");
  const std::string instance = unique_name("static");
  auto body = [&]() -> asio::awaitable<bool> {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    {
      const bool done = co_await create(admin, topic, 6);
      CO_ASSERT(done);
    }
    Members ms;
    ConsumerConfig a = member_config(rig, group, GroupProtocol::consumer);
    a.group_remote_assignor = "range";
    a.group_instance_id = instance;
    a.client_id = "admin-b-848";
    ConsumerConfig b = a;
    b.group_instance_id.reset();
    (void)co_await join(ms, a, topic);
    (void)co_await join(ms, b, topic);
    {
      const bool done = co_await eventually_async([&] { return settled(ms, 6); }, 60s, 20ms);
      CO_ASSERT(done);
    }
    {
      const bool done = co_await wait_for_state(admin, group, AdminGroupState::stable);
      CO_ASSERT(done);
    }

    ListGroupsOptions consumer_only;
    consumer_only.types = {GroupType::consumer};
    const auto listed = co_await admin.list_groups(consumer_only);
    const GroupListing* l = find_listing(listed, group);
    CO_ASSERT(l != nullptr);
    EXPECT_EQ(l->type, GroupType::consumer);
    EXPECT_EQ(l->type_name, "consumer");
    EXPECT_EQ(l->state, AdminGroupState::stable);
    EXPECT_EQ(l->protocol_type, "consumer");
    ListGroupsOptions classic_only;
    classic_only.types = {GroupType::classic};
    const auto classic = co_await admin.list_groups(classic_only);
    EXPECT_EQ(find_listing(classic, group), nullptr);

    std::vector<std::string> ids{group};
    const auto d = co_await admin.describe_groups(ids);
    CO_ASSERT(d.size() == 1u);
    EXPECT_TRUE(d[0].ok()) << d[0].error_message;
    EXPECT_EQ(d[0].type, GroupType::consumer);
    EXPECT_EQ(d[0].state, AdminGroupState::stable);
    EXPECT_EQ(d[0].protocol_type, "consumer");
    EXPECT_EQ(d[0].protocol, "range");  // the coordinator's assignor, as the members asked
    CO_ASSERT(d[0].group_epoch.has_value() && d[0].assignment_epoch.has_value());
    EXPECT_GE(*d[0].group_epoch, 1);
    EXPECT_EQ(*d[0].assignment_epoch, *d[0].group_epoch);  // stable: the assignment is current
    CO_ASSERT(d[0].coordinator.has_value());
    EXPECT_EQ(d[0].coordinator->node_id, 1);
    EXPECT_FALSE(d[0].authorized_operations.known);  // not asked for
    CO_ASSERT(d[0].members.size() == 2u);
    std::set<TopicPartition> assigned;
    bool saw_static = false;
    for (const auto& mem : d[0].members) {
      EXPECT_FALSE(mem.member_id.empty());
      EXPECT_EQ(mem.client_id, "admin-b-848");
      EXPECT_FALSE(mem.host.empty());
      CO_ASSERT(mem.member_epoch.has_value());
      EXPECT_GE(*mem.member_epoch, 1);
      CO_ASSERT(mem.target_assignment.has_value());
      EXPECT_EQ(*mem.target_assignment, mem.assignment);  // stable: nothing moving
      EXPECT_EQ(mem.assignment.size(), 3u);
      EXPECT_EQ(mem.subscribed_topics, std::vector<std::string>{topic});
      EXPECT_TRUE(mem.raw_assignment.empty());
      assigned.insert(mem.assignment.begin(), mem.assignment.end());
      if (mem.group_instance_id) {
        EXPECT_EQ(*mem.group_instance_id, instance);
        saw_static = true;
      }
    }
    EXPECT_TRUE(saw_static);
    EXPECT_EQ(assigned.size(), 6u);
    for (auto& m : ms.all) co_await leave(*m);
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 120s));
}

// ---- offsets and deletion ----

asio::awaitable<bool> offsets_scenario(const Rig& rig, GroupProtocol protocol) {
  const std::string topic = unique_name("admin-off");
  const std::string other = unique_name("admin-off-other");
  const std::string group = unique_name("admin-off");
  const std::string missing = unique_name("admin-off-missing");
  Admin admin(co_await asio::this_coro::executor, admin_config(rig));
  co_await admin.start();
  {
    const bool done = co_await create(admin, topic, 3);
    CO_ASSERT(done);
  }
  {
    const bool done = co_await create(admin, other, 1);
    CO_ASSERT(done);
  }
  const TopicPartition t0(topic, 0);
  const TopicPartition t1(topic, 1);
  const TopicPartition t2(topic, 2);
  const TopicPartition u0(other, 0);

  // An offset committed by the admin before the group has members creates the group.
  std::vector<NewGroupOffset> first{NewGroupOffset(u0, 7, "u-meta")};
  const auto pre = co_await admin.alter_consumer_group_offsets(group, first);
  CO_ASSERT(pre.size() == 1u);
  EXPECT_TRUE(pre[0].ok()) << pre[0].error_message;

  Members ms;
  const ConsumerConfig cfg = member_config(rig, group, protocol);
  const auto member = co_await join(ms, cfg, topic);
  {
    const bool done = co_await eventually_async([&] { return settled(ms, 3); }, 60s, 20ms);
    CO_ASSERT(done);
  }
  std::map<TopicPartition, OffsetAndMetadata> commits{{t0, OffsetAndMetadata(10, "m0")}, {t1, OffsetAndMetadata(20)},
                                                      {t2, OffsetAndMetadata(30, "m2")}};
  co_await member->consumer->commit(commits);

  // Every committed partition, sorted, with metadata.
  const auto all = co_await admin.list_consumer_group_offsets(group);
  CO_ASSERT(all.size() == 4u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.partition < y.partition; }));
  for (const auto& o : all) EXPECT_TRUE(o.ok()) << o.error_message;
  CO_ASSERT(find_offset(all, t0) && find_offset(all, t2) && find_offset(all, u0));
  EXPECT_EQ(find_offset(all, t0)->offset, 10);
  EXPECT_EQ(find_offset(all, t0)->metadata, "m0");
  EXPECT_EQ(find_offset(all, t2)->offset, 30);
  EXPECT_EQ(find_offset(all, u0)->offset, 7);
  EXPECT_EQ(find_offset(all, u0)->metadata, "u-meta");
  // Asked partitions, in the order given; -1 where nothing is committed.
  const TopicPartition nothing(topic, 9);
  std::vector<TopicPartition> asked{t2, nothing, t0};
  const auto some = co_await admin.list_consumer_group_offsets(group, asked, {.require_stable = true});
  CO_ASSERT(some.size() == 3u);
  EXPECT_EQ(some[0].partition, t2);
  EXPECT_EQ(some[0].offset, 30);
  EXPECT_EQ(some[1].partition, nothing);
  EXPECT_FALSE(some[1].committed());
  EXPECT_EQ(some[2].offset, 10);

  // While the group has a member: the admin may not commit, nor delete a subscribed topic's
  // offsets, nor delete the group.
  std::vector<NewGroupOffset> active{NewGroupOffset(t0, 5)};
  const auto refused = co_await admin.alter_consumer_group_offsets(group, active);
  CO_ASSERT(refused.size() == 1u);
  EXPECT_FALSE(refused[0].ok());
  // Both protocols (Kafka 4.3): an admin commit (no member id, generation -1) to a group with
  // members is refused as from an unknown member.
  EXPECT_EQ(refused[0].error, kafka_errc::unknown_member_id) << refused[0].error_message;
  EXPECT_TRUE(has_text(refused[0].error_message, "group '" + group + "' topic '" + topic + "' partition 0"))
      << refused[0].error_message;
  std::vector<TopicPartition> del_active{t1, u0};
  const auto del1 = co_await admin.delete_consumer_group_offsets(group, del_active);
  CO_ASSERT(del1.size() == 2u);
  EXPECT_EQ(del1[0].error, kafka_errc::group_subscribed_to_topic) << del1[0].error_message;
  EXPECT_TRUE(del1[1].ok()) << del1[1].error_message;  // not subscribed: deleted
  std::vector<std::string> just_group{group};
  const auto busy = co_await admin.delete_groups(just_group);
  CO_ASSERT(busy.size() == 1u);
  EXPECT_EQ(busy[0].error, kafka_errc::non_empty_group) << busy[0].error_message;

  // Once it is empty, the admin commits and deletes.
  co_await leave(*member);
  {
    const bool done = co_await wait_for_state(admin, group, AdminGroupState::empty);
    CO_ASSERT(done);
  }
  const std::string no_topic = unique_name("admin-off-none");
  std::vector<NewGroupOffset> offsets{NewGroupOffset(t0, 5, "reset", 0), NewGroupOffset(t1, 6),
                                      NewGroupOffset(TopicPartition(no_topic, 0), 1), NewGroupOffset(t2, -3)};
  const auto altered = co_await admin.alter_consumer_group_offsets(group, offsets);
  CO_ASSERT(altered.size() == 4u);
  EXPECT_TRUE(altered[0].ok()) << altered[0].error_message;
  EXPECT_TRUE(altered[1].ok()) << altered[1].error_message;
  EXPECT_EQ(altered[2].error, kafka_errc::unknown_topic_or_partition) << altered[2].error_message;
  EXPECT_TRUE(has_text(altered[2].error_message, no_topic)) << altered[2].error_message;
  EXPECT_EQ(altered[3].error, client_errc::invalid_argument) << altered[3].error_message;
  std::vector<TopicPartition> check{t0, t1, u0, t2};
  const auto after = co_await admin.list_consumer_group_offsets(group, check);
  CO_ASSERT(after.size() == 4u);
  EXPECT_EQ(after[0].offset, 5);
  EXPECT_EQ(after[0].metadata, "reset");
  EXPECT_EQ(after[0].leader_epoch, std::optional<std::int32_t>(0));
  EXPECT_EQ(after[1].offset, 6);
  EXPECT_FALSE(after[1].leader_epoch.has_value());
  EXPECT_FALSE(after[2].committed());  // deleted above
  EXPECT_EQ(after[3].offset, 30);      // the refused commit changed nothing
  std::vector<TopicPartition> del_t0{t0};
  const auto del2 = co_await admin.delete_consumer_group_offsets(group, del_t0);
  CO_ASSERT(del2.size() == 1u);
  EXPECT_TRUE(del2[0].ok()) << del2[0].error_message;
  const auto gone = co_await admin.list_consumer_group_offsets(group, del_t0);
  CO_ASSERT(gone.size() == 1u);
  EXPECT_FALSE(gone[0].committed());

  // Deleting groups: one result each.
  std::vector<std::string> del_ids{group, missing, ""};
  const auto deleted = co_await admin.delete_groups(del_ids);
  CO_ASSERT(deleted.size() == 3u);
  EXPECT_TRUE(deleted[0].ok()) << deleted[0].error_message;
  EXPECT_EQ(deleted[1].error, kafka_errc::group_id_not_found) << deleted[1].error_message;
  EXPECT_TRUE(has_text(deleted[1].error_message, "group '" + missing + "'")) << deleted[1].error_message;
  EXPECT_EQ(deleted[2].error, client_errc::invalid_argument) << deleted[2].error_message;
  const auto described = co_await admin.describe_groups(just_group);
  EXPECT_EQ(described.at(0).error, kafka_errc::group_id_not_found) << described.at(0).error_message;
  const auto none = co_await admin.list_consumer_group_offsets(group);
  EXPECT_TRUE(none.empty());

  // Group-level errors of one-group operations fail the operation, naming the group.
  const auto unknown = co_await admin.delete_consumer_group_offsets(missing, del_t0, {},
                                                                    asio::as_tuple(asio::use_awaitable));
  EXPECT_EQ(std::get<0>(unknown), kafka_errc::group_id_not_found);
  const std::vector<TopicPartition> every;
  const std::string no_id;
  const auto empty_id = co_await admin.list_consumer_group_offsets(no_id, every, {}, asio::as_tuple(asio::use_awaitable));
  EXPECT_EQ(std::get<0>(empty_id), client_errc::invalid_argument);
  co_return true;
}

TEST(AdminGroups, ClassicGroupOffsetsAreListedAlteredAndDeletedAndTheGroupDeletedOnceEmpty) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  EXPECT_TRUE(run_async(offsets_scenario(rig, GroupProtocol::classic), 120s));
}

TEST(AdminGroups, Kip848GroupOffsetsAreListedAlteredAndDeletedAndTheGroupDeletedOnceEmpty) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  EXPECT_TRUE(run_async(offsets_scenario(rig, GroupProtocol::consumer), 120s));
}

// ---- static members ----

asio::awaitable<bool> remove_members_scenario(const Rig& rig, GroupProtocol protocol) {
  const std::string topic = unique_name("admin-rm");
  const std::string group = unique_name("admin-rm");
  const std::string first = unique_name("inst-a");
  const std::string second = unique_name("inst-b");
  const std::string stranger = unique_name("inst-x");
  {
    Admin admin(co_await asio::this_coro::executor, admin_config(rig));
    co_await admin.start();
    {
      const bool done = co_await create(admin, topic, 2);
      CO_ASSERT(done);
    }
    Members ms;
    ConsumerConfig a = member_config(rig, group, protocol);
    a.group_instance_id = first;
    ConsumerConfig b = a;
    b.group_instance_id = second;
    (void)co_await join(ms, a, topic);
    (void)co_await join(ms, b, topic);
    {
      const bool done = co_await eventually_async([&] { return settled(ms, 2); }, 60s, 20ms);
      CO_ASSERT(done);
    }
    // Static members stay in the group when their consumers stop (until the session ends;
    // KIP-848: as members with epoch -2).
    for (auto& m : ms.all) co_await leave(*m);
    std::vector<std::string> ids{group};
    const auto before = co_await admin.describe_groups(ids);
    CO_ASSERT(before.at(0).ok());
    CO_ASSERT(before[0].members.size() == 2u);

    std::vector<std::string> remove{first, stranger};
    const auto removed = co_await admin.remove_members_from_consumer_group(group, remove);
    CO_ASSERT(removed.size() == 2u);
    EXPECT_TRUE(removed[0].ok()) << removed[0].error_message;
    EXPECT_EQ(removed[0].group_instance_id, std::optional<std::string>(first));
    EXPECT_EQ(removed[1].error, kafka_errc::unknown_member_id) << removed[1].error_message;
    EXPECT_TRUE(has_text(removed[1].error_message, stranger)) << removed[1].error_message;
    const auto middle = co_await admin.describe_groups(ids);
    CO_ASSERT(middle.at(0).ok());
    CO_ASSERT(middle[0].members.size() == 1u);
    EXPECT_EQ(middle[0].members[0].group_instance_id, std::optional<std::string>(second));

    const auto rest = co_await admin.remove_all_members_from_consumer_group(group);
    CO_ASSERT(rest.size() == 1u);
    EXPECT_TRUE(rest[0].ok()) << rest[0].error_message;
    EXPECT_EQ(rest[0].group_instance_id, std::optional<std::string>(second));
    EXPECT_EQ(rest[0].member_id, middle[0].members[0].member_id);
    const auto after = co_await admin.describe_groups(ids);
    CO_ASSERT(after.at(0).ok());
    EXPECT_TRUE(after[0].members.empty());
    EXPECT_EQ(after[0].state, AdminGroupState::empty);
    // Nothing left to remove; an empty list is refused rather than read as "everyone".
    const auto nobody = co_await admin.remove_all_members_from_consumer_group(group);
    EXPECT_TRUE(nobody.empty());
    std::vector<std::string> no_ids;
    const auto refused = co_await admin.remove_members_from_consumer_group(group, no_ids, {},
                                                                          asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(std::get<0>(refused), client_errc::invalid_argument);
    const std::string no_group = unique_name("admin-rm-missing");
    const auto unknown = co_await admin.remove_all_members_from_consumer_group(no_group, {},
                                                                              asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(std::get<0>(unknown), kafka_errc::group_id_not_found);
  }
  co_return true;
}

TEST(AdminGroups, RemovesClassicStaticMembersByInstanceIdAndThenEveryMember) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  EXPECT_TRUE(run_async(remove_members_scenario(rig, GroupProtocol::classic), 120s));
}

TEST(AdminGroups, RemovesKip848StaticMembersByInstanceIdAndThenEveryMember) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  EXPECT_TRUE(run_async(remove_members_scenario(rig, GroupProtocol::consumer), 120s));
}

// ---- what a real single broker does not do: coordinator errors, an old broker ----

/// A consumer-protocol payload: the version prefix, then the body of `version` (a newer
/// version than the client knows carries fields after the known ones).
template <class Message>
std::vector<std::uint8_t> consumer_payload(const Message& m, std::int16_t version, std::size_t extra = 0) {
  std::vector<std::uint8_t> out{static_cast<std::uint8_t>(version >> 8), static_cast<std::uint8_t>(version & 0xff)};
  EXPECT_FALSE(m.encode(out, std::min<std::int16_t>(version, 3)));
  out.insert(out.end(), extra, std::uint8_t{0x7f});
  return out;
}

// A fake broker without KIP-848 (no ConsumerGroupDescribe) and with ListGroups v3 (no state or
// type filters), whose coordinator first answers "loading", then "not coordinator" (per group,
// inside the answers), then the answer.
struct OldCoordinator {
  FakeBroker broker;
  int describes = 0;
  int offset_fetches = 0;
  int offset_commits = 0;
  int finds = 0;

  explicit OldCoordinator(const asio::any_io_executor& ex) : broker(ex) {
    broker.on_request([this](FakeSession& s, const FakeRequest& r) { answer(s, r); });
  }

  void answer(FakeSession& s, const FakeRequest& r) {
    switch (r.api_key) {
      case msg::ApiVersionsRequest::api_key: {
        msg::ApiVersionsResponse v;
        for (const auto& api : protocol::supported_apis) {
          if (api.api_key == msg::ConsumerGroupDescribeRequest::api_key) continue;
          msg::ApiVersionsResponse::ApiVersion a;
          a.api_key = api.api_key;
          a.min_version = api.min_version;
          a.max_version = api.api_key == msg::ListGroupsRequest::api_key ? std::int16_t{3} : api.max_version;
          v.api_keys.push_back(a);
        }
        s.respond(r, v);
        return;
      }
      case msg::MetadataRequest::api_key:
        s.answer_single_broker_metadata(r, broker.port(), "t", 2);
        return;
      case msg::FindCoordinatorRequest::api_key: {
        ++finds;
        msg::FindCoordinatorRequest req;
        EXPECT_FALSE(req.decode(r.body, r.api_version));
        msg::FindCoordinatorResponse resp;
        if (r.api_version >= 4) {
          for (const auto& k : req.coordinator_keys) {
            msg::FindCoordinatorResponse::Coordinator c;
            c.key = k;
            c.node_id = 0;
            c.host = "127.0.0.1";
            c.port = broker.port();
            resp.coordinators.push_back(c);
          }
        } else {
          resp.node_id = 0;
          resp.host = "127.0.0.1";
          resp.port = broker.port();
        }
        s.respond(r, resp);
        return;
      }
      case msg::ListGroupsRequest::api_key: {
        msg::ListGroupsResponse resp;
        msg::ListGroupsResponse::ListedGroup g;
        g.group_id = "g";
        g.protocol_type = "consumer";
        resp.groups.push_back(g);
        s.respond(r, resp);
        return;
      }
      case msg::DescribeGroupsRequest::api_key: {
        msg::DescribeGroupsResponse resp;
        msg::DescribeGroupsResponse::DescribedGroup g;
        g.group_id = "g";
        ++describes;
        if (describes == 1) {
          g.error_code = static_cast<std::int16_t>(kafka_errc::coordinator_load_in_progress);
        } else if (describes == 2) {
          g.error_code = static_cast<std::int16_t>(kafka_errc::not_coordinator);
        } else {
          g.group_state = "Stable";
          g.protocol_type = "consumer";
          g.protocol_data = "range";
          msg::DescribeGroupsResponse::DescribedGroupMember m;
          m.member_id = "m-1";
          m.client_id = "c";
          m.client_host = "/127.0.0.1";
          msg::ConsumerProtocolSubscription sub;
          sub.topics = {"t"};
          m.member_metadata = consumer_payload(sub, 1);
          msg::ConsumerProtocolAssignment a;
          msg::ConsumerProtocolAssignment::TopicPartition tp;
          tp.topic = "t";
          tp.partitions = {1, 0};
          a.assigned_partitions.push_back(tp);
          m.member_assignment = consumer_payload(a, 7, 5);  // a future version: fields follow
          g.members.push_back(m);
        }
        resp.groups.push_back(g);
        s.respond(r, resp);
        return;
      }
      case msg::OffsetFetchRequest::api_key: {
        ++offset_fetches;
        msg::OffsetFetchResponse resp;
        EXPECT_GE(r.api_version, 8);
        msg::OffsetFetchResponse::OffsetFetchResponseGroup g;
        g.group_id = "g";
        if (offset_fetches == 1) {
          g.error_code = static_cast<std::int16_t>(kafka_errc::coordinator_load_in_progress);
        } else {
          msg::OffsetFetchResponse::OffsetFetchResponseTopics t;
          t.name = "t";
          msg::OffsetFetchResponse::OffsetFetchResponsePartitions p;
          p.partition_index = 1;
          p.committed_offset = 42;
          p.metadata = "m";
          t.partitions.push_back(p);
          g.topics.push_back(t);
        }
        resp.groups.push_back(g);
        s.respond(r, resp);
        return;
      }
      case msg::OffsetCommitRequest::api_key: {
        ++offset_commits;
        msg::OffsetCommitRequest req;
        EXPECT_FALSE(req.decode(r.body, r.api_version));
        msg::OffsetCommitResponse resp;
        for (const auto& t : req.topics) {
          msg::OffsetCommitResponse::OffsetCommitResponseTopic rt;
          rt.name = t.name;
          for (const auto& p : t.partitions) {
            msg::OffsetCommitResponse::OffsetCommitResponsePartition rp;
            rp.partition_index = p.partition_index;
            if (offset_commits == 1) rp.error_code = static_cast<std::int16_t>(kafka_errc::not_coordinator);
            rt.partitions.push_back(rp);
          }
          resp.topics.push_back(rt);
        }
        s.respond(r, resp);
        return;
      }
      default:
        ADD_FAILURE() << "unexpected API " << r.api_key;
    }
  }

  int count(std::int16_t api_key) const {
    return static_cast<int>(std::count_if(broker.requests().begin(), broker.requests().end(),
                                          [&](const FakeRequest& r) { return r.api_key == api_key; }));
  }
};

TEST(AdminGroups, CoordinatorErrorsInsideAnswersAreAskedAgainAndAnOldBrokerRefusesFilters) {
  auto body = []() -> asio::awaitable<bool> {
    const auto ex = co_await asio::this_coro::executor;
    OldCoordinator fake(ex);
    AdminConfig cfg;
    cfg.bootstrap_servers = "127.0.0.1:" + std::to_string(fake.broker.port());
    cfg.default_api_timeout = 10s;
    cfg.retry_backoff = 20ms;
    Admin admin(ex, cfg);
    co_await admin.start();

    // ListGroups v3 lists without state or type; filters it cannot carry are refused.
    const auto all = co_await admin.list_groups();
    CO_ASSERT(all.size() == 1u);
    EXPECT_EQ(all[0].group_id, "g");
    EXPECT_EQ(all[0].state, AdminGroupState::unknown);
    EXPECT_EQ(all[0].type, GroupType::unknown);
    ListGroupsOptions by_state;
    by_state.states = {AdminGroupState::stable};
    const auto refused = co_await admin.list_groups(by_state, asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(std::get<0>(refused), client_errc::unsupported_version);
    ListGroupsOptions by_type;
    by_type.types = {GroupType::classic};
    const auto refused_type = co_await admin.list_groups(by_type, asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(std::get<0>(refused_type), client_errc::unsupported_version);

    // Without ConsumerGroupDescribe: DescribeGroups, asked again after "loading" and after
    // "not coordinator" (which makes the client find the coordinator again).
    std::vector<std::string> ids{"g"};
    const int finds_before = fake.finds;
    const auto d = co_await admin.describe_groups(ids);
    CO_ASSERT(d.size() == 1u);
    EXPECT_TRUE(d[0].ok()) << d[0].error_message;
    EXPECT_EQ(fake.describes, 3);
    EXPECT_EQ(fake.count(msg::ConsumerGroupDescribeRequest::api_key), 0);
    EXPECT_GE(fake.finds - finds_before, 2);
    EXPECT_EQ(d[0].type, GroupType::classic);
    EXPECT_EQ(d[0].state, AdminGroupState::stable);
    EXPECT_EQ(d[0].protocol, "range");
    CO_ASSERT(d[0].members.size() == 1u);
    const std::vector<TopicPartition> expected{TopicPartition("t", 0), TopicPartition("t", 1)};
    EXPECT_EQ(d[0].members[0].assignment, expected);  // a newer payload version, read as v3
    EXPECT_EQ(d[0].members[0].subscribed_topics, std::vector<std::string>{"t"});

    // OffsetFetch: the group's "loading" is asked again.
    const auto offsets = co_await admin.list_consumer_group_offsets("g");
    CO_ASSERT(offsets.size() == 1u);
    EXPECT_TRUE(offsets[0].ok()) << offsets[0].error_message;
    EXPECT_EQ(offsets[0].partition, TopicPartition("t", 1));
    EXPECT_EQ(offsets[0].offset, 42);
    EXPECT_EQ(offsets[0].metadata, "m");
    EXPECT_EQ(fake.offset_fetches, 2);

    // OffsetCommit: a partition's NOT_COORDINATOR is committed again.
    std::vector<NewGroupOffset> commit{NewGroupOffset(TopicPartition("t", 0), 5)};
    const auto committed = co_await admin.alter_consumer_group_offsets("g", commit);
    CO_ASSERT(committed.size() == 1u);
    EXPECT_TRUE(committed[0].ok()) << committed[0].error_message;
    EXPECT_EQ(fake.offset_commits, 2);
    co_await admin.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

// ---- transactions ----

bool rdk_ok(rd_kafka_error_t* e, const char* what) {
  if (e == nullptr) return true;
  ADD_FAILURE() << what << ": " << rd_kafka_error_string(e);
  rd_kafka_error_destroy(e);
  return false;
}

/// A librdkafka transactional producer with an open transaction holding `count` records on
/// partition 0 of `topic` (flushed, neither committed nor aborted). abandon() destroys the
/// producer without ending the transaction: it hangs until transaction.timeout.ms (5 min).
struct OpenTransaction {
  rd_kafka_t* rk = nullptr;
  bool ok = false;
  OpenTransaction(const Rig& rig, const std::string& txn_id, const std::string& topic, int count) {
    char err[512];
    rd_kafka_conf_t* conf = rdk_conf(rig.bootstrap("PLAINTEXT"),
                                     {{"transactional.id", txn_id}, {"transaction.timeout.ms", "300000"}, {"linger.ms", "1"}});
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk == nullptr) {
      ADD_FAILURE() << err;
      return;
    }
    ok = rdk_ok(rd_kafka_init_transactions(rk, 30000), "init_transactions") &&
         rdk_ok(rd_kafka_begin_transaction(rk), "begin_transaction");
    for (int i = 0; ok && i < count; ++i) {
      std::string value = "txn-" + std::to_string(i);
      ok = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                             RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    if (ok) ok = rd_kafka_flush(rk, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR;
  }
  void abandon() {
    if (rk != nullptr) rd_kafka_destroy(rk);
    rk = nullptr;
  }
  ~OpenTransaction() { abandon(); }
  OpenTransaction(const OpenTransaction&) = delete;
  OpenTransaction& operator=(const OpenTransaction&) = delete;
};

/// The partition's last stable offset and high watermark (ListOffsets latest, read_committed
/// and read_uncommitted).
asio::awaitable<std::pair<std::int64_t, std::int64_t>> lso_and_hw(Client& client, const std::string& topic) {
  std::int64_t out[2] = {-1, -1};
  for (int level = 0; level < 2; ++level) {
    msg::ListOffsetsRequest req;
    req.replica_id = -1;
    req.isolation_level = static_cast<std::int8_t>(1 - level);  // committed first
    msg::ListOffsetsRequest::ListOffsetsTopic t;
    t.name = topic;
    msg::ListOffsetsRequest::ListOffsetsPartition p;
    p.partition_index = 0;
    p.timestamp = -1;
    t.partitions.push_back(p);
    req.topics.push_back(t);
    const auto r = co_await client.send_to_leader(topic, 0, req);
    if (r->topics.size() == 1 && r->topics[0].partitions.size() == 1 && r->topics[0].partitions[0].error_code == 0) {
      out[level] = r->topics[0].partitions[0].offset;
    }
  }
  co_return std::make_pair(out[0], out[1]);
}

TEST(AdminTransactions, AnOpenTransactionIsListedDescribedSeenByDescribeProducersAndAborted) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_name("admin-txn");
  const std::string txn_id = unique_name("admin-txn-id");
  const std::string missing_id = unique_name("admin-txn-missing");
  ASSERT_EQ(create_topic_rdk(rig.bootstrap("PLAINTEXT"), topic, 1, 1), "");
  OpenTransaction txn(rig, txn_id, topic, 5);
  ASSERT_TRUE(txn.ok);
  txn.abandon();  // the producer is gone; its transaction stays open at the coordinator
  auto body = [&]() -> asio::awaitable<bool> {
    const auto ex = co_await asio::this_coro::executor;
    Admin admin(ex, admin_config(rig));
    co_await admin.start();
    ClientConfig cc;
    cc.bootstrap_servers = rig.bootstrap("PLAINTEXT");
    Client client(ex, cc);
    co_await client.start();
    const TopicPartition tp(topic, 0);

    // list_transactions: every broker's, filtered by state, producer id and duration.
    const auto listed = co_await admin.list_transactions();
    auto it = std::find_if(listed.begin(), listed.end(), [&](const auto& l) { return l.transactional_id == txn_id; });
    CO_ASSERT(it != listed.end());
    EXPECT_EQ(it->state, TransactionState::ongoing) << it->state_name;
    EXPECT_EQ(it->state_name, "Ongoing");
    const std::int64_t pid = it->producer_id;
    EXPECT_GE(pid, 0);
    ListTransactionsOptions ongoing;
    ongoing.states = {TransactionState::ongoing};
    std::vector<std::int64_t> pids{pid};
    const auto mine = co_await admin.list_transactions(pids, ongoing);
    CO_ASSERT(mine.size() == 1u);
    EXPECT_EQ(mine[0].transactional_id, txn_id);
    ListTransactionsOptions committed;
    committed.states = {TransactionState::complete_commit, TransactionState::empty};
    const auto not_mine = co_await admin.list_transactions(pids, committed);
    EXPECT_TRUE(not_mine.empty());
    ListTransactionsOptions long_running;
    long_running.running_longer_than = 1h;
    const auto none_that_long = co_await admin.list_transactions(pids, long_running);
    EXPECT_TRUE(none_that_long.empty());
    long_running.running_longer_than = 0ms;
    const auto any_length = co_await admin.list_transactions(pids, long_running);
    EXPECT_EQ(any_length.size(), 1u);

    // describe_transactions: on the transaction coordinator.
    std::vector<std::string> ids{txn_id, missing_id, ""};
    const auto d = co_await admin.describe_transactions(ids);
    CO_ASSERT(d.size() == 3u);
    EXPECT_TRUE(d[0].ok()) << d[0].error_message;
    EXPECT_EQ(d[0].state, TransactionState::ongoing);
    EXPECT_EQ(d[0].producer_id, pid);
    EXPECT_GE(d[0].producer_epoch, 0);
    EXPECT_EQ(d[0].transaction_timeout, 300'000ms);
    EXPECT_TRUE(d[0].transaction_start_time_ms.has_value());
    EXPECT_EQ(d[0].partitions, std::vector<TopicPartition>{tp});
    CO_ASSERT(d[0].coordinator.has_value());
    EXPECT_EQ(d[0].coordinator->node_id, 1);
    EXPECT_EQ(d[1].error, kafka_errc::transactional_id_not_found) << d[1].error_message;
    EXPECT_TRUE(has_text(d[1].error_message, "transactional id '" + missing_id + "'")) << d[1].error_message;
    EXPECT_EQ(d[2].error, client_errc::invalid_argument) << d[2].error_message;

    // describe_producers: on the partition's leader.
    const std::string no_topic = unique_name("admin-txn-none");
    std::vector<TopicPartition> parts{tp, TopicPartition(topic, 7), TopicPartition(no_topic, 0),
                                      TopicPartition(topic, -1)};
    const auto producers = co_await admin.describe_producers(parts);
    CO_ASSERT(producers.size() == 4u);
    EXPECT_EQ(producers[3].error, client_errc::invalid_argument) << producers[3].error_message;
    EXPECT_TRUE(producers[0].ok()) << producers[0].error_message;
    auto ps = std::find_if(producers[0].producers.begin(), producers[0].producers.end(),
                           [&](const ProducerState& s) { return s.producer_id == pid; });
    CO_ASSERT(ps != producers[0].producers.end());
    EXPECT_EQ(ps->producer_epoch, d[0].producer_epoch);
    EXPECT_EQ(ps->last_sequence, 4);  // five records
    EXPECT_GT(ps->last_timestamp_ms, 0);
    EXPECT_EQ(ps->current_transaction_start_offset, std::optional<std::int64_t>(0));
    EXPECT_EQ(producers[1].error, kafka_errc::unknown_topic_or_partition) << producers[1].error_message;
    EXPECT_TRUE(has_text(producers[1].error_message, "partition 7")) << producers[1].error_message;
    EXPECT_EQ(producers[2].error, kafka_errc::unknown_topic_or_partition) << producers[2].error_message;
    // Asked of a given broker (here the leader itself).
    std::vector<TopicPartition> just_tp{tp};
    const auto on_node = co_await admin.describe_producers(just_tp, {.broker_id = 1});
    CO_ASSERT(on_node.size() == 1u);
    EXPECT_TRUE(on_node[0].ok()) << on_node[0].error_message;
    EXPECT_FALSE(on_node[0].producers.empty());

    // The open transaction holds the last stable offset at its first record.
    const auto held = co_await lso_and_hw(client, topic);
    EXPECT_EQ(held.first, 0);
    EXPECT_EQ(held.second, 5);

    // Bad input is refused before anything is sent.
    const auto bad = co_await admin.abort_transaction(AbortTransactionSpec(tp, -1, 0, 0));
    EXPECT_EQ(bad.error, client_errc::invalid_argument) << bad.error_message;
    // Abort it as an operator would a hanging transaction (KIP-664), with the producer's
    // epochs as describe_producers reports them (no marker yet: coordinator epoch 0).
    const AbortTransactionSpec spec(tp, pid, static_cast<std::int16_t>(ps->producer_epoch),
                                    ps->coordinator_epoch.value_or(0));
    const auto aborted = co_await admin.abort_transaction(spec);
    EXPECT_TRUE(aborted.ok()) << aborted.error_message;
    EXPECT_EQ(aborted.partition, tp);
    // The marker moves the last stable offset past the transaction (to the high watermark).
    const auto moved = co_await lso_and_hw(client, topic);
    EXPECT_EQ(moved.second, 6);  // five records and the abort marker
    EXPECT_EQ(moved.first, moved.second);
    const auto after = co_await admin.describe_producers(just_tp);
    CO_ASSERT(after.size() == 1u && after[0].ok());
    auto ps2 = std::find_if(after[0].producers.begin(), after[0].producers.end(),
                            [&](const ProducerState& s) { return s.producer_id == pid; });
    CO_ASSERT(ps2 != after[0].producers.end());
    EXPECT_FALSE(ps2->current_transaction_start_offset.has_value());
    // The marker ended the transaction on the partition only: its coordinator still counts it
    // as ongoing until it times out (what KIP-664's abort is for: hanging partitions).
    std::vector<std::string> just_txn{txn_id};
    const auto still = co_await admin.describe_transactions(just_txn);
    CO_ASSERT(still.size() == 1u && still[0].ok());
    EXPECT_EQ(still[0].state, TransactionState::ongoing);
    co_await client.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 120s));
}

// fence_producers bumps the transactional id's epoch: the coordinator aborts the producer's
// open transaction and the producer, still on the old epoch, can no longer commit.
TEST(AdminTransactions, FencingBumpsTheEpochAbortsTheOpenTransactionAndFencesTheProducer) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_name("admin-fence");
  const std::string txn_id = unique_name("admin-fence-id");
  ASSERT_EQ(create_topic_rdk(rig.bootstrap("PLAINTEXT"), topic, 1, 1), "");
  OpenTransaction txn(rig, txn_id, topic, 3);  // kept alive: the producer is still there
  ASSERT_TRUE(txn.ok);
  std::int16_t old_epoch = -1;
  auto body = [&]() -> asio::awaitable<bool> {
    const auto ex = co_await asio::this_coro::executor;
    Admin admin(ex, admin_config(rig));
    co_await admin.start();
    std::vector<std::string> just_txn{txn_id};
    const auto before = co_await admin.describe_transactions(just_txn);
    CO_ASSERT(before.size() == 1u && before[0].ok());
    EXPECT_EQ(before[0].state, TransactionState::ongoing);
    old_epoch = before[0].producer_epoch;

    std::vector<std::string> ids{txn_id, ""};
    const auto fenced = co_await admin.fence_producers(ids, {.transaction_timeout = 30s});
    CO_ASSERT(fenced.size() == 2u);
    EXPECT_TRUE(fenced[0].ok()) << fenced[0].error_message;
    EXPECT_EQ(fenced[0].transactional_id, txn_id);
    EXPECT_EQ(fenced[0].producer_id, before[0].producer_id);
    EXPECT_GT(fenced[0].producer_epoch, old_epoch);
    EXPECT_EQ(fenced[1].error, client_errc::invalid_argument) << fenced[1].error_message;

    // The coordinator aborted the open transaction: nothing is ongoing for the id any more.
    const auto after = co_await admin.describe_transactions(just_txn);
    CO_ASSERT(after.size() == 1u && after[0].ok());
    EXPECT_NE(after[0].state, TransactionState::ongoing) << after[0].state_name;
    EXPECT_EQ(after[0].producer_epoch, fenced[0].producer_epoch);
    co_await admin.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 90s));
  // The old producer is fenced: its commit fails (librdkafka reports a fatal fencing error).
  rd_kafka_error_t* e = rd_kafka_commit_transaction(txn.rk, 20000);
  ASSERT_NE(e, nullptr) << "the fenced producer still committed";
  EXPECT_TRUE(rd_kafka_error_is_fatal(e) || rd_kafka_error_txn_requires_abort(e)) << rd_kafka_error_string(e);
  rd_kafka_error_destroy(e);
}

}  // namespace
}  // namespace asiokafka::test
