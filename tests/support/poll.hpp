// Bounded polling of observable state, for tests that wait on a broker to change.
#pragma once

#include <chrono>
#include <thread>

namespace asiokafka::test {

/// Calls `check` until it returns true or `limit` passes; returns the last result.
/// The pause between checks is a polling interval, not a synchronisation: correctness
/// depends only on `check`.
template <class F>
bool eventually(F&& check, std::chrono::milliseconds limit, std::chrono::milliseconds interval = std::chrono::milliseconds(200)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    if (check()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace asiokafka::test
