// The sticky and cooperative-sticky assignors (src/consumer/sansio/sticky_assignor): Java's
// documented StickyAssignor examples, generations deciding between claims, the Java user-data
// layouts, KIP-429 withholding; and seeded random groups checked for validity, completeness,
// optimal balance and the minimum number of moved partitions.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <deque>
#include <map>
#include <random>
#include <set>

#include "assignor_helpers.hpp"
#include "consumer/sansio/sticky_assignor.hpp"

namespace asiokafka::test {
namespace {

using bytes = std::vector<std::uint8_t>;

const member_subscription* find_member(const std::vector<member_subscription>& ms, const std::string& id) {
  for (const auto& m : ms) {
    if (m.member_id == id) return &m;
  }
  return nullptr;
}

bool subscribed(const member_subscription& m, const std::string& topic) {
  return std::find(m.topics.begin(), m.topics.end(), topic) != m.topics.end();
}

// Checks every entry is a member, every partition exists, its member subscribes to its topic
// and nobody else has it; returns partition -> member.
std::map<TopicPartition, std::string> check_valid(const group_assignment& r, const partition_counts& counts,
                                                  const std::vector<member_subscription>& members) {
  std::map<TopicPartition, std::string> owner;
  for (const auto& m : members) EXPECT_EQ(r.count(m.member_id), 1u) << m.member_id << " has no entry";
  for (const auto& [id, list] : r) {
    const auto* m = find_member(members, id);
    EXPECT_NE(m, nullptr) << id;
    if (m == nullptr) continue;
    EXPECT_TRUE(std::is_sorted(list.begin(), list.end())) << id;
    for (const auto& p : list) {
      const auto c = counts.find(p.topic);
      EXPECT_TRUE(c != counts.end() && p.partition >= 0 && p.partition < c->second) << p.topic << p.partition;
      EXPECT_TRUE(subscribed(*m, p.topic)) << id << " got " << p.topic;
      EXPECT_TRUE(owner.emplace(p, id).second) << p.topic << "-" << p.partition << " assigned twice";
    }
  }
  return owner;
}

std::size_t subscribed_partitions(const partition_counts& counts, const std::vector<member_subscription>& members) {
  std::size_t n = 0;
  for (const auto& [topic, count] : counts) {
    if (std::any_of(members.begin(), members.end(), [&](const auto& m) { return subscribed(m, topic); })) {
      n += static_cast<std::size_t>(std::max(count, 0));
    }
  }
  return n;
}

// True if some member with load L can pass partitions along a chain to a member with load
// <= L - 2: the assignment could be balanced better.
bool has_cost_reducing_chain(const group_assignment& r, const std::vector<member_subscription>& members) {
  for (const auto& start : members) {
    const auto level = r.at(start.member_id).size();
    std::set<std::string> seen{start.member_id};
    std::deque<std::string> queue{start.member_id};
    while (!queue.empty()) {
      const auto x = queue.front();
      queue.pop_front();
      for (const auto& p : r.at(x)) {
        for (const auto& y : members) {
          if (seen.count(y.member_id) != 0 || !subscribed(y, p.topic)) continue;
          if (r.at(y.member_id).size() + 2 <= level) return true;
          seen.insert(y.member_id);
          queue.push_back(y.member_id);
        }
      }
    }
  }
  return false;
}

std::size_t max_spread(const group_assignment& r) {
  std::size_t lo = SIZE_MAX, hi = 0;
  for (const auto& [id, list] : r) {
    lo = std::min(lo, list.size());
    hi = std::max(hi, list.size());
  }
  return r.empty() ? 0 : hi - lo;
}

// The members' subscriptions owning what `r` gave them, in generation `generation`.
std::vector<member_subscription> owning(std::vector<member_subscription> members, const group_assignment& r,
                                        std::int32_t generation) {
  for (auto& m : members) {
    const auto it = r.find(m.member_id);
    m.owned_partitions = it == r.end() ? tps{} : it->second;
    m.generation = generation;
  }
  return members;
}

// Partitions that a member still present owned before and another member has now.
std::size_t moved(const std::vector<member_subscription>& before, const group_assignment& after) {
  std::map<TopicPartition, std::string> now;
  for (const auto& [id, list] : after) {
    for (const auto& p : list) now[p] = id;
  }
  std::size_t n = 0;
  for (const auto& m : before) {
    for (const auto& p : m.owned_partitions) {
      const auto it = now.find(p);
      if (it != now.end() && it->second != m.member_id) ++n;
    }
  }
  return n;
}

// With equal subscriptions: the fewest moves any balanced assignment of `total` partitions
// needs, when each member owned owned[i] before (see assignors.hpp).
std::size_t minimum_moves(const std::vector<std::size_t>& owned, std::size_t total) {
  const std::size_t m = owned.size();
  const std::size_t quota = total / m, extra = total % m;
  std::size_t excess = 0, over = 0;
  for (const auto o : owned) {
    if (o > quota) {
      excess += o - quota;
      ++over;
    }
  }
  return excess - std::min(extra, over);
}

// StickyAssignor's Javadoc, first example: C0, C1, C2 over t0..t3 (2 partitions each); C1
// leaves, and C0 and C2 keep everything they had.
TEST(StickyAssignor, JavaExampleOneKeepsAllWhenAMemberLeaves) {
  const partition_counts counts{{"t0", 2}, {"t1", 2}, {"t2", 2}, {"t3", 2}};
  const std::vector<std::string> all{"t0", "t1", "t2", "t3"};
  const auto first = run("sticky", counts, {member("C0", all), member("C1", all), member("C2", all)});
  EXPECT_EQ(max_spread(first), 1u);
  // The Javadoc's assignment before C1 leaves, as owned partitions.
  const std::vector<member_subscription> after{
      member("C0", all, {tp("t0", 0), tp("t1", 1), tp("t3", 0)}, 1),
      member("C2", all, {tp("t1", 0), tp("t2", 1)}, 1)};
  const auto r = run("sticky", counts, after);
  check_valid(r, counts, after);
  EXPECT_EQ(r.at("C0").size(), 4u);
  EXPECT_EQ(r.at("C2").size(), 4u);
  for (const auto& m : after) {
    for (const auto& p : m.owned_partitions) EXPECT_EQ(check_valid(r, counts, after).at(p), m.member_id);
  }
}

// The Javadoc's second example: unequal subscriptions.
TEST(StickyAssignor, JavaExampleTwoUnequalSubscriptions) {
  const partition_counts counts{{"t0", 1}, {"t1", 2}, {"t2", 3}};
  const auto r = run("sticky", counts, {member("C0", {"t0"}), member("C1", {"t0", "t1"}), member("C2", {"t0", "t1", "t2"})});
  EXPECT_EQ(r.at("C0"), (tps{tp("t0", 0)}));
  EXPECT_EQ(r.at("C1"), (tps{tp("t1", 0), tp("t1", 1)}));
  EXPECT_EQ(r.at("C2"), (tps{tp("t2", 0), tp("t2", 1), tp("t2", 2)}));
  // C0 leaves: t0p0 goes to C1, nothing else moves.
  const std::vector<member_subscription> after{member("C1", {"t0", "t1"}, r.at("C1"), 1),
                                               member("C2", {"t0", "t1", "t2"}, r.at("C2"), 1)};
  const auto r2 = run("sticky", counts, after);
  EXPECT_EQ(r2.at("C1"), (tps{tp("t0", 0), tp("t1", 0), tp("t1", 1)}));
  EXPECT_EQ(r2.at("C2"), (tps{tp("t2", 0), tp("t2", 1), tp("t2", 2)}));
}

TEST(StickyAssignor, HighestGenerationWinsAClaim) {
  const partition_counts counts{{"t", 4}};
  const std::vector<std::string> t{"t"};
  auto r = run("sticky", counts, {member("A", t, {tp("t", 0), tp("t", 1)}, 5), member("B", t, {tp("t", 1), tp("t", 2)}, 4),
                                  member("C", t, {tp("t", 3)}, 5)});
  EXPECT_EQ(r.at("A"), (tps{tp("t", 0), tp("t", 1)}));
  EXPECT_EQ(r.at("B"), (tps{tp("t", 2)}));
  r = run("sticky", counts, {member("A", t, {tp("t", 0), tp("t", 1)}, 5), member("B", t, {tp("t", 1), tp("t", 2)}, 6),
                             member("C", t, {tp("t", 3)}, 5)});
  EXPECT_EQ(r.at("A"), (tps{tp("t", 0)}));
  EXPECT_EQ(r.at("B"), (tps{tp("t", 1), tp("t", 2)}));
  EXPECT_EQ(r.at("C"), (tps{tp("t", 3)}));
}

TEST(StickyAssignor, ATieInTheHighestGenerationLeavesThePartitionWithoutOwner) {
  const partition_counts counts{{"t", 3}};
  const std::vector<std::string> t{"t"};
  const std::vector<member_subscription> ms{member("A", t, {tp("t", 0), tp("t", 1), tp("t", 2)}, 5),
                                            member("B", t, {tp("t", 1)}, 5), member("C", t)};
  const auto r = run("sticky", counts, ms);
  check_valid(r, counts, ms);
  EXPECT_EQ(std::count(r.at("A").begin(), r.at("A").end(), tp("t", 1)), 0);
  // Cooperative: both claimants must revoke it first, so nobody gets it this round.
  const auto c = run("cooperative-sticky", counts, ms);
  for (const auto& [id, list] : c) EXPECT_EQ(std::count(list.begin(), list.end(), tp("t", 1)), 0) << id;
}

// Any int32 a payload carries is a generation, the lowest included (found by the fuzzer: the
// lowest generation once read as "no claim yet" and indexed member -1).
TEST(StickyAssignor, TheLowestGenerationStillCountsAsAClaim) {
  const partition_counts counts{{"t", 2}};
  const std::vector<std::string> t{"t"};
  const std::vector<member_subscription> ms{member("A", t, {tp("t", 0), tp("t", 1)}, INT32_MIN), member("B", t)};
  for (const char* name : {"sticky", "cooperative-sticky"}) {
    const auto r = run(name, counts, ms);
    check_valid(r, counts, ms);
    // A keeps one of its two (balance moves the other to B; cooperative holds that one back).
    EXPECT_EQ(r.at("A").size(), 1u) << name;
  }
}

TEST(StickyAssignor, JavaUserDataLayouts) {
  const bytes v1 = consumer::detail::encode_sticky_user_data({tp("b", 1), tp("a", 2), tp("b", 0)}, 9);
  const bytes expected{0, 0, 0, 2,  0, 1, 'a', 0, 0, 0, 1, 0, 0, 0, 2,  0, 1, 'b', 0, 0, 0, 2,
                       0, 0, 0, 0,  0, 0, 0, 1,  0, 0, 0, 9};
  EXPECT_EQ(v1, expected);
  tps parts;
  std::int32_t generation = 0;
  ASSERT_TRUE(consumer::detail::decode_sticky_user_data(v1, parts, generation));
  EXPECT_EQ(parts, (tps{tp("a", 2), tp("b", 0), tp("b", 1)}));
  EXPECT_EQ(generation, 9);
  // Version 0 (Kafka before 2.3): no generation.
  const bytes v0(expected.begin(), expected.end() - 4);
  ASSERT_TRUE(consumer::detail::decode_sticky_user_data(v0, parts, generation));
  EXPECT_EQ(parts.size(), 3u);
  EXPECT_EQ(generation, -1);
  EXPECT_FALSE(consumer::detail::decode_sticky_user_data(bytes{0, 0, 0, 5, 0}, parts, generation));
  EXPECT_FALSE(consumer::detail::decode_sticky_user_data(bytes{0xff, 0xff, 0xff, 0xfe}, parts, generation));

  const auto sticky = consumer::make_assignor("sticky");
  EXPECT_TRUE(sticky->subscription_user_data({}, -1).empty());
  EXPECT_EQ(sticky->subscription_user_data({tp("b", 1), tp("a", 2), tp("b", 0)}, 9), expected);
  EXPECT_EQ(consumer::make_assignor("cooperative-sticky")->subscription_user_data({tp("a", 1)}, 258),
            (bytes{0, 0, 1, 2}));
}

TEST(StickyAssignor, EagerReadsPreviousPartitionsFromUserData) {
  const partition_counts counts{{"t", 2}};
  auto a = member("A", {"t"}, {tp("t", 0)}, 3);  // ignored: the user data says t-1
  a.user_data = consumer::detail::encode_sticky_user_data({tp("t", 1)}, 3);
  auto b = member("B", {"t"}, {tp("t", 1)}, 2);
  b.user_data = {0xff};  // unreadable: owns nothing, as in Java
  const auto r = run("sticky", counts, {a, b});
  EXPECT_EQ(r.at("A"), (tps{tp("t", 1)}));
  EXPECT_EQ(r.at("B"), (tps{tp("t", 0)}));
}

TEST(CooperativeStickyAssignor, NewMemberGetsMovedPartitionsOnlyInTheFollowUpRound) {
  const partition_counts counts{{"t", 4}};
  const std::vector<member_subscription> first{member("A", {"t"}, {tp("t", 0), tp("t", 1), tp("t", 2), tp("t", 3)}, 3),
                                               member("B", {"t"})};
  const auto r1 = run("cooperative-sticky", counts, first);
  check_valid(r1, counts, first);
  EXPECT_EQ(r1.at("A").size(), 2u);  // keeps two, revokes two
  EXPECT_TRUE(r1.at("B").empty());   // withheld until A revoked them
  const auto second = owning(first, r1, 4);
  const auto r2 = run("cooperative-sticky", counts, second);
  EXPECT_EQ(r2.at("A"), r1.at("A"));
  EXPECT_EQ(r2.at("B").size(), 2u);
}

TEST(CooperativeStickyAssignor, GenerationFromUserDataWhenTheSubscriptionHasNone) {
  const partition_counts counts{{"t", 2}};
  auto a = member("A", {"t"}, {tp("t", 0)}, -1);
  a.user_data = {0, 0, 0, 7};
  auto b = member("B", {"t"}, {tp("t", 0)}, -1);
  b.user_data = {0, 0, 0, 6};
  auto r = run("cooperative-sticky", counts, {a, b});
  EXPECT_EQ(r.at("A"), (tps{tp("t", 0)}));  // A (7) wins t-0
  EXPECT_EQ(r.at("B"), (tps{tp("t", 1)}));
  // Without the user data both claim t-0 in generation -1: nobody keeps it, nobody gets it.
  a.user_data.clear();
  b.user_data.clear();
  r = run("cooperative-sticky", counts, {a, b});
  EXPECT_EQ(r.at("A").size() + r.at("B").size(), 1u);
  for (const auto& [id, list] : r) EXPECT_EQ(std::count(list.begin(), list.end(), tp("t", 0)), 0) << id;
}

struct random_group {
  partition_counts counts;
  std::vector<std::string> topics;
  std::vector<member_subscription> members;
};

random_group make_group(std::mt19937& rng, bool equal) {
  random_group g;
  const int topic_count = std::uniform_int_distribution<int>(1, 5)(rng);
  for (int t = 0; t < topic_count; ++t) {
    const auto name = "t" + std::to_string(t);
    g.topics.push_back(name);
    g.counts[name] = std::uniform_int_distribution<int>(1, 12)(rng);
  }
  g.counts["unsubscribed"] = 3;
  const int member_count = std::uniform_int_distribution<int>(1, 9)(rng);
  for (int m = 0; m < member_count; ++m) {
    std::vector<std::string> subs;
    for (const auto& t : g.topics) {
      if (equal || std::bernoulli_distribution(0.5)(rng)) subs.push_back(t);
    }
    if (std::bernoulli_distribution(0.2)(rng)) subs.push_back("zz-missing");
    g.members.push_back(member("m" + std::to_string(rng() % 1000) + "-" + std::to_string(m), subs));
  }
  return g;
}

TEST(StickyAssignorProperties, EqualSubscriptionsBalancedAndMinimalMoves) {
  for (const char* name : {"sticky", "cooperative-sticky"}) {
    const bool cooperative = std::string_view(name) == "cooperative-sticky";
    for (std::uint32_t seed = 1; seed <= 150; ++seed) {
      SCOPED_TRACE(std::string(name) + " seed " + std::to_string(seed));
      std::mt19937 rng(seed);
      auto g = make_group(rng, true);
      const std::size_t total = subscribed_partitions(g.counts, g.members);
      // Fresh: everything assigned (nobody owns anything, so nothing is withheld), within 1.
      const auto r1 = run(name, g.counts, g.members);
      ASSERT_EQ(check_valid(r1, g.counts, g.members).size(), total);
      EXPECT_LE(max_spread(r1), 1u);
      // The same members again: nothing moves.
      auto owners = owning(g.members, r1, 1);
      EXPECT_EQ(run(name, g.counts, owners), r1);
      // One member leaves or one joins.
      if (owners.size() > 1 && std::bernoulli_distribution(0.5)(rng)) {
        owners.erase(owners.begin() + static_cast<std::ptrdiff_t>(rng() % owners.size()));
      } else {
        owners.push_back(member("new-" + std::to_string(seed), g.topics));
      }
      std::vector<std::size_t> owned;
      for (const auto& m : owners) owned.push_back(m.owned_partitions.size());
      const auto r2 = run(name, g.counts, owners);
      const auto assigned = check_valid(r2, g.counts, owners);
      if (!cooperative) {
        EXPECT_EQ(assigned.size(), total);
        EXPECT_LE(max_spread(r2), 1u);
        EXPECT_EQ(moved(owners, r2), minimum_moves(owned, total));
        continue;
      }
      // Cooperative: nothing moves directly; what a member must give up it revokes (the
      // minimum), and no partition still owned by another member is handed out.
      EXPECT_EQ(moved(owners, r2), 0u);
      std::size_t revoked = 0;
      for (const auto& m : owners) {
        for (const auto& p : m.owned_partitions) {
          const auto it = assigned.find(p);
          if (it == assigned.end()) {
            ++revoked;
          } else {
            EXPECT_EQ(it->second, m.member_id);
          }
        }
      }
      EXPECT_EQ(revoked, minimum_moves(owned, total));
      // The follow-up rebalance completes the assignment, balanced, without moving more.
      const auto follow = owning(owners, r2, 2);
      const auto r3 = run(name, g.counts, follow);
      EXPECT_EQ(check_valid(r3, g.counts, follow).size(), total);
      EXPECT_LE(max_spread(r3), 1u);
      EXPECT_EQ(moved(follow, r3), 0u);
    }
  }
}

TEST(StickyAssignorProperties, UnequalSubscriptionsOptimallyBalancedAndStable) {
  for (const char* name : {"sticky", "cooperative-sticky"}) {
    for (std::uint32_t seed = 1; seed <= 150; ++seed) {
      SCOPED_TRACE(std::string(name) + " seed " + std::to_string(seed));
      std::mt19937 rng(seed * 7919);
      auto g = make_group(rng, false);
      const auto r1 = run(name, g.counts, g.members);
      EXPECT_EQ(check_valid(r1, g.counts, g.members).size(), subscribed_partitions(g.counts, g.members));
      EXPECT_FALSE(has_cost_reducing_chain(r1, g.members));
      // Members with the same subscriptions differ by at most one.
      for (const auto& a : g.members) {
        for (const auto& b : g.members) {
          if (a.topics == b.topics) {
            EXPECT_LE(r1.at(a.member_id).size(), r1.at(b.member_id).size() + 1);
          }
        }
      }
      auto owners = owning(g.members, r1, 1);
      EXPECT_EQ(run(name, g.counts, owners), r1);
      // Random previous owners (with overlaps and stale generations): still valid, complete for
      // the eager one, and optimally balanced.
      for (auto& m : owners) {
        m.owned_partitions.clear();
        for (const auto& [topic, count] : g.counts) {
          for (std::int32_t p = 0; p < count; ++p) {
            if (std::bernoulli_distribution(0.3)(rng)) m.owned_partitions.emplace_back(topic, p);
          }
        }
        m.generation = std::uniform_int_distribution<int>(-1, 3)(rng);
      }
      const auto r2 = run(name, g.counts, owners);
      const auto assigned = check_valid(r2, g.counts, owners);
      if (std::string_view(name) == "sticky") {
        EXPECT_EQ(assigned.size(), subscribed_partitions(g.counts, g.members));
        EXPECT_FALSE(has_cost_reducing_chain(r2, owners));
      }
    }
  }
}

TEST(StickyAssignorProperties, LargeGroupFinishes) {
  // 100 members over 20 topics of 50 partitions, then 10 of them leave: the chain search must
  // stay cheap (this runs in well under a second).
  partition_counts counts;
  std::vector<std::string> topics;
  for (int t = 0; t < 20; ++t) {
    topics.push_back("topic-" + std::to_string(t));
    counts[topics.back()] = 50;
  }
  std::vector<member_subscription> ms;
  for (int m = 0; m < 100; ++m) ms.push_back(member("member-" + std::to_string(m), topics));
  const auto r = run("sticky", counts, ms);
  EXPECT_EQ(max_spread(r), 0u);
  auto owners = owning(ms, r, 1);
  owners.resize(90);
  const auto r2 = run("sticky", counts, owners);
  EXPECT_EQ(check_valid(r2, counts, owners).size(), 1000u);
  EXPECT_LE(max_spread(r2), 1u);
  std::vector<std::size_t> owned(90, 10);
  EXPECT_EQ(moved(owners, r2), minimum_moves(owned, 1000));
}

}  // namespace
}  // namespace asiokafka::test
