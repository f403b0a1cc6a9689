// Compiled and run by the package_consumer test against an installed asiokafka.
#include <cstdio>
#include <cstring>
#include <system_error>

#include <asiokafka/client.hpp>
#include <asiokafka/error.hpp>
#include <asiokafka/probe.hpp>
#include <asiokafka/version.hpp>

int main() {
  const std::error_code ec = asiokafka::client_errc::timeout;  // needs the library's category
  asiokafka::ProbeOptions options;
  std::printf("asiokafka %s: %s (%s), probe timeout %lld ms\n", asiokafka::version_string, ec.message().c_str(),
              ec.category().name(), static_cast<long long>(options.timeout.count()));
  // The installed headers carry the Client and its config validation (defined in the library).
  asiokafka::ClientConfig config;
  config.bootstrap_servers = "broker-a:9093,broker-b";
  asiokafka::validate(config);
  const auto servers = asiokafka::parse_bootstrap_servers(config.bootstrap_servers);
  if (servers.size() != 2 || servers[1].port != 9092) return 1;
  return std::strcmp(ec.category().name(), "asiokafka.client") == 0 ? 0 : 1;
}
