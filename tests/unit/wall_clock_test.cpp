// The wall clock of record timestamps (src/producer/wall_clock.hpp): its cached readings must
// never lag the system clock's millisecond, across many millisecond boundaries.
#include "producer/wall_clock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <thread>

namespace asiokafka::detail {
namespace {

using namespace std::chrono;

std::int64_t system_ms() { return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count(); }

// Runs for `span`: past the 10 ms in which the TSC rate is measured, then through tens of
// millisecond boundaries read from the cache. Bounded in time and in count.
void check_against_system_clock(milliseconds span) {
  const auto end = steady_clock::now() + span;
  std::int64_t first = -1, last = -1;
  std::uint64_t calls = 0;
  while (steady_clock::now() < end && calls < 20'000'000) {
    const std::int64_t before = system_ms();
    const std::int64_t v = wall_clock_ms();
    const std::int64_t after = system_ms();
    ASSERT_LE(before, v) << "a reading older than the millisecond it was asked in (call " << calls << ")";
    ASSERT_LE(v, after);
    if (first < 0) first = v;
    last = v;
    ++calls;
  }
  EXPECT_GE(last - first, span.count() / 2) << "the clock went on moving";
}

TEST(WallClock, NeverLagsTheSystemClocksMillisecond) { check_against_system_clock(80ms); }

TEST(WallClock, EachThreadKeepsItsOwnReading) {
  std::thread other([] { check_against_system_clock(30ms); });
  check_against_system_clock(30ms);
  other.join();
}

}  // namespace
}  // namespace asiokafka::detail
