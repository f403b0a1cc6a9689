// A growable byte buffer that never zero-fills: the record batch encoder's buffers and the
// compressors' output (protocol/compression.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

namespace asiokafka::protocol {

/// A growable byte buffer that does not zero what it adds (the encoder overwrites it all).
class byte_buffer {
 public:
  std::uint8_t* data() noexcept { return data_.get(); }
  const std::uint8_t* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  void clear() noexcept { size_ = 0; }
  void reserve(std::size_t n) {
    if (n <= capacity_) return;
    const std::size_t cap = n > capacity_ * 2 ? n : capacity_ * 2;
    std::unique_ptr<std::uint8_t[]> bigger(new std::uint8_t[cap]);
    if (size_ != 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = cap;
  }
  /// Appends `n` uninitialised bytes and returns where they start.
  std::uint8_t* extend(std::size_t n) {
    if (capacity_ - size_ < n) reserve(size_ + n);
    std::uint8_t* p = data_.get() + size_;
    size_ += n;
    return p;
  }
  void resize_down(std::size_t n) noexcept { size_ = n; }
  /// The size becomes `n`: bytes added are uninitialised (as a vector's resize, without zeroing).
  void resize(std::size_t n) {
    if (n > capacity_) reserve(n);
    size_ = n;
  }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace asiokafka::protocol
