// The one clock type of net. The sans-I/O core never reads it: time is always an argument.
#pragma once

#include <chrono>

namespace asiokafka::net {

using clock = std::chrono::steady_clock;
using time_point = clock::time_point;

}  // namespace asiokafka::net
