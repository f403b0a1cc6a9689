// Per-message test operations over the generated codec, instantiated for every message by
// the generated tests/unit/generated/codec_fill.cpp (which supplies deterministic values).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include "asiokafka/error.hpp"
#include "asiokafka/protocol/messages.hpp"

namespace asiokafka::protocol::messages {

struct CodecCase {
  std::string name;
  std::int16_t api_key;
  std::int16_t min_version;
  std::int16_t max_version;
  std::int16_t flexible_min_version;
  /// Encodes the deterministic test value of this message for `version`.
  std::function<std::error_code(std::int16_t, std::vector<std::uint8_t>&)> encode_filled;
  /// fill -> encode -> decode -> equal -> re-encode -> same bytes.
  std::function<testing::AssertionResult(std::int16_t)> round_trip;
  /// Adds unknown tagged fields to the top-level struct; they survive decode -> encode.
  std::function<testing::AssertionResult(std::int16_t)> unknown_tags_survive;
  /// Every strict prefix of the encoding fails to decode with truncated.
  std::function<testing::AssertionResult(std::int16_t)> prefixes_truncated;
};

const std::vector<CodecCase>& all_codec_cases();

template <class M, class Fill>
CodecCase make_case(std::string name, Fill fill) {
  CodecCase c;
  c.name = std::move(name);
  c.api_key = M::api_key;
  c.min_version = M::min_version;
  c.max_version = M::max_version;
  c.flexible_min_version = M::flexible_min_version;
  c.encode_filled = [fill](std::int16_t v, std::vector<std::uint8_t>& out) {
    M m;
    fill(m, v);
    return m.encode(out, v);
  };
  c.round_trip = [fill](std::int16_t v) -> testing::AssertionResult {
    M m;
    fill(m, v);
    std::vector<std::uint8_t> bytes;
    if (auto ec = m.encode(bytes, v)) return testing::AssertionFailure() << "encode: " << ec.message();
    // Only a version without fields (empty body, or just an empty tagged-field section) may
    // leave the value at its default.
    if (m == M{} && bytes.size() > 1) return testing::AssertionFailure() << "fill left the default value";
    M back;
    if (auto ec = back.decode(bytes, v)) return testing::AssertionFailure() << "decode: " << ec.message();
    if (!(back == m)) return testing::AssertionFailure() << "decoded value differs";
    std::vector<std::uint8_t> again;
    if (auto ec = back.encode(again, v)) return testing::AssertionFailure() << "re-encode: " << ec.message();
    if (again != bytes) return testing::AssertionFailure() << "re-encoded bytes differ";
    return testing::AssertionSuccess();
  };
  c.unknown_tags_survive = [fill](std::int16_t v) -> testing::AssertionResult {
    if constexpr (M::flexible_min_version >= 0) {
      M m;
      fill(m, v);
      m.unknown_tagged_fields.push_back({9000, {1, 2, 3}});
      m.unknown_tagged_fields.push_back({9001, {}});
      std::vector<std::uint8_t> bytes;
      if (auto ec = m.encode(bytes, v)) return testing::AssertionFailure() << "encode: " << ec.message();
      M back;
      if (auto ec = back.decode(bytes, v)) return testing::AssertionFailure() << "decode: " << ec.message();
      if (back.unknown_tagged_fields != m.unknown_tagged_fields) {
        return testing::AssertionFailure() << "unknown tags lost";
      }
      std::vector<std::uint8_t> again;
      if (auto ec = back.encode(again, v)) return testing::AssertionFailure() << "re-encode: " << ec.message();
      if (again != bytes) return testing::AssertionFailure() << "re-encoded bytes differ";
    }
    (void)fill;
    (void)v;
    return testing::AssertionSuccess();
  };
  c.prefixes_truncated = [fill](std::int16_t v) -> testing::AssertionResult {
    M m;
    fill(m, v);
    std::vector<std::uint8_t> bytes;
    if (auto ec = m.encode(bytes, v)) return testing::AssertionFailure() << "encode: " << ec.message();
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      M back;
      const auto ec = back.decode(std::span<const std::uint8_t>(bytes.data(), n), v);
      if (ec != make_error_code(client_errc::truncated)) {
        return testing::AssertionFailure() << "prefix of " << n << " of " << bytes.size()
                                           << " bytes: " << (ec ? ec.message() : "decoded");
      }
    }
    return testing::AssertionSuccess();
  };
  return c;
}

}  // namespace asiokafka::protocol::messages
