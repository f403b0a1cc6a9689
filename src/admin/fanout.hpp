// Admin operations that ask several brokers at once (one request per partition leader or per
// broker): run the requests concurrently and wait for all of them.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>

#include "net/notifier.hpp"
#include "net/sansio/time.hpp"

namespace asiokafka::admin {

/// Runs `tasks` concurrently on the calling coroutine's executor and waits until every one has
/// ended (notified), `deadline` (timed_out) or the caller's cancellation (cancelled). Tasks
/// still running then are cancelled and end on their own, so each must own what it touches
/// (its request, its copy of the op_context, its results: shared_ptrs); `owner` (the admin's
/// state) is kept alive until each has ended.
inline boost::asio::awaitable<net::wait_status> run_all(std::vector<boost::asio::awaitable<void>> tasks,
                                                        std::shared_ptr<void> owner, net::time_point deadline) {
  net::task_group group(co_await boost::asio::this_coro::executor);
  for (auto& t : tasks) group.spawn(std::move(t), owner);
  co_return co_await group.join(deadline);
}

}  // namespace asiokafka::admin
