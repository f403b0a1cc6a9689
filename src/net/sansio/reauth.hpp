// When a SASL session must be re-authenticated (KIP-368), sans-I/O: no clock (time is passed
// in), randomness injectable.
//
// The broker announces session_lifetime_ms in SaslAuthenticate v1+ (0: the session never
// expires). As the Java client does, the client re-authenticates at a random point between 85 %
// and 95 % of the lifetime after the authentication ended (the 10 % jitter keeps connections that
// authenticated together from re-authenticating together), and it checks this before writing
// the next request: an idle connection is not re-authenticated, and the broker only closes an
// expired connection when it sends something other than a re-authentication.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "net/sansio/time.hpp"

namespace asiokafka::net {

class reauth_schedule {
 public:
  /// Returns a number in [0, 1); values outside are clamped.
  using random_source = std::function<double()>;

  /// The fraction of the lifetime at which re-authentication is due is
  /// `min_fraction + random() * jitter_fraction`.
  static constexpr double min_fraction = 0.85;
  static constexpr double jitter_fraction = 0.10;
  /// Lifetimes are capped (about 10 years) so that time arithmetic cannot overflow.
  static constexpr std::int64_t max_lifetime_ms = std::int64_t{10} * 366 * 24 * 3600 * 1000;

  /// Uses a private std::mt19937_64 seeded from std::random_device.
  reauth_schedule();
  explicit reauth_schedule(random_source random);

  /// An authentication (first or re-) ended at `now`; the broker announced `session_lifetime_ms`
  /// (<= 0: no expiry, nothing is ever due).
  void on_authenticated(time_point now, std::int64_t session_lifetime_ms);

  /// Whether a re-authentication must run before the next request is written.
  bool due(time_point now) const noexcept { return reauth_at_ && now >= *reauth_at_; }
  /// When re-authentication becomes due; nullopt when the session does not expire.
  std::optional<time_point> reauth_at() const noexcept { return reauth_at_; }
  /// When the broker considers the session expired; nullopt when it does not expire.
  std::optional<time_point> expires_at() const noexcept { return expires_at_; }

 private:
  random_source random_;
  std::optional<time_point> reauth_at_;
  std::optional<time_point> expires_at_;
};

}  // namespace asiokafka::net
