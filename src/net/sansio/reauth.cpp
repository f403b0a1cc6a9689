#include "net/sansio/reauth.hpp"

#include <algorithm>
#include <memory>
#include <random>

namespace asiokafka::net {

namespace {

reauth_schedule::random_source default_random() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

}  // namespace

reauth_schedule::reauth_schedule() : random_(default_random()) {}

reauth_schedule::reauth_schedule(random_source random) : random_(random ? std::move(random) : default_random()) {}

void reauth_schedule::on_authenticated(time_point now, std::int64_t session_lifetime_ms) {
  if (session_lifetime_ms <= 0) {
    reauth_at_.reset();
    expires_at_.reset();
    return;
  }
  const std::int64_t lifetime = std::min(session_lifetime_ms, max_lifetime_ms);
  const double r = std::clamp(random_(), 0.0, 1.0);
  const double fraction = min_fraction + r * jitter_fraction;
  // In microseconds, so that short test lifetimes keep their precision.
  const auto delay = std::chrono::microseconds(static_cast<std::int64_t>(static_cast<double>(lifetime) * 1000.0 * fraction));
  reauth_at_ = now + delay;
  expires_at_ = now + std::chrono::milliseconds(lifetime);
}

}  // namespace asiokafka::net
