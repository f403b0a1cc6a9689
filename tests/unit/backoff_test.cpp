// net::reconnect_backoff (exponential growth, cap, jitter bounds, reset) and
// net::idle_tracker (connections_max_idle_ms reaping), with an injected random source.
#include "net/sansio/backoff.hpp"

#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace asiokafka::net {
namespace {

using std::chrono::milliseconds;

const time_point t0 = time_point{} + std::chrono::hours{1};
const backoff_config cfg{.reconnect_backoff = milliseconds{50},
                         .reconnect_backoff_max = milliseconds{1000},
                         .jitter = 0.2};

TEST(Backoff, GrowsExponentiallyUpToTheCap) {
  // u = 0.5 is a factor of exactly 1.
  std::vector<std::int64_t> got;
  for (std::uint32_t a = 0; a < 8; ++a) got.push_back(backoff_delay(cfg, a, 0.5).count());
  EXPECT_EQ(got, (std::vector<std::int64_t>{50, 100, 200, 400, 800, 1000, 1000, 1000}));
  EXPECT_EQ(backoff_delay(cfg, UINT32_MAX, 0.5).count(), 1000);  // no overflow
}

TEST(Backoff, JitterBounds) {
  EXPECT_EQ(backoff_delay(cfg, 0, 0.0).count(), 40);   // -20%
  EXPECT_EQ(backoff_delay(cfg, 0, 1.0).count(), 60);   // +20%
  EXPECT_EQ(backoff_delay(cfg, 2, 0.0).count(), 160);
  EXPECT_EQ(backoff_delay(cfg, 2, 1.0).count(), 240);
  // At the cap jitter only shortens the wait.
  EXPECT_EQ(backoff_delay(cfg, 10, 0.0).count(), 800);
  EXPECT_EQ(backoff_delay(cfg, 10, 1.0).count(), 1000);

  std::mt19937 gen(42);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int i = 0; i < 2000; ++i) {
    const auto a = static_cast<std::uint32_t>(i % 8);
    const double nominal = std::min(50.0 * static_cast<double>(1u << a), 1000.0);
    const auto d = static_cast<double>(backoff_delay(cfg, a, u(gen)).count());
    EXPECT_GE(d, nominal * 0.8 - 1);
    EXPECT_LE(d, std::min(nominal * 1.2, 1000.0));
  }
}

TEST(Backoff, DegenerateConfigs) {
  // Cap not above the base: constant base, no jitter (as the Java client).
  backoff_config flat{.reconnect_backoff = milliseconds{500}, .reconnect_backoff_max = milliseconds{100}};
  EXPECT_EQ(backoff_delay(flat, 0, 0.0).count(), 500);
  EXPECT_EQ(backoff_delay(flat, 5, 1.0).count(), 500);
  backoff_config zero{.reconnect_backoff = milliseconds{0}, .reconnect_backoff_max = milliseconds{100}};
  EXPECT_EQ(backoff_delay(zero, 3, 0.7).count(), 0);
  backoff_config no_jitter = cfg;
  no_jitter.jitter = 0.0;
  EXPECT_EQ(backoff_delay(no_jitter, 1, 0.0).count(), 100);
  EXPECT_EQ(backoff_delay(no_jitter, 1, 1.0).count(), 100);
}

TEST(ReconnectBackoff, PerBrokerGrowthAndReset) {
  double u = 0.5;
  reconnect_backoff b(cfg, [&] { return u; });
  EXPECT_TRUE(b.can_connect(1, t0));
  EXPECT_EQ(b.on_failure(1, t0), t0 + milliseconds{50});
  EXPECT_FALSE(b.can_connect(1, t0 + milliseconds{49}));
  EXPECT_TRUE(b.can_connect(1, t0 + milliseconds{50}));
  EXPECT_TRUE(b.can_connect(2, t0));  // independent per broker
  EXPECT_EQ(b.on_failure(1, t0 + milliseconds{50}), t0 + milliseconds{150});
  EXPECT_EQ(b.on_failure(1, t0 + milliseconds{150}), t0 + milliseconds{350});
  EXPECT_EQ(b.failures(1), 3u);
  u = 1.0;
  EXPECT_EQ(b.on_failure(1, t0), t0 + milliseconds{480});  // 400 * 1.2
  for (int i = 0; i < 10; ++i) b.on_failure(1, t0);
  EXPECT_EQ(b.ready_at(1), t0 + milliseconds{1000});
  b.on_success(1);
  EXPECT_EQ(b.failures(1), 0u);
  EXPECT_TRUE(b.can_connect(1, t0));
  u = 0.5;
  EXPECT_EQ(b.on_failure(1, t0), t0 + milliseconds{50});  // from the start again
  b.forget(1);
  EXPECT_EQ(b.ready_at(1), time_point::min());
}

TEST(ReconnectBackoff, DefaultRandomStaysInBounds) {
  reconnect_backoff b(cfg);
  for (int i = 0; i < 100; ++i) {
    b.on_success(7);
    const auto d = b.on_failure(7, t0) - t0;
    EXPECT_GE(d, milliseconds{40});
    EXPECT_LE(d, milliseconds{60});
  }
}

TEST(IdleTracker, ReapsIdleConnectionsOnly) {
  idle_tracker idle(milliseconds{1000});
  EXPECT_EQ(idle.next_expiry(), std::nullopt);
  idle.touch(1, t0);
  idle.touch(2, t0 + milliseconds{300});
  idle.touch(3, t0);
  idle.set_busy(3, true);  // a long JoinGroup in flight
  EXPECT_EQ(idle.next_expiry(), t0 + milliseconds{1000});
  EXPECT_TRUE(idle.reap(t0 + milliseconds{999}).empty());
  EXPECT_EQ(idle.reap(t0 + milliseconds{1000}), (std::vector<connection_key>{1}));
  EXPECT_EQ(idle.size(), 2u);
  // Activity pushes the expiry out.
  idle.touch(2, t0 + milliseconds{1200});
  EXPECT_EQ(idle.next_expiry(), t0 + milliseconds{2200});
  EXPECT_TRUE(idle.reap(t0 + milliseconds{2000}).empty());
  EXPECT_EQ(idle.reap(t0 + milliseconds{5000}), (std::vector<connection_key>{2}));
  // The busy one stays until it is idle again for the whole period.
  idle.set_busy(3, false);
  idle.touch(3, t0 + milliseconds{5000});
  EXPECT_TRUE(idle.reap(t0 + milliseconds{5999}).empty());
  EXPECT_EQ(idle.reap(t0 + milliseconds{6000}), (std::vector<connection_key>{3}));
  idle.touch(4, t0);
  idle.remove(4);
  EXPECT_EQ(idle.size(), 0u);
}

}  // namespace
}  // namespace asiokafka::net
