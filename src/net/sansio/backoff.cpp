#include "net/sansio/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <utility>

namespace asiokafka::net {

std::chrono::milliseconds backoff_delay(const backoff_config& cfg, std::uint32_t attempts,
                                        double unit_random) {
  const double base = static_cast<double>(std::max<std::int64_t>(cfg.reconnect_backoff.count(), 0));
  const double cap = static_cast<double>(std::max<std::int64_t>(cfg.reconnect_backoff_max.count(), 0));
  // As the Java client: no growth (and no jitter) when the cap is not above the base.
  if (cap <= base) return std::chrono::milliseconds{static_cast<std::int64_t>(base)};
  if (base <= 0.0) return std::chrono::milliseconds{0};
  // Cap the exponent rather than the product so a large attempt count cannot overflow.
  const double exp = std::min(static_cast<double>(attempts), std::log2(cap / base));
  const double term = base * std::exp2(exp);
  const double jitter = std::clamp(cfg.jitter, 0.0, 1.0);
  const double u = std::clamp(unit_random, 0.0, 1.0);
  const double factor = 1.0 - jitter + 2.0 * jitter * u;
  const double value = std::min(term * factor, cap);
  return std::chrono::milliseconds{std::llround(value)};
}

namespace {

random_source default_random() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

}  // namespace

reconnect_backoff::reconnect_backoff(const backoff_config& cfg, random_source random)
    : cfg_(cfg), random_(random ? std::move(random) : default_random()) {}

time_point reconnect_backoff::on_failure(std::int32_t node, time_point now) {
  state& s = nodes_[node];
  s.ready_at = now + backoff_delay(cfg_, s.failures, random_());
  if (s.failures < UINT32_MAX) ++s.failures;
  return s.ready_at;
}

void reconnect_backoff::on_success(std::int32_t node) { nodes_.erase(node); }

bool reconnect_backoff::can_connect(std::int32_t node, time_point now) const {
  return now >= ready_at(node);
}

time_point reconnect_backoff::ready_at(std::int32_t node) const {
  auto it = nodes_.find(node);
  return it == nodes_.end() ? time_point::min() : it->second.ready_at;
}

std::uint32_t reconnect_backoff::failures(std::int32_t node) const {
  auto it = nodes_.find(node);
  return it == nodes_.end() ? 0 : it->second.failures;
}

idle_tracker::idle_tracker(std::chrono::milliseconds max_idle) : max_idle_(max_idle) {}

void idle_tracker::touch(connection_key node, time_point now) { conns_[node].last_active = now; }

void idle_tracker::set_busy(connection_key node, bool busy) {
  auto it = conns_.find(node);
  if (it != conns_.end()) it->second.busy = busy;
}

std::vector<connection_key> idle_tracker::reap(time_point now) {
  std::vector<connection_key> out;
  std::erase_if(conns_, [&](const auto& kv) {
    const conn& c = kv.second;
    if (c.busy || now - c.last_active < max_idle_) return false;
    out.push_back(kv.first);
    return true;
  });
  return out;
}

std::optional<time_point> idle_tracker::next_expiry() const {
  std::optional<time_point> at;
  for (const auto& [node, c] : conns_) {
    if (c.busy) continue;
    const time_point t = c.last_active + max_idle_;
    if (!at || t < *at) at = t;
  }
  return at;
}

}  // namespace asiokafka::net
