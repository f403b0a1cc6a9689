// Writing a plain numbered stream with our producer, for consumer tests that check that every
// record comes back once and in order (tests/fault, tests/mock, tests/cluster).
#pragma once

#include <chrono>
#include <string>

namespace asiokafka::test {

/// Writes values "<first>".."<first + n - 1>" (decimal) to `partition` of `topic` with our
/// producer (acks=all, idempotent) on an io_context of its own, so it may be called from
/// inside another io_context's coroutine. True when every record was acknowledged within
/// `limit`.
bool produce_numbered(const std::string& bootstrap, const std::string& topic, int first, int n, int partition = 0,
                      std::chrono::milliseconds limit = std::chrono::seconds(90));

}  // namespace asiokafka::test
