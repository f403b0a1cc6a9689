#include "net/sansio/address.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace asiokafka::net {

std::optional<BrokerAddress> parse_host_port(std::string_view entry, std::uint16_t default_port, std::string& why) {
  if (const auto scheme = entry.find("://"); scheme != std::string_view::npos) entry.remove_prefix(scheme + 3);
  BrokerAddress out;
  out.port = default_port;
  std::string_view port_text;
  bool has_port = false;
  if (!entry.empty() && entry.front() == '[') {
    const auto close = entry.find(']');
    if (close == std::string_view::npos || close == 1) {
      why = "is not host[:port] ('[' without ']')";
      return std::nullopt;
    }
    out.host = std::string(entry.substr(1, close - 1));
    const auto rest = entry.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        why = "is not host[:port]";
        return std::nullopt;
      }
      port_text = rest.substr(1);
      has_port = true;
    }
  } else {
    const auto colon = entry.rfind(':');
    if (colon != std::string_view::npos && entry.find(':') == colon) {
      out.host = std::string(entry.substr(0, colon));
      port_text = entry.substr(colon + 1);
      has_port = true;
    } else {
      out.host = std::string(entry);  // no port, or a bare IPv6 literal
    }
  }
  if (out.host.empty()) {
    why = "has no host";
    return std::nullopt;
  }
  if (has_port) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      why = "has no valid port (1-65535)";
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  return out;
}

bool is_ip_literal(std::string_view host) noexcept {
  if (host.empty() || host.size() > 63) return false;
  char text[64] = {};
  host.copy(text, host.size());
  unsigned char addr[16];
  return inet_pton(AF_INET, text, addr) == 1 || inet_pton(AF_INET6, text, addr) == 1;
}

std::string format_address(std::string_view host, std::uint16_t port) {
  std::string out;
  const bool bracket = host.find(':') != std::string_view::npos && is_ip_literal(host);
  if (bracket) out += '[';
  out += host;
  if (bracket) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

}  // namespace asiokafka::net
