#include "asiokafka/buffer.hpp"

#include <cstring>
#include <new>
#include <utility>

namespace asiokafka {

// The bytes follow the block header in the same allocation; the header's size is a multiple
// of its alignment, so the bytes start suitably aligned for any byte access.
shared_buffer shared_buffer::allocate(std::size_t capacity) {
  shared_buffer out;
  if (capacity == 0) return out;
  void* mem = ::operator new(sizeof(block) + capacity);
  out.b_ = ::new (mem) block{{1}, capacity};
  return out;
}

shared_buffer::shared_buffer(const shared_buffer& o) noexcept : b_(o.b_) {
  if (b_ != nullptr) b_->refs.fetch_add(1, std::memory_order_relaxed);
}

shared_buffer& shared_buffer::operator=(const shared_buffer& o) noexcept {
  if (o.b_ != nullptr) o.b_->refs.fetch_add(1, std::memory_order_relaxed);
  release();
  b_ = o.b_;
  return *this;
}

shared_buffer& shared_buffer::operator=(shared_buffer&& o) noexcept {
  if (this != &o) {
    release();
    b_ = o.b_;
    o.b_ = nullptr;
  }
  return *this;
}

std::uint8_t* shared_buffer::data() const noexcept {
  return b_ != nullptr ? reinterpret_cast<std::uint8_t*>(b_ + 1) : nullptr;
}

void shared_buffer::release() noexcept {
  if (b_ == nullptr) return;
  if (b_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    b_->~block();
    ::operator delete(static_cast<void*>(b_));
  }
  b_ = nullptr;
}

frame frame::copy_of(std::span<const std::uint8_t> bytes) {
  shared_buffer b = shared_buffer::allocate(bytes.size());
  if (!bytes.empty()) std::memcpy(b.data(), bytes.data(), bytes.size());
  const std::span<const std::uint8_t> view(b.data(), bytes.size());
  return {std::move(b), view};
}

}  // namespace asiokafka
