// Host and port text, parsed and printed in one place: bootstrap_servers entries, probe
// addresses and the "host:port" in every error message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "asiokafka/metadata.hpp"

namespace asiokafka::net {

/// Parses "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 literal (no port); a
/// "SCHEME://" prefix is ignored. The port defaults to `default_port`. On failure returns
/// nullopt and sets `why` (e.g. "has no valid port (1-65535)").
std::optional<BrokerAddress> parse_host_port(std::string_view text, std::uint16_t default_port, std::string& why);

/// Whether `host` is an IPv4 or IPv6 literal (no brackets), as opposed to a name to resolve.
bool is_ip_literal(std::string_view host) noexcept;

/// "host:port", with IPv6 literals in brackets ("[::1]:9092").
std::string format_address(std::string_view host, std::uint16_t port);

}  // namespace asiokafka::net
