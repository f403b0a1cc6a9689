// What the Admin tests share: unique names, the rig's Admin options, and waits until the
// broker's metadata shows what the controller just did. A KRaft broker learns of a topic (or new partitions) from the controller a moment after
// CreateTopics / CreatePartitions is answered, so a describe right after a create may still
// answer UNKNOWN_TOPIC_OR_PARTITION, as with the Java Admin. Bounded: 50 tries, 100 ms apart.
#pragma once

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/admin.hpp"
#include "asiokafka/kafka_error.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {

/// `prefix` and a random suffix: topics, groups, users and ids no other test run uses.
inline std::string unique_name(const std::string& prefix) {
  std::random_device rd;
  return prefix + "-" + std::to_string(rd()) + std::to_string(rd());
}

/// The rig's PLAINTEXT listener (User:ANONYMOUS, a super user), a 20 s operation timeout.
inline AdminConfig admin_config(const Rig& rig) {
  AdminConfig c;
  c.bootstrap_servers = rig.bootstrap("PLAINTEXT");
  c.default_api_timeout = std::chrono::seconds(20);
  return c;
}

/// describe_topics until every topic is known (or 50 tries): the last answer.
inline boost::asio::awaitable<std::vector<TopicDescription>> describe_created(Admin& admin,
                                                                              std::vector<std::string> names) {
  std::vector<TopicDescription> d;
  for (int attempt = 0; attempt < 50; ++attempt) {
    d = co_await admin.describe_topics(names);
    const bool known = std::all_of(d.begin(), d.end(), [](const TopicDescription& x) {
      return x.error != kafka_errc::unknown_topic_or_partition && x.error != kafka_errc::leader_not_available;
    });
    if (known) break;
    boost::asio::steady_timer pace(co_await boost::asio::this_coro::executor, std::chrono::milliseconds(100));
    co_await pace.async_wait(boost::asio::use_awaitable);
  }
  co_return d;
}

/// describe_topics until `topic` has `partitions` partitions (or 50 tries): the last count.
inline boost::asio::awaitable<std::size_t> await_partition_count(Admin& admin, std::string topic,
                                                                 std::size_t partitions) {
  std::size_t count = 0;
  for (int attempt = 0; attempt < 50; ++attempt) {
    const auto d = co_await admin.describe_topics(std::vector<std::string>(1, topic));
    count = d.at(0).partitions.size();
    if (count == partitions) break;
    boost::asio::steady_timer pace(co_await boost::asio::this_coro::executor, std::chrono::milliseconds(100));
    co_await pace.async_wait(boost::asio::use_awaitable);
  }
  co_return count;
}

}  // namespace asiokafka::test
