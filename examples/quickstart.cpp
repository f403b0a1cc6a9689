// Quickstart: connect to a broker and print what it reports about itself.
//
//   quickstart [bootstrap]        (default 127.0.0.1:9092; rig/quickstart passes the rig's)
//
// Later issues turn this into produce-and-consume with asiokafka::Producer and Consumer.
#include <cstdio>
#include <exception>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include "asiokafka/probe.hpp"
#include "asiokafka/version.hpp"

namespace asio = boost::asio;

asio::awaitable<void> run(std::string bootstrap) {
  // co_await throws asiokafka::error (a std::system_error naming the broker) on failure.
  const auto executor = co_await asio::this_coro::executor;
  const asiokafka::BrokerProbe probe = co_await asiokafka::probe_broker(executor, bootstrap);
  std::printf("asiokafka %s connected to %s\n", asiokafka::version_string, probe.address.c_str());
  std::printf("cluster id: %s, controller: %d\n", probe.cluster_id.value_or("(none)").c_str(), probe.controller_id);
  for (const auto& b : probe.brokers) {
    std::printf("broker %d at %s:%d%s%s\n", b.node_id, b.host.c_str(), b.port, b.rack ? " rack " : "",
                b.rack.value_or("").c_str());
  }
  std::printf("%zu APIs (ApiVersions v%d):\n", probe.api_versions.size(), probe.api_versions_version);
  for (const auto& v : probe.api_versions) {
    std::printf("  api %3d  versions %d..%d\n", v.api_key, v.min_version, v.max_version);
  }
}

int main(int argc, char** argv) {
  const std::string bootstrap = argc > 1 ? argv[1] : "127.0.0.1:9092";
  asio::io_context io;
  int status = 0;
  asio::co_spawn(io, run(bootstrap), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "quickstart: %s\n", ex.what());
      status = 1;
    }
  });
  io.run();
  return status;
}
