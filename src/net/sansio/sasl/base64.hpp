// Base64 (RFC 4648 §4, standard alphabet with padding) for SCRAM attributes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace asiokafka::sasl {

std::string base64_encode(std::span<const std::uint8_t> data);
/// Strict decoding: length a multiple of 4, only alphabet characters, '=' only as final
/// padding. nullopt for anything else.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

}  // namespace asiokafka::sasl
