#include "asiokafka/protocol/records.hpp"

#include <zlib.h>

#include <cstring>
#include <limits>

#include "asiokafka/error.hpp"
#include "protocol/compression.hpp"
#include "protocol/crc32c.hpp"

namespace asiokafka::protocol {
namespace {

// Offsets of the fields of a magic 2 batch header.
constexpr std::size_t kLengthOffset = 8;
constexpr std::size_t kMagicOffset = 16;
constexpr std::size_t kCrcOffset = 17;
constexpr std::size_t kAttributesOffset = 21;
constexpr std::size_t kLogOverhead = 12;         // base offset + length
constexpr std::size_t kLegacyMinMessage = 14;    // crc, magic, attributes, key and value lengths
constexpr std::size_t kMinRecordSize = 7;        // length, attributes, ts, offset, key, value, headers
constexpr std::ptrdiff_t kPrefetchDistance = 512;  // bytes ahead of the record being parsed

// Offsets and timestamps from hostile input must not overflow signed arithmetic.
inline std::int64_t wrapping_add(std::int64_t a, std::int64_t b) noexcept {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

inline std::int64_t wrapping_sub(std::int64_t a, std::int64_t b) noexcept {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}

inline std::uint64_t be(const std::uint8_t* p, int width) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < width; ++i) v = (v << 8) | p[i];
  return v;
}
inline std::int16_t be16(const std::uint8_t* p) noexcept { return static_cast<std::int16_t>(be(p, 2)); }
inline std::int32_t be32(const std::uint8_t* p) noexcept { return static_cast<std::int32_t>(be(p, 4)); }
inline std::int64_t be64(const std::uint8_t* p) noexcept { return static_cast<std::int64_t>(be(p, 8)); }

// Unsigned varint of at most `max_bits` bits; false on truncation or overflow.
template <int MaxBits>
inline bool read_uvar(const std::uint8_t*& p, const std::uint8_t* end, std::uint64_t& v) noexcept {
  // Fast paths: record fields are mostly one or two bytes long. The one-byte case needs only
  // one byte left: a record's last field (its header count) ends at the record's end.
  if (p != end && p[0] < 0x80) [[likely]] {
    v = *p++;
    return true;
  }
  if (end - p >= 2 && p[1] < 0x80) [[likely]] {
    v = (p[0] & 0x7fu) | (std::uint64_t{p[1]} << 7);
    p += 2;
    return true;
  }
  v = 0;
  for (int shift = 0; shift < MaxBits; shift += 7) {
    if (p == end) return false;
    const std::uint8_t b = *p++;
    if (MaxBits - shift < 7 && (b >> (MaxBits - shift)) != 0) return false;
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

inline bool read_varint(const std::uint8_t*& p, const std::uint8_t* end, std::int32_t& out) noexcept {
  std::uint64_t u;
  if (!read_uvar<32>(p, end, u)) return false;
  const auto w = static_cast<std::uint32_t>(u);
  out = static_cast<std::int32_t>((w >> 1) ^ (~(w & 1) + 1));
  return true;
}

inline bool read_varlong(const std::uint8_t*& p, const std::uint8_t* end, std::int64_t& out) noexcept {
  std::uint64_t u;
  if (!read_uvar<64>(p, end, u)) return false;
  out = static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

// A varint-length-prefixed byte field; length -1 is null when `nullable`.
inline bool read_var_bytes(const std::uint8_t*& p, const std::uint8_t* end, std::optional<byte_view>& out,
                           bool nullable) noexcept {
  std::int32_t len;
  if (!read_varint(p, end, len)) return false;
  if (len < 0) {
    if (len != -1 || !nullable) return false;
    out.reset();
    return true;
  }
  if (static_cast<std::size_t>(len) > static_cast<std::size_t>(end - p)) return false;
  out.emplace(p, static_cast<std::size_t>(len));
  p += len;
  return true;
}

// An int32-length-prefixed legacy BYTES field (-1 is null).
inline bool read_legacy_bytes(const std::uint8_t*& p, const std::uint8_t* end, std::optional<byte_view>& out) noexcept {
  if (end - p < 4) return false;
  const std::int32_t len = be32(p);
  p += 4;
  if (len == -1) {
    out.reset();
    return true;
  }
  if (len < 0 || static_cast<std::size_t>(len) > static_cast<std::size_t>(end - p)) return false;
  out.emplace(p, static_cast<std::size_t>(len));
  p += len;
  return true;
}

// A legacy message (after offset and size): crc, magic, attributes, [timestamp], key, value.
struct LegacyMessage {
  std::int8_t magic = 0;
  std::int8_t attributes = 0;
  std::int64_t timestamp = -1;
  std::optional<byte_view> key, value;
};

std::error_code parse_legacy_message(byte_view msg, bool check_crc, LegacyMessage& m) noexcept {
  if (msg.size() < kLegacyMinMessage) return client_errc::corrupt_record;
  const auto crc = static_cast<std::uint32_t>(be(msg.data(), 4));
  const std::uint8_t* p = msg.data() + 4;
  const std::uint8_t* end = msg.data() + msg.size();
  m.magic = static_cast<std::int8_t>(*p++);
  m.attributes = static_cast<std::int8_t>(*p++);
  if (m.magic != 0 && m.magic != 1) return client_errc::corrupt_record;
  if (m.magic == 1) {
    if (end - p < 8) return client_errc::corrupt_record;
    m.timestamp = be64(p);
    p += 8;
  } else {
    m.timestamp = -1;
  }
  if (!read_legacy_bytes(p, end, m.key) || !read_legacy_bytes(p, end, m.value) || p != end) {
    return client_errc::corrupt_record;
  }
  if (check_crc) {
    const uLong actual = crc32(crc32(0L, Z_NULL, 0), msg.data() + 4, static_cast<uInt>(msg.size() - 4));
    if (static_cast<std::uint32_t>(actual) != crc) return client_errc::crc_mismatch;
  }
  return {};
}

// Splits one "offset, size, message" entry off the front of a legacy message set.
inline bool take_legacy_entry(const std::uint8_t*& p, const std::uint8_t* end, std::int64_t& offset, byte_view& msg) noexcept {
  if (static_cast<std::size_t>(end - p) < kLogOverhead) return false;
  offset = be64(p);
  const std::int32_t size = be32(p + 8);
  if (size < 0 || static_cast<std::size_t>(size) > static_cast<std::size_t>(end - p) - kLogOverhead) return false;
  msg = byte_view(p + kLogOverhead, static_cast<std::size_t>(size));
  p += kLogOverhead + static_cast<std::size_t>(size);
  return true;
}

}  // namespace

namespace detail {
RecordHeader next_header(const std::uint8_t*& p) noexcept {
  // Validated by RecordsReader::next_record: lengths are in range, so no end check here.
  const std::uint8_t* unbounded = p + 16;  // enough for two varints
  RecordHeader h;
  std::int32_t klen = 0;
  read_varint(p, unbounded, klen);
  h.key = std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(klen));
  p += klen;
  unbounded = p + 16;
  std::int32_t vlen = 0;
  read_varint(p, unbounded, vlen);
  if (vlen >= 0) {
    h.value.emplace(p, static_cast<std::size_t>(vlen));
    p += vlen;
  }
  return h;
}
}  // namespace detail

RecordsReader::RecordsReader(byte_view blob, DecodeOptions options) noexcept : blob_(blob), options_(options) {}

RecordsReader::RecordsReader(frame blob, DecodeOptions options) noexcept
    : blob_(blob.bytes()), blob_storage_(blob.storage()), options_(options) {}

frame RecordsReader::batch_storage() const noexcept {
  switch (current_) {
    case storage_kind::input: return blob_storage_ ? frame(blob_storage_, batch_.raw) : frame();
    case storage_kind::decompressed: return {decompressed_, byte_view(decompressed_.data(), decompressed_size_)};
    case storage_kind::none: break;
  }
  return {};
}

bool RecordsReader::fail(std::error_code ec) noexcept {
  if (!ec_) ec_ = ec;
  left_ = 0;
  cur_ = end_ = nullptr;
  legacy_single_ = false;
  current_ = storage_kind::none;
  return false;
}

bool RecordsReader::next_batch() {
  if (ec_ || partial_) return false;
  left_ = 0;
  legacy_single_ = false;
  current_ = storage_kind::none;
  const std::size_t remaining = blob_.size() - pos_;
  if (remaining == 0) return false;
  const std::uint8_t* p = blob_.data() + pos_;
  if (remaining < kLogOverhead) {
    partial_ = true;
    return false;
  }
  const std::int32_t length = be32(p + kLengthOffset);
  if (length < static_cast<std::int32_t>(kLegacyMinMessage)) return fail(client_errc::corrupt_record);
  if (static_cast<std::size_t>(length) > remaining - kLogOverhead) {
    partial_ = true;
    return false;
  }
  const std::size_t size = kLogOverhead + static_cast<std::size_t>(length);
  const std::int8_t magic = static_cast<std::int8_t>(p[kMagicOffset]);
  const bool ok = magic == 2 ? next_v2_batch(size) : (magic == 0 || magic == 1) ? next_legacy_batch(size)
                                                                               : fail(client_errc::corrupt_record);
  if (!ok) return false;
  pos_ += size;
  return true;
}

bool RecordsReader::next_v2_batch(std::size_t size) {
  const std::uint8_t* p = blob_.data() + pos_;
  if (size < record_batch_header_size) return fail(client_errc::corrupt_record);
  BatchInfo& b = batch_;
  b.raw = byte_view(p, size);
  b.base_offset = be64(p);
  b.batch_length = be32(p + kLengthOffset);
  b.partition_leader_epoch = be32(p + 12);
  b.magic = 2;
  b.crc = static_cast<std::uint32_t>(be(p + kCrcOffset, 4));
  b.attributes = be16(p + kAttributesOffset);
  b.last_offset_delta = be32(p + 23);
  b.base_timestamp = be64(p + 27);
  b.max_timestamp = be64(p + 35);
  b.producer_id = be64(p + 43);
  b.producer_epoch = be16(p + 51);
  b.base_sequence = be32(p + 53);
  b.record_count = be32(p + 57);
  if (options_.check_crc && crc32c(byte_view(p + kAttributesOffset, size - kAttributesOffset)) != b.crc) {
    return fail(client_errc::crc_mismatch);
  }
  if (b.record_count < 0) return fail(client_errc::corrupt_record);
  const byte_view body(p + record_batch_header_size, size - record_batch_header_size);
  const auto codec = b.compression();
  if (codec == CompressionType::none) {
    cur_ = body.data();
    end_ = body.data() + body.size();
    current_ = storage_kind::input;
  } else {
    if (static_cast<int>(codec) > static_cast<int>(CompressionType::zstd)) {
      return fail(client_errc::unsupported_compression);
    }
    // Reuses decompressed_ in place unless someone holds it (see decompress()).
    if (auto ec = decompress(codec, body, decompressed_, decompressed_size_, options_.max_decompressed_bytes)) {
      return fail(ec);
    }
    cur_ = decompressed_.data();
    end_ = decompressed_.data() + decompressed_size_;
    current_ = storage_kind::decompressed;
  }
  if (static_cast<std::size_t>(b.record_count) > static_cast<std::size_t>(end_ - cur_) / kMinRecordSize) {
    return fail(client_errc::corrupt_record);
  }
  left_ = b.record_count;
  return true;
}

bool RecordsReader::next_legacy_batch(std::size_t size) {
  const std::uint8_t* p = blob_.data() + pos_;
  const std::int64_t offset = be64(p);
  const byte_view msg(p + kLogOverhead, size - kLogOverhead);
  LegacyMessage m;
  if (auto ec = parse_legacy_message(msg, options_.check_crc, m)) return fail(ec);
  BatchInfo& b = batch_;
  b = BatchInfo{};
  b.raw = byte_view(p, size);
  b.base_offset = offset;
  b.batch_length = static_cast<std::int32_t>(msg.size());
  b.magic = m.magic;
  b.crc = static_cast<std::uint32_t>(be(msg.data(), 4));
  b.attributes = static_cast<std::int16_t>(m.attributes & (batch_attributes::compression_mask |
                                                           (m.magic == 1 ? batch_attributes::log_append_time : 0)));
  b.base_timestamp = b.max_timestamp = m.timestamp;
  const auto codec = b.compression();
  if (codec == CompressionType::none) {
    // One message, one record.
    b.record_count = 1;
    cur_ = msg.data();
    end_ = msg.data() + msg.size();
    legacy_single_ = true;
    left_ = 1;
    legacy_offset_base_ = offset;
    current_ = storage_kind::input;
    return true;
  }
  if (static_cast<int>(codec) > static_cast<int>(CompressionType::zstd)) return fail(client_errc::unsupported_compression);
  if (codec == CompressionType::zstd || !m.value) return fail(client_errc::corrupt_record);  // zstd needs magic 2
  const std::size_t bound = options_.max_decompressed_bytes;
  std::error_code ec = decompress(codec, *m.value, decompressed_, decompressed_size_, bound);
  if (ec == client_errc::corrupt_record && codec == CompressionType::lz4 && m.magic == 0) {
    // Kafka 0.8/0.9 wrote a wrong LZ4 header checksum (KAFKA-1493).
    const bytes fixed = repair_legacy_lz4_header(*m.value);
    ec = fixed.empty() ? ec : decompress(codec, fixed, decompressed_, decompressed_size_, bound);
  }
  if (ec) return fail(ec);
  // Validate the inner messages once to count them and find the last inner offset, which
  // magic 1 wrappers need to turn relative inner offsets into absolute ones.
  const std::uint8_t* q = decompressed_.data();
  const std::uint8_t* end = decompressed_.data() + decompressed_size_;
  std::int64_t first = 0, last = 0;
  std::int32_t count = 0;
  while (q != end) {
    std::int64_t inner_offset;
    byte_view inner;
    if (!take_legacy_entry(q, end, inner_offset, inner)) return fail(client_errc::corrupt_record);
    LegacyMessage im;
    if (auto iec = parse_legacy_message(inner, options_.check_crc, im)) return fail(iec);
    if ((im.attributes & batch_attributes::compression_mask) != 0 || im.magic != m.magic) {
      return fail(client_errc::corrupt_record);  // no nesting, no mixed magic
    }
    if (count == std::numeric_limits<std::int32_t>::max()) return fail(client_errc::corrupt_record);
    if (count == 0) first = inner_offset;
    last = inner_offset;
    ++count;
  }
  if (count == 0) return fail(client_errc::corrupt_record);
  legacy_offset_base_ = m.magic == 1 ? wrapping_sub(offset, last) : 0;
  b.base_offset = wrapping_add(legacy_offset_base_, first);
  b.last_offset_delta = static_cast<std::int32_t>(wrapping_sub(last, first));
  b.record_count = count;
  cur_ = decompressed_.data();
  end_ = end;
  left_ = count;
  current_ = storage_kind::decompressed;
  return true;
}

bool RecordsReader::next_legacy_record(Record& out) noexcept {
  std::int64_t offset = batch_.base_offset;
  byte_view msg;
  if (legacy_single_) {
    msg = byte_view(cur_, static_cast<std::size_t>(end_ - cur_));
    cur_ = end_;
  } else if (!take_legacy_entry(cur_, end_, offset, msg)) {
    return fail(client_errc::corrupt_record);
  } else {
    offset = wrapping_add(legacy_offset_base_, offset);
  }
  LegacyMessage m;
  if (auto ec = parse_legacy_message(msg, false, m)) return fail(ec);  // CRC checked in next_batch
  --left_;
  out.offset = offset;
  out.timestamp = batch_.timestamp_kind() == TimestampType::log_append_time ? batch_.max_timestamp : m.timestamp;
  out.attributes = 0;
  out.key = m.key;
  out.value = m.value;
  out.headers = RecordHeaders();
  return true;
}

bool RecordsReader::next_record(Record& out) noexcept {
  if (left_ <= 0) {
    if (!ec_ && cur_ != end_ && batch_.magic == 2) fail(client_errc::corrupt_record);  // bytes after the last record
    return false;
  }
  if (batch_.magic != 2) return next_legacy_record(out);
  const std::uint8_t* p = cur_;
  std::int32_t len;
  if (!read_varint(p, end_, len) || len < static_cast<std::int32_t>(kMinRecordSize) - 1 ||
      static_cast<std::size_t>(len) > static_cast<std::size_t>(end_ - p)) [[unlikely]] {
    return fail(client_errc::corrupt_record);
  }
  // Every field below is read against the record's end, so the record's length prefix is the
  // only check against the batch.
  const std::uint8_t* const rec_end = p + len;
  // The reader runs after the CRC pass, which has moved the batch out of L1 for batches over
  // a few tens of KB; each record's start depends on the previous record's length, so without
  // this prefetch every record pays a cache miss on the critical path.
  if (end_ - rec_end > kPrefetchDistance) __builtin_prefetch(rec_end + kPrefetchDistance);
  out.attributes = static_cast<std::int8_t>(*p++);
  std::int64_t ts_delta;
  std::int32_t offset_delta, header_count;
  if (!read_varlong(p, rec_end, ts_delta) || !read_varint(p, rec_end, offset_delta) ||
      !read_var_bytes(p, rec_end, out.key, true) || !read_var_bytes(p, rec_end, out.value, true) ||
      !read_varint(p, rec_end, header_count)) [[unlikely]] {
    return fail(client_errc::corrupt_record);
  }
  const std::uint8_t* const headers = p;
  if (header_count != 0) [[unlikely]] {
    if (header_count < 0 || static_cast<std::size_t>(header_count) > static_cast<std::size_t>(rec_end - p) / 2) {
      return fail(client_errc::corrupt_record);
    }
    for (std::int32_t i = 0; i < header_count; ++i) {
      std::optional<byte_view> hk, hv;
      if (!read_var_bytes(p, rec_end, hk, false) || !read_var_bytes(p, rec_end, hv, true)) {
        return fail(client_errc::corrupt_record);
      }
    }
  }
  if (p != rec_end) [[unlikely]] return fail(client_errc::corrupt_record);
  out.offset = wrapping_add(batch_.base_offset, offset_delta);
  out.timestamp = (batch_.attributes & batch_attributes::log_append_time) != 0
                      ? batch_.max_timestamp
                      : wrapping_add(batch_.base_timestamp, ts_delta);
  out.headers = RecordHeaders(headers, header_count);
  cur_ = rec_end;
  --left_;
  return true;
}

std::error_code decode_control_record(const Record& record, ControlRecord& out) noexcept {
  if (!record.key || record.key->size() < 4) return client_errc::corrupt_record;
  out.version = be16(record.key->data());
  out.type = be16(record.key->data() + 2);
  if (out.version < 0) return client_errc::corrupt_record;
  if (out.type == static_cast<std::int16_t>(ControlType::abort) ||
      out.type == static_cast<std::int16_t>(ControlType::commit)) {
    if (!record.value || record.value->size() < 6) return client_errc::corrupt_record;
    out.value_version = be16(record.value->data());
    out.coordinator_epoch = be32(record.value->data() + 2);
  }
  return {};
}

std::error_code validate_records(byte_view blob, const DecodeOptions& options) {
  RecordsReader reader(blob, options);
  while (reader.next_batch()) {
    Record rec;
    const bool control = reader.batch().is_control();
    while (reader.next_record(rec)) {
      for (const auto& h : rec.headers) (void)h;
      if (control) {
        ControlRecord c;
        if (auto ec = decode_control_record(rec, c)) return ec;
      }
    }
    if (reader.error()) return reader.error();
  }
  return reader.error();
}

}  // namespace asiokafka::protocol
