// ConsumerRecord::detach(): a record's bytes copied into one allocation of its own.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "asiokafka/consumer_record.hpp"

namespace asiokafka {

namespace {

// Headers are kept in the encoding records use (zigzag varint lengths, -1 for a null value),
// so the copy is read by the same lazy view as the original.
std::size_t varint_size(std::int32_t n) noexcept {
  auto z = (static_cast<std::uint32_t>(n) << 1) ^ static_cast<std::uint32_t>(n >> 31);
  std::size_t size = 1;
  while (z >= 0x80) {
    z >>= 7;
    ++size;
  }
  return size;
}

std::uint8_t* put_varint(std::uint8_t* p, std::int32_t n) noexcept {
  auto z = (static_cast<std::uint32_t>(n) << 1) ^ static_cast<std::uint32_t>(n >> 31);
  while (z >= 0x80) {
    *p++ = static_cast<std::uint8_t>(z | 0x80);
    z >>= 7;
  }
  *p++ = static_cast<std::uint8_t>(z);
  return p;
}

std::uint8_t* put(std::uint8_t* p, const void* data, std::size_t n) noexcept {
  if (n != 0) std::memcpy(p, data, n);
  return p + n;
}

}  // namespace

ConsumerRecord ConsumerRecord::detach() const {
  // The lengths come from a decoded record (or were built by the caller), so each fits int32.
  std::size_t size = topic.size() + (key ? key->size() : 0) + (value ? value->size() : 0);
  for (const Header& h : headers) {
    size += varint_size(static_cast<std::int32_t>(h.key.size())) + h.key.size();
    size += h.value ? varint_size(static_cast<std::int32_t>(h.value->size())) + h.value->size() : varint_size(-1);
  }
  auto block = std::make_shared_for_overwrite<std::uint8_t[]>(std::max<std::size_t>(size, 1));
  std::uint8_t* p = block.get();

  ConsumerRecord out = *this;  // plain fields; every view is replaced below
  out.topic = std::string_view(reinterpret_cast<const char*>(p), topic.size());
  p = put(p, topic.data(), topic.size());
  if (key) {
    out.key.emplace(std::span<const std::uint8_t>(p, key->size()));
    p = put(p, key->data(), key->size());
  }
  if (value) {
    out.value.emplace(std::span<const std::uint8_t>(p, value->size()));
    p = put(p, value->data(), value->size());
  }
  const std::uint8_t* first_header = p;
  for (const Header& h : headers) {
    p = put_varint(p, static_cast<std::int32_t>(h.key.size()));
    p = put(p, h.key.data(), h.key.size());
    if (h.value) {
      p = put_varint(p, static_cast<std::int32_t>(h.value->size()));
      p = put(p, h.value->data(), h.value->size());
    } else {
      p = put_varint(p, -1);
    }
  }
  out.headers = ConsumerRecordHeaders(
      protocol::RecordHeaders(first_header, static_cast<std::int32_t>(headers.size())));
  out.storage = std::move(block);  // the copy above took a reference to the old storage: dropped here
  return out;
}

}  // namespace asiokafka
