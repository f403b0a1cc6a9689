// A record's default timestamp. Reading the wall clock (clock_gettime through the vDSO) costs
// 20-25 ns on the KVM guests we measure on, several percent of all the CPU the producer spends
// on a record (docs/benchmarks.md, "Producer"). A timestamp has millisecond resolution, so a
// reading stays right until its millisecond ends: each thread keeps its last reading with
// the TSC at that moment and the TSC ticks left (less a margin) before that millisecond ends,
// and reads the clock again only once they have passed, or when the TSC went backwards (the
// thread moved to a core whose TSC lags, or the machine was suspended).
//
// TSC ticks per nanosecond come from the clock itself: the first reading of the process and
// one at least 10 ms later; until then every call reads the clock. Only with an invariant
// TSC (CPUID 8000_0007h EDX bit 8: constant rate in every power state), on x86-64.
#include "producer/wall_clock.hpp"

#include <atomic>
#include <chrono>
#include <ctime>

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

namespace asiokafka::detail {

namespace {

struct reading {
  std::int64_t ms = 0;
  std::int64_t ns_left = 0;  ///< until that millisecond ends
};

reading read_clock() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  const std::int64_t sub_ms = ts.tv_nsec % 1'000'000;
  return {static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000, 1'000'000 - sub_ms};
}

#if defined(__x86_64__)
bool invariant_tsc() noexcept {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(0x80000000u, &a, &b, &c, &d) == 0 || a < 0x80000007u) return false;
  if (__get_cpuid(0x80000007u, &a, &b, &c, &d) == 0) return false;
  return (d & (1u << 8)) != 0;
}

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Ticks per nanosecond, 0 until measured (or when the TSC is not usable).
class tsc_rate {
 public:
  double get(std::uint64_t tsc_now) noexcept {
    const double r = rate_.load(std::memory_order_relaxed);
    if (r > 0) return r;
    if (r == 0) calibrate(tsc_now);
    return 0;
  }

 private:
  void calibrate(std::uint64_t tsc_now) noexcept {
    static const bool usable = invariant_tsc();
    if (!usable) {
      rate_.store(-1, std::memory_order_relaxed);
      return;
    }
    const std::int64_t ns = monotonic_ns();
    std::int64_t start_ns = start_ns_.load(std::memory_order_acquire);
    if (start_ns == 0) {
      // The first: remember where the measurement starts (one thread wins; the others keep
      // reading the clock meanwhile).
      start_tsc_.store(tsc_now, std::memory_order_relaxed);
      std::int64_t expected = 0;
      start_ns_.compare_exchange_strong(expected, ns, std::memory_order_release, std::memory_order_relaxed);
      return;
    }
    if (ns - start_ns < 10'000'000) return;
    const std::uint64_t start_tsc = start_tsc_.load(std::memory_order_relaxed);
    if (tsc_now <= start_tsc) {
      rate_.store(-1, std::memory_order_relaxed);  // a TSC that does not advance: not used
      return;
    }
    rate_.store(static_cast<double>(tsc_now - start_tsc) / static_cast<double>(ns - start_ns),
                std::memory_order_relaxed);
  }

  std::atomic<double> rate_{0};  ///< > 0 measured, < 0 not usable
  std::atomic<std::int64_t> start_ns_{0};
  std::atomic<std::uint64_t> start_tsc_{0};
};

tsc_rate rate;

struct cached {
  std::uint64_t tsc = 0;    ///< when `ms` was read
  std::uint64_t valid = 0;  ///< ticks after `tsc` during which `ms` is still right
  std::int64_t ms = 0;
};
thread_local cached last;
#endif

}  // namespace

std::int64_t wall_clock_ms() noexcept {
#if defined(__x86_64__)
  const std::uint64_t now = __rdtsc();
  // Unsigned: a TSC below the last one's wraps to a huge difference and reads the clock.
  if (now - last.tsc < last.valid) return last.ms;
  const reading r = read_clock();
  const double ticks_per_ns = rate.get(now);
  last.tsc = now;  // read before the clock: the window only gets shorter
  last.ms = r.ms;
  // A quarter of the rest of the millisecond is left as margin (a rate measured a few
  // percent off, NTP slewing the clock): still hundreds of records per reading at full speed.
  last.valid = ticks_per_ns > 0 ? static_cast<std::uint64_t>(static_cast<double>(r.ns_left) * 0.75 * ticks_per_ns) : 0;
  return r.ms;
#else
  return read_clock().ms;
#endif
}

}  // namespace asiokafka::detail
