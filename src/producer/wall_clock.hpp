// The wall clock a record's default timestamp comes from (milliseconds since the epoch).
#pragma once

#include <cstdint>

namespace asiokafka::detail {

/// Milliseconds since the epoch, as std::chrono::system_clock (CLOCK_REALTIME) gives them,
/// read for every record: on x86-64 with an invariant TSC a thread reuses its last reading
/// until the TSC says the millisecond it fell in may have ended (wall_clock.cpp).
std::int64_t wall_clock_ms() noexcept;

}  // namespace asiokafka::detail
