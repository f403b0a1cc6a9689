// Deserializers for typed keys and values of consumed records (aiokafka's key_deserializer /
// value_deserializer): a callable that turns a record's bytes into a value. Applied on demand,
// so records stay views and only what the application reads is decoded:
//
//   const Order order = *asiokafka::value_as(record, OrderDeserializer{});
//   std::optional<std::string> key = asiokafka::key_as(record);   // StringDeserializer
#pragma once

#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "asiokafka/bytes.hpp"
#include "asiokafka/consumer_record.hpp"

namespace asiokafka {

/// `d(bytes)` returns the value the bytes encode. It may throw (a malformed payload); the
/// exception reaches the caller of key_as / value_as, and the record stays as it was.
template <class D>
concept Deserializer = requires(const D& d, BytesView bytes) {
  { d(bytes) };
  requires !std::is_void_v<decltype(d(bytes))>;
};

/// The bytes as a std::string (a copy: it outlives the record).
struct StringDeserializer {
  std::string operator()(BytesView b) const { return std::string(b.as_string()); }
};

/// The bytes as a std::vector<std::byte> (a copy).
struct BytesDeserializer {
  std::vector<std::byte> operator()(BytesView b) const {
    const auto s = b.as_bytes();
    return {s.begin(), s.end()};
  }
};

/// The record's key decoded by `d`; nullopt for a null key.
template <Deserializer D = StringDeserializer>
auto key_as(const ConsumerRecord& record, const D& d = {}) -> std::optional<std::decay_t<decltype(d(std::declval<BytesView>()))>> {
  if (!record.key) return std::nullopt;
  return d(*record.key);
}

/// The record's value decoded by `d`; nullopt for a null value (a tombstone).
template <Deserializer D = StringDeserializer>
auto value_as(const ConsumerRecord& record, const D& d = {}) -> std::optional<std::decay_t<decltype(d(std::declval<BytesView>()))>> {
  if (!record.value) return std::nullopt;
  return d(*record.value);
}

}  // namespace asiokafka
