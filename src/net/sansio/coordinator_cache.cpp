#include "net/sansio/coordinator_cache.hpp"

#include <algorithm>
#include <utility>

#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "protocol/error_class.hpp"

namespace asiokafka::net {

coordinator_action classify_coordinator_error(std::error_code ec) noexcept {
  if (!ec) return coordinator_action::none;
  const protocol::error_class c = protocol::classify(ec);
  // A transport failure (never connected, lost, timed out): the coordinator may have moved
  // with the broker that went away, so look it up again (as the Java client marks it unknown).
  if (c.coordinator_moved || c.transport) return coordinator_action::rediscover;
  if (c.coordinator_loading || c.retriable) return coordinator_action::retry;
  return coordinator_action::fail;
}

const BrokerMetadata* coordinator_cache::find(CoordinatorType type,
                                                std::string_view key) const {
  const map& m = entries(type);
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

protocol::messages::FindCoordinatorRequest coordinator_cache::make_request(
    CoordinatorType type, std::span<const std::string> keys, std::int16_t version) {
  protocol::messages::FindCoordinatorRequest r;
  r.key_type = static_cast<std::int8_t>(type);
  if (version >= 4) {
    r.coordinator_keys.assign(keys.begin(), keys.end());
  } else if (!keys.empty()) {
    r.key = keys.front();
  }
  return r;
}

coordinator_result coordinator_cache::settle(CoordinatorType type, std::string key,
                                             std::int16_t error_code, std::int32_t node_id,
                                             const std::string& host, std::int32_t port) {
  coordinator_result out{std::move(key), make_kafka_error(error_code), std::nullopt};
  map& m = entries(type);
  if (!out.ec && node_id < 0) out.ec = make_error_code(kafka_errc::coordinator_not_available);
  if (!out.ec) {
    BrokerMetadata info{node_id, host, port, std::nullopt};
    m.insert_or_assign(out.key, info);
    out.coordinator = std::move(info);
  } else if (out.ec != kafka_errc::coordinator_load_in_progress) {
    // The coordinator moved or is not elected yet, or the key cannot be served (final):
    // either way what we had is no longer to be used.
    auto it = m.find(out.key);
    if (it != m.end()) m.erase(it);
  }
  return out;
}

std::vector<coordinator_result> coordinator_cache::apply(
    CoordinatorType type, std::span<const std::string> keys,
    const protocol::messages::FindCoordinatorResponse& r, std::int16_t version) {
  std::vector<coordinator_result> out;
  if (keys.empty()) return out;
  if (version < 4) {
    out.push_back(settle(type, keys.front(), r.error_code, r.node_id, r.host, r.port));
    return out;
  }
  out.reserve(keys.size());
  for (const auto& key : keys) {
    auto it = std::ranges::find(r.coordinators, key,
                                &protocol::messages::FindCoordinatorResponse::Coordinator::key);
    if (it == r.coordinators.end()) {
      out.push_back(settle(type, key,
                           static_cast<std::int16_t>(kafka_errc::coordinator_not_available), -1,
                           {}, 0));
    } else {
      out.push_back(settle(type, key, it->error_code, it->node_id, it->host, it->port));
    }
  }
  return out;
}

coordinator_action coordinator_cache::on_error(CoordinatorType type, std::string_view key,
                                               std::error_code ec) {
  const coordinator_action action = classify_coordinator_error(ec);
  if (action == coordinator_action::rediscover) invalidate(type, key);
  return action;
}

bool coordinator_cache::invalidate(CoordinatorType type, std::string_view key) {
  map& m = entries(type);
  auto it = m.find(key);
  if (it == m.end()) return false;
  m.erase(it);
  return true;
}

std::vector<std::pair<CoordinatorType, std::string>> coordinator_cache::invalidate_node(std::int32_t node_id) {
  std::vector<std::pair<CoordinatorType, std::string>> out;
  for (std::size_t t = 0; t < maps_.size(); ++t) {
    std::erase_if(maps_[t], [&](const auto& kv) {
      if (kv.second.node_id != node_id) return false;
      out.emplace_back(static_cast<CoordinatorType>(t), kv.first);
      return true;
    });
  }
  return out;
}

std::size_t coordinator_cache::size() const noexcept {
  std::size_t n = 0;
  for (const auto& m : maps_) n += m.size();
  return n;
}

}  // namespace asiokafka::net
