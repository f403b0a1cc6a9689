// Non-owning views of record bytes shared by the Producer and the Consumer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "asiokafka/protocol/records.hpp"

namespace asiokafka {

/// A view of bytes for keys, values and header values: from std::string(_view), string
/// literals, std::span<const std::byte> or std::span<const std::uint8_t>. It owns nothing:
/// Producer::send() copies the bytes before it returns (so the view may refer to a
/// temporary); a consumed record's views live as long as the record.
class BytesView {
 public:
  BytesView(std::string_view s) noexcept : data_(reinterpret_cast<const std::uint8_t*>(s.data())), size_(s.size()) {}
  BytesView(const char* s) noexcept : BytesView(std::string_view(s)) {}
  BytesView(const std::string& s) noexcept : BytesView(std::string_view(s)) {}
  BytesView(std::span<const std::byte> b) noexcept
      : data_(reinterpret_cast<const std::uint8_t*>(b.data())), size_(b.size()) {}
  BytesView(std::span<const std::uint8_t> b) noexcept : data_(b.data()), size_(b.size()) {}
  BytesView(const std::vector<std::uint8_t>& b) noexcept : data_(b.data()), size_(b.size()) {}

  const std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  protocol::byte_view bytes() const noexcept { return {data_, size_}; }
  /// The bytes as characters (no copy, no check that they are text).
  std::string_view as_string() const noexcept { return {reinterpret_cast<const char*>(data_), size_}; }
  std::span<const std::byte> as_bytes() const noexcept { return {reinterpret_cast<const std::byte*>(data_), size_}; }
  bool empty() const noexcept { return size_ == 0; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
};

/// A record header: a string key and an optional (nullable) value. Views, copied by send().
struct Header {
  std::string_view key;
  std::optional<BytesView> value;
};

}  // namespace asiokafka
