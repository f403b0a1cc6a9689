// ClientConfig validation and bootstrap_servers parsing (config.hpp).
#include <algorithm>
#include <cctype>

#include "asiokafka/config.hpp"
#include "asiokafka/error.hpp"
#include "net/sansio/address.hpp"

namespace asiokafka {

namespace {

[[noreturn]] void bad_config(const std::string& what) { throw error(client_errc::invalid_config, what); }

std::string ms(std::chrono::milliseconds v) { return std::to_string(v.count()) + " ms"; }

}  // namespace

std::vector<BrokerAddress> parse_bootstrap_servers(std::string_view list) {
  std::vector<BrokerAddress> out;
  std::size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && (list[i] == ',' || std::isspace(static_cast<unsigned char>(list[i])) != 0)) ++i;
    std::size_t j = i;
    while (j < list.size() && list[j] != ',' && std::isspace(static_cast<unsigned char>(list[j])) == 0) ++j;
    if (j > i) {
      const std::string_view entry = list.substr(i, j - i);
      std::string why;
      auto parsed = net::parse_host_port(entry, 9092, why);
      if (!parsed) bad_config("ClientConfig.bootstrap_servers: '" + std::string(entry) + "' " + why);
      if (std::find(out.begin(), out.end(), *parsed) == out.end()) out.push_back(std::move(*parsed));
    }
    i = j;
  }
  if (out.empty()) bad_config("ClientConfig.bootstrap_servers is empty (expected host[:port],...)");
  return out;
}

void validate(const ClientConfig& c) {
  (void)parse_bootstrap_servers(c.bootstrap_servers);
  auto positive = [](const char* name, std::chrono::milliseconds v) {
    if (v.count() <= 0) bad_config(std::string("ClientConfig.") + name + " must be > 0 (got " + ms(v) + ")");
  };
  auto non_negative = [](const char* name, std::chrono::milliseconds v) {
    if (v.count() < 0) bad_config(std::string("ClientConfig.") + name + " must be >= 0 (got " + ms(v) + ")");
  };
  positive("request_timeout", c.request_timeout);
  positive("connect_timeout", c.connect_timeout);
  positive("metadata_max_age", c.metadata_max_age);
  positive("connections_max_idle", c.connections_max_idle);
  non_negative("retry_backoff", c.retry_backoff);
  non_negative("reconnect_backoff", c.reconnect_backoff);
  non_negative("reconnect_backoff_max", c.reconnect_backoff_max);
  if (c.client_id.size() > 32767) bad_config("ClientConfig.client_id is longer than 32767 bytes");
  if (c.max_in_flight_requests_per_connection == 0) {
    bad_config("ClientConfig.max_in_flight_requests_per_connection must be >= 1");
  }
  if (c.max_response_bytes < 1024) bad_config("ClientConfig.max_response_bytes must be >= 1024");
  const bool sasl = c.security_protocol == SecurityProtocol::sasl_plaintext ||
                    c.security_protocol == SecurityProtocol::sasl_ssl;
  const bool tls = c.security_protocol == SecurityProtocol::ssl || c.security_protocol == SecurityProtocol::sasl_ssl;
  if (sasl && !c.sasl) {
    bad_config("ClientConfig.sasl must be set for security_protocol SASL_PLAINTEXT or SASL_SSL");
  }
  if (!sasl && c.sasl) {
    bad_config("ClientConfig.sasl is set but security_protocol is not SASL_PLAINTEXT or SASL_SSL");
  }
  if (!tls && c.ssl_context) {
    bad_config("ClientConfig.ssl_context is set but security_protocol is not SSL or SASL_SSL");
  }
}

namespace detail {

void validate_shared_as(const ClientConfig& shared, std::string_view config_name) {
  try {
    validate(shared);
  } catch (const error& e) {
    std::string what = e.what();
    // std::system_error appends ": <category message>" to the text it was given; drop it so
    // the rethrown error does not carry it twice.
    const std::string suffix = ": " + e.code().message();
    if (what.size() >= suffix.size() && what.compare(what.size() - suffix.size(), suffix.size(), suffix) == 0) {
      what.resize(what.size() - suffix.size());
    }
    const std::string_view from = "ClientConfig.";
    if (what.starts_with(from)) what.replace(0, from.size(), std::string(config_name) + ".");
    throw error(e.code(), what);
  }
}

}  // namespace detail

}  // namespace asiokafka
