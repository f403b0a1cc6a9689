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

#include "asiokafka/client.hpp"
#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages.hpp"

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

/// Creates `topic` with `partitions` partitions unless it exists (admin request through
/// the low-level asiokafka::Client).
inline boost::asio::awaitable<void> ensure_topic(std::string bootstrap, std::string topic, int partitions) {
  asiokafka::ClientConfig config;
  config.bootstrap_servers = std::move(bootstrap);
  asiokafka::Client client(co_await boost::asio::this_coro::executor, config);
  co_await client.start();
  asiokafka::protocol::messages::CreateTopicsRequest create;
  asiokafka::protocol::messages::CreateTopicsRequest::CreatableTopic t;
  t.name = topic;
  t.num_partitions = partitions;
  t.replication_factor = -1;  // the broker's default
  create.topics.push_back(std::move(t));
  create.timeout_ms = 10'000;
  const auto created = co_await client.send_to_controller(create);
  for (const auto& r : created->topics) {
    if (r.error_code != 0 && asiokafka::make_kafka_error(r.error_code) != asiokafka::kafka_errc::topic_already_exists) {
      throw asiokafka::error(asiokafka::make_kafka_error(r.error_code), "creating topic " + topic);
    }
  }
  co_await client.close();
}

}  // namespace examples
