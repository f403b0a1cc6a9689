// What the examples share: running a coroutine to completion with a readable error, and
// creating the topic they write to (an existing topic is fine).
#pragma once

#include <cstdio>
#include <exception>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include <vector>

#include "asiokafka/admin.hpp"
#include "asiokafka/kafka_error.hpp"

namespace examples {

/// Runs `task` on a fresh io_context; prints the exception that ended it, if any.
/// Returns the process exit status.
inline int run(boost::asio::awaitable<void> task, const char* name) {
  boost::asio::io_context io;
  int status = 0;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "%s: %s\n", name, ex.what());
      status = 1;
    }
  });
  io.run();
  return status;
}

/// Creates `topic` with `partitions` partitions unless it exists (asiokafka::Admin).
inline boost::asio::awaitable<void> ensure_topic(std::string bootstrap, std::string topic, int partitions) {
  const auto executor = co_await boost::asio::this_coro::executor;
  asiokafka::Admin admin(executor, {.bootstrap_servers = std::move(bootstrap)});
  co_await admin.start();
  std::vector<asiokafka::NewTopic> topics{asiokafka::NewTopic(topic, partitions)};  // the broker's replication
  const auto created = co_await admin.create_topics(std::move(topics));
  if (created.at(0).error != asiokafka::kafka_errc::topic_already_exists) created[0].throw_if_error();
  co_await admin.close();
}

}  // namespace examples
