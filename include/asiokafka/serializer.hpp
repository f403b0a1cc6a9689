// Serializers for typed keys and values (aiokafka's key_serializer / value_serializer): a
// callable that appends a value's bytes to a std::string the producer reuses, so serializing
// allocates nothing once that buffer has grown. See TypedProducer (typed_producer.hpp).
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace asiokafka {

/// `s(value, out)` appends the bytes of `value` to `out` (it must not clear `out`). It may
/// throw; the send then fails with that exception and nothing is sent.
template <class S, class T>
concept Serializer = requires(const S& s, const T& value, std::string& out) {
  { s(value, out) } -> std::same_as<void>;
};

/// Bytes as they are: std::string, std::string_view, string literals, byte spans.
struct BytesSerializer {
  void operator()(std::string_view v, std::string& out) const { out.append(v); }
  void operator()(std::span<const std::byte> v, std::string& out) const {
    out.append(reinterpret_cast<const char*>(v.data()), v.size());
  }
};

}  // namespace asiokafka
