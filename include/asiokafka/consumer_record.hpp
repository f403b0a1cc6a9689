// The record a Consumer hands to the application (aiokafka's ConsumerRecord): its fields, and
// views of its key, value, headers and topic name that stay valid for as long as the record
// (or any copy of it) lives.
//
// Lifetimes. A record's views point into bytes that `storage` keeps alive: for a record of an
// uncompressed batch, the fetch response it came in; for one of a compressed batch, that
// batch's decompression buffer (see RecordsReader::batch_storage()); the topic name is kept
// by the same handle. Records of one fetch share these, so copying a record costs one
// reference count and decoding one allocates nothing of its own. The flip side: one record
// kept for long pins its whole fetch response (or decompressed batch). detach() gives a
// record that owns just its own bytes, for records kept beyond the next few polls.
// Copying a view out of a record (e.g. `BytesView v = *rec.value;`) does not extend the
// bytes' life: keep the record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "asiokafka/buffer.hpp"
#include "asiokafka/bytes.hpp"
#include "asiokafka/protocol/records.hpp"

namespace asiokafka {

/// The headers of a consumed record: a forward range of Header (key, nullable value) decoded
/// lazily from the record's bytes. Cheap to copy; valid as long as the record that holds it.
class ConsumerRecordHeaders {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Header;
    using difference_type = std::ptrdiff_t;
    using pointer = const Header*;
    using reference = const Header&;

    iterator() = default;
    explicit iterator(protocol::RecordHeaders::iterator it) noexcept : it_(it) { load(); }
    reference operator*() const noexcept { return current_; }
    pointer operator->() const noexcept { return &current_; }
    iterator& operator++() noexcept {
      ++it_;
      load();
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.it_ == b.it_; }

   private:
    void load() noexcept {
      if (it_ == protocol::RecordHeaders::iterator()) return;
      current_.key = it_->key;
      current_.value.reset();
      if (it_->value) current_.value.emplace(*it_->value);
    }
    protocol::RecordHeaders::iterator it_;
    Header current_{};
  };

  ConsumerRecordHeaders() = default;
  explicit ConsumerRecordHeaders(protocol::RecordHeaders encoded) noexcept : encoded_(encoded) {}

  iterator begin() const noexcept { return iterator(encoded_.begin()); }
  iterator end() const noexcept { return iterator(); }
  std::size_t size() const noexcept { return encoded_.size(); }
  bool empty() const noexcept { return encoded_.empty(); }
  /// The last header named `key` (Java's lastHeader), or nullopt.
  std::optional<Header> last(std::string_view key) const noexcept {
    std::optional<Header> found;
    for (const Header& h : *this) {
      if (h.key == key) found = h;
    }
    return found;
  }
  /// The encoded form (what the record's bytes hold).
  const protocol::RecordHeaders& encoded() const noexcept { return encoded_; }

 private:
  protocol::RecordHeaders encoded_;
};

/// One consumed record. Fields as aiokafka's ConsumerRecord; the views (topic, key, value,
/// headers) live as long as this record or a copy of it (see the file comment).
struct ConsumerRecord {
  std::string_view topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  /// Milliseconds since the epoch; -1 when the record has none (magic 0 messages).
  std::int64_t timestamp = -1;
  protocol::TimestampType timestamp_type = protocol::TimestampType::create_time;
  std::optional<BytesView> key;    ///< nullopt: a null key (not the same as an empty one)
  std::optional<BytesView> value;  ///< nullopt: a null value (a tombstone)
  ConsumerRecordHeaders headers;
  /// The partition leader epoch the record was written in; -1 when unknown (magic 0 and 1).
  std::int32_t leader_epoch = -1;
  std::int32_t serialized_key_size = -1;    ///< bytes of the key; -1 for a null key
  std::int32_t serialized_value_size = -1;  ///< bytes of the value; -1 for a null value
  /// Keeps the bytes the views point into (and the topic name) alive. Shared by the records
  /// of a fetch; empty only in a default-constructed record.
  std::shared_ptr<const void> storage;

  /// A copy whose key, value, headers and topic name live in one allocation of their own
  /// (the record's bytes only), so that keeping it does not pin the fetch response or the
  /// decompressed batch it came from. Fields other than the views are copied as they are.
  ConsumerRecord detach() const;
};

}  // namespace asiokafka

namespace asiokafka {

/// The allocator of ConsumerRecords: a std::allocator whose large blocks (the vectors of a
/// fetch, of a getmany()) are recycled per thread (detail::cached_allocate), so consuming at
/// full speed does not make malloc return memory to the kernel and fault it in again.
template <class T>
struct RecordAllocator {
  using value_type = T;
  RecordAllocator() noexcept = default;
  template <class U>
  RecordAllocator(const RecordAllocator<U>&) noexcept {}  // NOLINT: rebinding
  T* allocate(std::size_t n) { return static_cast<T*>(detail::cached_allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { detail::cached_deallocate(p, n * sizeof(T)); }
  template <class U>
  friend bool operator==(const RecordAllocator&, const RecordAllocator<U>&) noexcept {
    return true;
  }
};

/// Records of one partition, in offset order (what getmany() returns per partition).
using ConsumerRecords = std::vector<ConsumerRecord, RecordAllocator<ConsumerRecord>>;

}  // namespace asiokafka
