// net::reauth_schedule (KIP-368): when a SASL session is re-authenticated, scripted with an
// injected random source and explicit times.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>

#include "net/sansio/reauth.hpp"

namespace asiokafka::net {
namespace {

using namespace std::chrono_literals;
using tp = time_point;

reauth_schedule with_random(double r) {
  return reauth_schedule([r] { return r; });
}

TEST(ReauthSchedule, NoLifetimeIsNeverDue) {
  auto s = with_random(0.5);
  const tp t0{};
  EXPECT_FALSE(s.reauth_at());
  s.on_authenticated(t0, 0);
  EXPECT_FALSE(s.reauth_at());
  EXPECT_FALSE(s.expires_at());
  EXPECT_FALSE(s.due(t0 + std::chrono::hours(24 * 365)));
  s.on_authenticated(t0, -5);  // a negative lifetime counts as none
  EXPECT_FALSE(s.due(t0 + std::chrono::hours(24 * 365)));
}

TEST(ReauthSchedule, DueBetween85And95PercentOfTheLifetime) {
  const tp t0 = tp{} + 1000s;
  struct Case {
    double random;
    std::chrono::milliseconds at;
  };
  for (const Case c : {Case{0.0, 8500ms}, Case{0.5, 9000ms}, Case{0.999999, 9499ms}, Case{1.0, 9500ms}}) {
    SCOPED_TRACE(c.random);
    auto s = with_random(c.random);
    s.on_authenticated(t0, 10'000);
    ASSERT_TRUE(s.reauth_at());
    EXPECT_GE(*s.reauth_at(), t0 + c.at);
    EXPECT_LT(*s.reauth_at(), t0 + c.at + 1ms);
    EXPECT_EQ(s.expires_at(), t0 + 10'000ms);
    EXPECT_FALSE(s.due(*s.reauth_at() - 1us));
    EXPECT_TRUE(s.due(*s.reauth_at()));
    EXPECT_TRUE(s.due(t0 + 20s));  // overdue stays due until the next authentication
  }
}

TEST(ReauthSchedule, OutOfRangeRandomIsClamped) {
  const tp t0{};
  auto low = with_random(-3.0);
  low.on_authenticated(t0, 1000);
  EXPECT_EQ(low.reauth_at(), t0 + 850ms);
  auto high = with_random(7.0);
  high.on_authenticated(t0, 1000);
  EXPECT_EQ(high.reauth_at(), t0 + 950ms);
}

TEST(ReauthSchedule, ReauthenticationMovesTheDeadline) {
  auto s = with_random(0.0);
  const tp t0{};
  s.on_authenticated(t0, 4000);
  EXPECT_TRUE(s.due(t0 + 3400ms));
  s.on_authenticated(t0 + 3400ms, 4000);  // re-authenticated
  EXPECT_FALSE(s.due(t0 + 3400ms));
  EXPECT_FALSE(s.due(t0 + 6799ms));
  EXPECT_TRUE(s.due(t0 + 6800ms));
  s.on_authenticated(t0 + 7000ms, 0);  // the broker stopped expiring sessions
  EXPECT_FALSE(s.due(t0 + std::chrono::hours(1)));
}

TEST(ReauthSchedule, ShortAndHugeLifetimes) {
  const tp t0 = tp{} + 5s;
  auto s = with_random(0.0);
  s.on_authenticated(t0, 1);  // 850 microseconds
  EXPECT_FALSE(s.due(t0));
  EXPECT_TRUE(s.due(t0 + 1ms));
  // INT64_MAX ms would overflow the clock's arithmetic: capped, never due in practice.
  s.on_authenticated(t0, std::numeric_limits<std::int64_t>::max());
  ASSERT_TRUE(s.reauth_at());
  EXPECT_GT(*s.reauth_at(), t0 + std::chrono::hours(24 * 365 * 8));
  EXPECT_FALSE(s.due(t0 + std::chrono::hours(24 * 365)));
}

TEST(ReauthSchedule, DefaultRandomStaysInTheWindow) {
  reauth_schedule s;
  const tp t0{};
  for (int i = 0; i < 200; ++i) {
    s.on_authenticated(t0, 100'000);
    ASSERT_TRUE(s.reauth_at());
    EXPECT_GE(*s.reauth_at(), t0 + 85'000ms);
    EXPECT_LE(*s.reauth_at(), t0 + 95'000ms);
  }
}

}  // namespace
}  // namespace asiokafka::net
