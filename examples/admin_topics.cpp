// aiokafka's admin example: create topics, describe them, list the cluster's topics, then
// delete them. Shows per-topic results: creating a topic that exists reports it for that
// topic alone.
//
//   admin_topics [bootstrap] [topic prefix]
#include <cstdio>
#include <string>
#include <vector>

#include <boost/asio/this_coro.hpp>

#include "asiokafka/admin.hpp"
#include "common.hpp"

namespace asio = boost::asio;

asio::awaitable<void> run(std::string bootstrap, std::string prefix) {
  const auto executor = co_await asio::this_coro::executor;
  asiokafka::Admin admin(executor, {.bootstrap_servers = bootstrap});
  co_await admin.start();

  const asiokafka::ClusterDescription cluster = co_await admin.describe_cluster();
  std::printf("cluster %s: %zu broker(s), controller %d\n", cluster.cluster_id.c_str(), cluster.brokers.size(),
              cluster.controller_id);

  std::vector<asiokafka::NewTopic> topics{
      asiokafka::NewTopic(prefix + "-orders", 3, 1),
      asiokafka::NewTopic(prefix + "-audit", 1, 1).config("cleanup.policy", "compact"),
  };
  for (const auto& r : co_await admin.create_topics(topics)) {
    std::printf("create %s: %s\n", r.name.c_str(), r.ok() ? "created" : r.error_message.c_str());
  }
  // Again: each topic now reports TOPIC_ALREADY_EXISTS, and nothing else fails.
  for (const auto& r : co_await admin.create_topics(topics)) {
    const std::string outcome =
        r.ok() ? "created" : std::string(asiokafka::error_name(static_cast<asiokafka::kafka_errc>(r.error.value())));
    std::printf("create again %s: %s\n", r.name.c_str(), outcome.c_str());
  }

  std::vector<std::string> names{prefix + "-orders", prefix + "-audit"};
  for (const auto& d : co_await admin.describe_topics(names)) {
    d.throw_if_error();
    std::printf("describe %s: %zu partition(s)\n", d.name.c_str(), d.partitions.size());
    for (const auto& p : d.partitions) {
      std::printf("  partition %d leader %d replicas %zu isr %zu\n", p.partition, p.leader ? p.leader->node_id : -1,
                  p.replicas.size(), p.isr.size());
    }
  }

  std::size_t ours = 0;
  for (const auto& t : co_await admin.list_topics()) ours += t.name.rfind(prefix + "-", 0) == 0 ? 1 : 0;
  std::printf("list: %zu topic(s) with prefix %s\n", ours, prefix.c_str());

  const auto deleted = co_await admin.delete_topics(names);
  asiokafka::throw_if_any_error(deleted);
  std::printf("deleted %zu topic(s)\n", deleted.size());
  co_await admin.close();
}

int main(int argc, char** argv) {
  return examples::run(run(argc > 1 ? argv[1] : "127.0.0.1:9092", argc > 2 ? argv[2] : "example-admin"),
                       "admin_topics");
}
