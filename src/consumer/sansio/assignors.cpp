// The assignor interface, member order, and the range and roundrobin assignors
// (assignors.hpp); the sticky ones are in sticky_assignor.cpp.
#include "consumer/sansio/assignors.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include "consumer/sansio/sticky_assignor.hpp"

namespace asiokafka::consumer {

namespace detail {

std::vector<const member_subscription*> unique_members(const std::vector<member_subscription>& members) {
  std::vector<const member_subscription*> out;
  std::set<std::string_view> seen;
  for (const auto& m : members) {
    if (seen.insert(m.member_id).second) out.push_back(&m);
  }
  std::sort(out.begin(), out.end(), [](const auto* a, const auto* b) { return a->member_id < b->member_id; });
  return out;
}

group_assignment empty_assignment(const std::vector<const member_subscription*>& members) {
  group_assignment out;
  for (const auto* m : members) out[m->member_id];
  return out;
}

bool subscribes(const member_subscription& m, const std::string& topic) {
  return std::find(m.topics.begin(), m.topics.end(), topic) != m.topics.end();
}

}  // namespace detail

namespace {

using detail::subscribes;

// Members in Java's MemberInfo order.
std::vector<const member_subscription*> in_member_order(const std::vector<member_subscription>& members) {
  auto out = detail::unique_members(members);
  std::sort(out.begin(), out.end(), [](const auto* a, const auto* b) { return member_order_less(*a, *b); });
  return out;
}

class range_assignor final : public assignor {
 public:
  std::string_view name() const override { return "range"; }
  rebalance_protocol protocol() const override { return rebalance_protocol::eager; }

  group_assignment assign(const partition_counts& partitions,
                          const std::vector<member_subscription>& members) const override {
    const auto ordered = in_member_order(members);
    auto out = detail::empty_assignment(ordered);
    for (const auto& [topic, count] : partitions) {
      std::vector<const member_subscription*> takers;
      for (const auto* m : ordered) {
        if (subscribes(*m, topic)) takers.push_back(m);
      }
      if (takers.empty() || count <= 0) continue;
      const auto n = static_cast<std::size_t>(count);
      const std::size_t each = n / takers.size();
      const std::size_t extra = n % takers.size();
      std::size_t next = 0;
      for (std::size_t i = 0; i < takers.size(); ++i) {
        const std::size_t length = each + (i < extra ? 1 : 0);
        auto& list = out[takers[i]->member_id];
        for (std::size_t k = 0; k < length; ++k, ++next) list.emplace_back(topic, static_cast<std::int32_t>(next));
      }
    }
    // Topics were visited in name order, so each list is already sorted.
    return out;
  }
};

class roundrobin_assignor final : public assignor {
 public:
  std::string_view name() const override { return "roundrobin"; }
  rebalance_protocol protocol() const override { return rebalance_protocol::eager; }

  group_assignment assign(const partition_counts& partitions,
                          const std::vector<member_subscription>& members) const override {
    const auto ordered = in_member_order(members);
    auto out = detail::empty_assignment(ordered);
    std::size_t next = 0;  // the member the circle stands at
    for (const auto& entry : partitions) {
      const std::string& topic = entry.first;
      const std::int32_t count = entry.second;
      const bool anyone = std::any_of(ordered.begin(), ordered.end(), [&](const auto* m) { return subscribes(*m, topic); });
      if (!anyone) continue;
      for (std::int32_t p = 0; p < count; ++p) {
        // Bounded: some member subscribes to `topic`.
        while (!subscribes(*ordered[next], topic)) next = (next + 1) % ordered.size();
        out[ordered[next]->member_id].emplace_back(topic, p);
        next = (next + 1) % ordered.size();
      }
    }
    return out;
  }
};

}  // namespace

assignor::~assignor() = default;

std::vector<std::uint8_t> assignor::subscription_user_data(const std::vector<TopicPartition>& /*last_assignment*/,
                                                           std::int32_t /*generation*/) const {
  return {};
}

bool member_order_less(const member_subscription& a, const member_subscription& b) {
  if (a.group_instance_id && b.group_instance_id) {
    if (*a.group_instance_id != *b.group_instance_id) return *a.group_instance_id < *b.group_instance_id;
    return a.member_id < b.member_id;  // equal instance ids cannot happen; keep the order strict
  }
  if (a.group_instance_id) return true;
  if (b.group_instance_id) return false;
  return a.member_id < b.member_id;
}

std::unique_ptr<assignor> make_assignor(std::string_view name) {
  if (name == "range") return std::make_unique<range_assignor>();
  if (name == "roundrobin") return std::make_unique<roundrobin_assignor>();
  if (name == "sticky") return detail::make_sticky_assignor(rebalance_protocol::eager);
  if (name == "cooperative-sticky") return detail::make_sticky_assignor(rebalance_protocol::cooperative);
  return nullptr;
}

}  // namespace asiokafka::consumer
