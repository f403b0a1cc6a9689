// Types shared by the generated Kafka message structs (asiokafka/protocol/messages/*.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace asiokafka::protocol {

/// A Kafka UUID (16 bytes, big-endian as on the wire).
using uuid = std::array<std::uint8_t, 16>;

namespace messages {

/// A tagged field that the decoded version does not define, kept verbatim so that
/// decode -> encode preserves it.
struct TaggedField {
  std::uint32_t tag = 0;
  std::vector<std::uint8_t> data;
  friend bool operator==(const TaggedField&, const TaggedField&) = default;
};

/// A `records` field: a non-owning view of a record-batch byte range (nullopt is null).
/// After decode it points into the decoded body, which must outlive it; before encode it
/// may point anywhere the caller keeps alive. Equality compares the bytes.
struct RecordsView {
  std::optional<std::span<const std::uint8_t>> data;

  bool is_null() const noexcept { return !data.has_value(); }
  std::span<const std::uint8_t> bytes() const noexcept {
    return data ? *data : std::span<const std::uint8_t>{};
  }
  friend bool operator==(const RecordsView& a, const RecordsView& b) noexcept {
    if (a.data.has_value() != b.data.has_value()) return false;
    return !a.data || std::ranges::equal(*a.data, *b.data);
  }
};

/// The large `records` fields an encode left out of the body, for a zero-copy (gathering)
/// write: each segment's bytes belong at `offset` of the encoded body, before the byte found
/// there, in order. The bytes stay the caller's: whoever writes the frame keeps them alive.
/// Fields shorter than `min_size` are copied into the body as usual.
struct GatheredRecords {
  struct Segment {
    std::size_t offset = 0;
    std::span<const std::uint8_t> data;
  };
  std::vector<Segment> segments;
  std::size_t min_size = 4096;

  /// The bytes of all segments.
  std::size_t bytes() const noexcept {
    std::size_t n = 0;
    for (const auto& s : segments) n += s.data.size();
    return n;
  }
};

}  // namespace messages
}  // namespace asiokafka::protocol
