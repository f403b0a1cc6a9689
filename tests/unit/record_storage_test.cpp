// RecordsReader::batch_storage(): the frame that keeps a batch's record views alive, the
// reference-counted decompression buffer, and its reuse policy (reused only while the reader
// is its only owner). The lifetime tests read views after the memory would have been freed
// without the held frame, so the asan preset turns a wrong lifetime into a failure.
#include <cstring>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asiokafka/buffer.hpp"
#include "asiokafka/error.hpp"
#include "asiokafka/protocol/records.hpp"
#include "protocol/compression.hpp"
#include "protocol/record_batch_builder.hpp"
#include "protocol/wire.hpp"

namespace {

using namespace asiokafka::protocol;
using asiokafka::frame;

constexpr CompressionType kCompressed[] = {CompressionType::gzip, CompressionType::snappy, CompressionType::lz4,
                                            CompressionType::zstd};

byte_view sv(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }
std::string str(std::optional<byte_view> b) {
  return b ? std::string(reinterpret_cast<const char*>(b->data()), b->size()) : std::string("<null>");
}

// Records with keys, values and headers that differ per batch, so a view that reads another
// batch's bytes (a reused buffer) fails the comparison.
struct Sample {
  std::string key, value, header;
};
std::vector<Sample> samples(int batch) {
  std::vector<Sample> out;
  for (int i = 0; i < 20; ++i) {
    const std::string tag = std::to_string(batch) + "-" + std::to_string(i);
    out.push_back({"key-" + tag, "value-" + tag + std::string(static_cast<std::size_t>(100 + i), 'v'), "h-" + tag});
  }
  return out;
}

// Batches 0..count-1, each of samples(i); same sizes, so decompressed sizes match.
bytes blob_of(CompressionType codec, int count) {
  bytes blob;
  record_batch_builder b;
  for (int n = 0; n < count; ++n) {
    b.reset({.compression = codec, .base_offset = n * 100});
    for (const auto& s : samples(n)) {
      const RecordHeader h{s.header, sv(s.value)};
      b.append(1000, sv(s.key), sv(s.value), std::span(&h, 1));
    }
    EXPECT_FALSE(b.finish());
    blob.insert(blob.end(), b.data().begin(), b.data().end());
  }
  return blob;
}

std::vector<Record> read_all(RecordsReader& rd) {
  std::vector<Record> out;
  Record rec;
  while (rd.next_record(rec)) out.push_back(rec);
  EXPECT_FALSE(rd.error()) << rd.error().message();
  return out;
}

// Reads every view of `recs` (keys, values, headers) and compares it with batch `n`'s samples.
void expect_batch(const std::vector<Record>& recs, int n) {
  const auto want = samples(n);
  ASSERT_EQ(recs.size(), want.size());
  for (std::size_t i = 0; i < recs.size(); ++i) {
    EXPECT_EQ(recs[i].offset, n * 100 + static_cast<std::int64_t>(i));
    EXPECT_EQ(str(recs[i].key), want[i].key);
    EXPECT_EQ(str(recs[i].value), want[i].value);
    ASSERT_EQ(recs[i].headers.size(), 1u);
    EXPECT_EQ(recs[i].headers.begin()->key, want[i].header);
    EXPECT_EQ(str(recs[i].headers.begin()->value), want[i].value);
  }
}

TEST(RecordStorage, HeldCompressedBatchOutlivesNextBatchAndReader) {
  for (auto codec : kCompressed) {
    SCOPED_TRACE(static_cast<int>(codec));
    std::vector<Record> first;
    frame held;
    {
      RecordsReader rd(frame::copy_of(blob_of(codec, 2)));
      ASSERT_TRUE(rd.next_batch());
      first = read_all(rd);
      held = rd.batch_storage();
      ASSERT_TRUE(held.storage());
      // The views are inside the held bytes.
      EXPECT_GE(first.front().key->data(), held.bytes().data());
      EXPECT_LE(first.back().value->data() + first.back().value->size(), held.bytes().data() + held.size());
      ASSERT_TRUE(rd.next_batch());
      EXPECT_NE(rd.batch_storage().bytes().data(), held.bytes().data());  // a fresh buffer
      expect_batch(read_all(rd), 1);
      expect_batch(first, 0);  // unchanged by the second decompression
    }
    // reader and input gone: only `held` keeps the bytes (ASan reports a read of freed memory).
    expect_batch(first, 0);
  }
}

TEST(RecordStorage, BufferIsReusedWhileNothingIsHeld) {
  for (auto codec : kCompressed) {
    SCOPED_TRACE(static_cast<int>(codec));
    const bytes blob = blob_of(codec, 4);
    RecordsReader rd(blob);  // over a span: compressed batches still get shared storage
    ASSERT_TRUE(rd.next_batch());
    const std::uint8_t* const buf = rd.batch_storage().bytes().data();
    ASSERT_NE(buf, nullptr);
    expect_batch(read_all(rd), 0);
    ASSERT_TRUE(rd.next_batch());
    EXPECT_EQ(rd.batch_storage().bytes().data(), buf);  // nothing held: decompressed in place
    expect_batch(read_all(rd), 1);

    // Held: the next batch goes to a fresh buffer, and the held bytes do not change.
    const frame held = rd.batch_storage();
    const bytes copy(held.bytes().begin(), held.bytes().end());
    ASSERT_TRUE(rd.next_batch());
    const std::uint8_t* const fresh = rd.batch_storage().bytes().data();
    EXPECT_NE(fresh, buf);
    EXPECT_TRUE(std::equal(copy.begin(), copy.end(), held.bytes().begin(), held.bytes().end()));
    expect_batch(read_all(rd), 2);

    // The reader owns only the fresh buffer now (the held one is the holder's): reused again.
    ASSERT_TRUE(rd.next_batch());
    EXPECT_EQ(rd.batch_storage().bytes().data(), fresh);
    expect_batch(read_all(rd), 3);
    EXPECT_TRUE(std::equal(copy.begin(), copy.end(), held.bytes().begin(), held.bytes().end()));
    EXPECT_FALSE(rd.next_batch());
    EXPECT_FALSE(rd.error());
  }
}

TEST(RecordStorage, UncompressedBatchesShareTheInput) {
  const bytes blob = blob_of(CompressionType::none, 2);
  std::vector<Record> first;
  frame held;
  {
    frame input = frame::copy_of(blob);
    RecordsReader rd(input);
    ASSERT_TRUE(rd.next_batch());
    held = rd.batch_storage();
    EXPECT_EQ(held.storage().data(), input.storage().data());
    EXPECT_EQ(held.bytes().data(), rd.batch().raw.data());
    EXPECT_EQ(held.size(), rd.batch().raw.size());
    first = read_all(rd);
    input = frame();
    ASSERT_TRUE(rd.next_batch());  // the reader keeps its input alive
    expect_batch(read_all(rd), 1);
  }
  expect_batch(first, 0);

  // Over a plain span the caller owns the bytes: no storage to hand out.
  RecordsReader rd(blob);
  ASSERT_TRUE(rd.next_batch());
  EXPECT_FALSE(rd.batch_storage().storage());
  EXPECT_TRUE(rd.batch_storage().empty());
}

TEST(RecordStorage, EmptyWithoutACurrentBatch) {
  RecordsReader rd(frame::copy_of(blob_of(CompressionType::zstd, 1)));
  EXPECT_FALSE(rd.batch_storage().storage());  // before the first batch
  ASSERT_TRUE(rd.next_batch());
  EXPECT_TRUE(rd.batch_storage().storage());
  EXPECT_FALSE(rd.next_batch());
  EXPECT_FALSE(rd.batch_storage().storage());  // after the last

  bytes bad = blob_of(CompressionType::zstd, 2);
  bad.back() ^= 1;  // the second batch's CRC fails
  RecordsReader broken(frame::copy_of(bad));
  ASSERT_TRUE(broken.next_batch());
  EXPECT_TRUE(broken.batch_storage().storage());
  EXPECT_FALSE(broken.next_batch());
  EXPECT_EQ(broken.error(), asiokafka::client_errc::crc_mismatch);
  EXPECT_FALSE(broken.batch_storage().storage());  // after an error
}

// A legacy message (offset, size, crc, magic 1, attributes, timestamp, key, value).
void legacy_message(bytes& out, std::int64_t offset, std::int8_t attributes, std::optional<byte_view> key,
                    std::optional<byte_view> value) {
  bytes msg;
  writer w(msg);
  w.u32(0);
  w.i8(1);
  w.i8(attributes);
  w.i64(5);
  w.nullable_bytes(key);
  w.nullable_bytes(value);
  const auto crc = static_cast<std::uint32_t>(crc32(0, msg.data() + 4, static_cast<uInt>(msg.size() - 4)));
  for (int i = 0; i < 4; ++i) msg[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
  writer o(out);
  o.i64(offset);
  o.i32(static_cast<std::int32_t>(msg.size()));
  o.raw(msg);
}

TEST(RecordStorage, HeldLegacyWrapperOutlivesTheReader) {
  bytes inner;
  for (int i = 0; i < 3; ++i) legacy_message(inner, i, 0, sv("k"), sv("inner-" + std::to_string(i)));
  bytes packed;
  ASSERT_FALSE(compress(CompressionType::gzip, inner, packed));
  bytes blob;
  legacy_message(blob, 2, 1, std::nullopt, byte_view(packed));
  legacy_message(blob, 5, 1, std::nullopt, byte_view(packed));

  std::vector<Record> first;
  frame held;
  {
    RecordsReader rd(frame::copy_of(blob));
    ASSERT_TRUE(rd.next_batch());
    first = read_all(rd);
    held = rd.batch_storage();
    ASSERT_TRUE(held.storage());
    ASSERT_TRUE(rd.next_batch());
    EXPECT_NE(rd.batch_storage().bytes().data(), held.bytes().data());
    EXPECT_EQ(read_all(rd).size(), 3u);
  }
  ASSERT_EQ(first.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(str(first[static_cast<std::size_t>(i)].value), "inner-" + std::to_string(i));
}

}  // namespace

// detail::cached_allocate / shared_buffer's block cache: a large block freed on a thread is
// handed out again for a request of about its size, never while someone holds it, and the
// header of a asiokafka::shared_buffer never makes a recycled vector block too small.
TEST(BlockCache, LargeBlocksAreReusedOnlyOnceFreed) {
  constexpr std::size_t big = 256 * 1024;
  asiokafka::shared_buffer held = asiokafka::shared_buffer::allocate(big);
  std::memset(held.data(), 0xab, big);
  asiokafka::shared_buffer other = asiokafka::shared_buffer::allocate(big);
  EXPECT_NE(other.data(), held.data()) << "a held block was handed out again";
  const std::uint8_t* freed = other.data();
  other = asiokafka::shared_buffer{};
  asiokafka::shared_buffer again = asiokafka::shared_buffer::allocate(big);
#if defined(__SANITIZE_ADDRESS__)
  (void)freed;  // the cache is off under AddressSanitizer
#else
  EXPECT_EQ(again.data(), freed) << "a freed block of the same size was not reused";
#endif
  EXPECT_GE(again.capacity(), big);
  for (std::size_t i = 0; i < big; i += 4096) ASSERT_EQ(held.data()[i], 0xab) << "a held block was written";
  // A vector-sized block freed, then a asiokafka::shared_buffer asking for that many bytes: the header
  // must fit too (the block is not reused when it is too small).
  void* v = asiokafka::detail::cached_allocate(big);
  asiokafka::detail::cached_deallocate(v, big);
  asiokafka::shared_buffer header_too = asiokafka::shared_buffer::allocate(big);
  EXPECT_GE(header_too.capacity(), big);
  std::memset(header_too.data(), 0xcd, big);  // ASan would see an overflow here
  // And a block is not reused for a request less than half its size.
  void* w = asiokafka::detail::cached_allocate(4 * big);
  asiokafka::detail::cached_deallocate(w, 4 * big);
  void* small = asiokafka::detail::cached_allocate(big);
  EXPECT_NE(small, w);
  asiokafka::detail::cached_deallocate(small, big);
}
