// Seeds of the records target (fuzz/corpus/records): byte 0 the options (bit 0 set skips the
// CRC checks), then a records blob as a Fetch response carries it. Magic 2 batches of every
// codec (with headers, null keys and values, producer and transaction fields, log-append
// time, the delete-horizon flag; highly compressible ones, within and beyond the target's 1 MiB
// bound), the other stream layouts Kafka clients write inside batches
// (xerial snappy, linked lz4 blocks, zstd without a content size), control batches, several
// batches in one blob and a partial last batch, legacy message sets of magic 0 and 1 (plain,
// compressed wrappers, an lz4 wrapper with the broken header checksum of Kafka 0.8/0.9), and the
// batches a real broker returned (the Fetch captures in tests/data/codec).
// Every seed is checked with validate_records: the valid ones pass, those named "bad" fail.
#include <zlib.h>

#include <optional>

#include "asiokafka/protocol/messages.hpp"
#include "asiokafka/protocol/records.hpp"
#include "corpus.hpp"
#include "protocol/crc32c.hpp"
#include "protocol/record_batch_builder.hpp"
#include "protocol/wire.hpp"

namespace asiokafka::corpus {
namespace {

namespace pr = protocol;
using pr::CompressionType;

struct sample {
  std::int64_t timestamp;
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

std::optional<pr::byte_view> view(const std::optional<std::string>& s) {
  return s ? std::optional<pr::byte_view>(as_bytes(*s)) : std::nullopt;
}

std::vector<sample> sample_records() {
  return {
      {1'700'000'000'000, "k1", "v1", {}},
      {1'699'999'999'999, std::nullopt, "value with a null key", {{"h1", "x"}, {"h2", std::nullopt}, {"", ""}}},
      {1'700'000'000'005, "key with a null value", std::nullopt, {{"trace", std::string(300, 't')}}},
      {1'700'000'000'001, "", "", {}},
      {1'700'000'000'002, std::nullopt, std::nullopt, {}},
      {1'700'000'002'000, "k", std::string(3000, 'v'), {}},
  };
}

std::vector<sample> many_records(int n) {
  std::vector<sample> out;
  for (int i = 0; i < n; ++i) {
    sample s{1'700'000'000'000 + i * 37, std::nullopt, std::nullopt, {}};
    if (i % 3 != 0) s.key = "key-" + std::to_string(i);
    if (i % 7 != 3) {
      const bytes text = text_payload(static_cast<std::size_t>(i * 13 % 200), static_cast<std::uint32_t>(i));
      s.value = std::string(text.begin(), text.end());
    }
    if (i % 4 == 0) s.headers = {{"h" + std::to_string(i), "hv"}, {"null", std::nullopt}};
    out.push_back(std::move(s));
  }
  return out;
}

bytes build(const std::vector<sample>& records, const pr::batch_options& options) {
  pr::record_batch_builder b;
  b.reset(options);
  for (const auto& r : records) {
    std::vector<pr::RecordHeader> headers;
    for (const auto& [k, v] : r.headers) headers.push_back({k, view(v)});
    b.append(r.timestamp, view(r.key), view(r.value), headers);
  }
  require(!b.finish(), "record_batch_builder::finish");
  return {b.data().begin(), b.data().end()};
}

// The uncompressed magic 2 batch `plain` with its records section replaced by `payload` (those
// records compressed some other way), attribute bits set, and length and CRC fixed up.
bytes rebatch(const bytes& plain, std::int16_t attributes, std::span<const std::uint8_t> payload) {
  constexpr std::size_t header = pr::record_batch_header_size;
  bytes out(plain.begin(), plain.begin() + header);
  append(out, payload);
  pr::writer w(out);
  w.patch_i32(8, static_cast<std::int32_t>(out.size() - 12));
  const auto old_attributes = static_cast<std::int16_t>(plain[21] << 8 | plain[22]);
  const auto attrs = static_cast<std::uint16_t>(old_attributes | attributes);
  out[21] = static_cast<std::uint8_t>(attrs >> 8);
  out[22] = static_cast<std::uint8_t>(attrs);
  const std::uint32_t crc = pr::crc32c(std::span(out).subspan(21));
  for (int i = 0; i < 4; ++i) out[static_cast<std::size_t>(17 + i)] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
  return out;
}

// One legacy message (magic 0 or 1) with its offset and size prefix; IEEE CRC32 as Kafka used.
void legacy_message(bytes& out, std::int64_t offset, std::int8_t magic, std::int8_t attributes, std::int64_t ts,
                    std::optional<pr::byte_view> key, std::optional<pr::byte_view> value) {
  bytes msg;
  pr::writer w(msg);
  w.u32(0);
  w.i8(magic);
  w.i8(attributes);
  if (magic == 1) w.i64(ts);
  w.nullable_bytes(key);
  w.nullable_bytes(value);
  const auto crc = static_cast<std::uint32_t>(crc32(0, msg.data() + 4, static_cast<uInt>(msg.size() - 4)));
  for (int i = 0; i < 4; ++i) msg[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
  pr::writer o(out);
  o.i64(offset);
  o.i32(static_cast<std::int32_t>(msg.size()));
  o.raw(msg);
}

// Three inner messages; magic 1 uses relative offsets, magic 0 absolute ones.
bytes legacy_inner(std::int8_t magic, std::int64_t first_offset) {
  bytes inner;
  for (int i = 0; i < 3; ++i) {
    const std::string value = "legacy-value-" + std::to_string(i);
    legacy_message(inner, magic == 1 ? i : first_offset + i, magic, 0, 1'400'000'000'000 + i,
                   as_bytes(i == 1 ? std::string_view() : std::string_view("k")), as_bytes(value));
  }
  return inner;
}

// The record blobs of every partition of a captured Fetch response.
std::vector<bytes> fetched_records(const inputs& in, const char* file, std::int16_t version) {
  const bytes body = from_hex(read_file(in.data_dir / "codec" / file));
  pr::messages::FetchResponse response;
  require(!response.decode(body, version), std::string(file) + " does not decode");
  std::vector<bytes> out;
  for (const auto& topic : response.responses) {
    for (const auto& p : topic.partitions) {
      if (!p.records.bytes().empty()) out.emplace_back(p.records.bytes().begin(), p.records.bytes().end());
    }
  }
  require(!out.empty(), std::string(file) + " holds no records");
  return out;
}

class records_seeds {
 public:
  explicit records_seeds(target_dir& out) : out_(out) {}

  void add(const std::string& name, std::span<const std::uint8_t> blob, bool skip_crc = false) {
    pr::DecodeOptions options;
    options.check_crc = !skip_crc;
    options.max_decompressed_bytes = std::size_t{1} << 20;  // as the fuzz target
    const auto ec = pr::validate_records(blob, options);
    const bool bad = name.find("bad") != std::string::npos;
    require(static_cast<bool>(ec) == bad, "records seed " + name + ": " + ec.message());
    bytes seed{static_cast<std::uint8_t>(skip_crc ? 1 : 0)};
    append(seed, blob);
    out_.add(name, seed);
  }

 private:
  target_dir& out_;
};

const char* const codec_names[] = {"none", "gzip", "snappy", "lz4", "zstd"};

}  // namespace

void make_records_seeds(const inputs& in, target_dir& out) {
  records_seeds seeds(out);
  seeds.add("empty", {});

  bytes all_codecs;
  for (int c = 0; c < 5; ++c) {
    const auto codec = static_cast<CompressionType>(c);
    const std::string name = codec_names[c];
    seeds.add("batch-" + name + "-headers-nulls", build(sample_records(), {.compression = codec, .base_offset = 40}));
    seeds.add("batch-" + name + "-transactional-log-append",
              build(many_records(20), {.compression = codec, .base_offset = 1000, .partition_leader_epoch = 7,
                                       .producer_id = 4242, .producer_epoch = 3, .base_sequence = 17,
                                       .transactional = true, .timestamps = pr::TimestampType::log_append_time}));
    const bytes small = build(many_records(3), {.compression = codec, .base_offset = 3 * c});
    append(all_codecs, small);
  }
  seeds.add("batches-every-codec", all_codecs);
  seeds.add("batches-every-codec-crc-unchecked", all_codecs, true);
  const bytes last = build(many_records(3), {.base_offset = 15});
  bytes with_tail = all_codecs;
  with_tail.insert(with_tail.end(), last.begin(), last.end() - 9);
  seeds.add("batches-partial-tail", with_tail);
  seeds.add("batch-none-many-records", build(many_records(300), {.base_offset = 5000}));
  seeds.add("batch-zstd-many-records", build(many_records(300), {.compression = CompressionType::zstd}));

  // Highly compressible batches make the decompression buffer grow; past the target's 1 MiB
  // bound a batch is refused (snappy is left out there: its seed would be 50 KB).
  const std::string long_run(200'000, 'r'), too_long(600'000, 'z');
  for (int c = 1; c < 5; ++c) {
    const auto codec = static_cast<CompressionType>(c);
    const std::string name = codec_names[c];
    seeds.add("batch-" + name + "-compressible",
              build({{1, "a", long_run, {}}, {2, "b", long_run, {}}}, {.compression = codec}));
    if (codec != CompressionType::snappy) {
      seeds.add("batch-" + name + "-bad-over-1mib",
                build({{1, "a", too_long, {}}, {2, "b", too_long, {}}}, {.compression = codec}));
    }
  }

  // Compressed layouts other than our compressor's, in the records section of a batch.
  const auto plain = build(sample_records(), {.base_offset = 70});
  const std::span<const std::uint8_t> section(plain.begin() + pr::record_batch_header_size, plain.end());
  seeds.add("batch-snappy-xerial", rebatch(plain, 2, xerial_snappy(section, 1024)));
  seeds.add("batch-lz4-linked-checksums",
            rebatch(plain, 3, lz4_frame(section, {.linked = true, .content_checksum = true, .block_checksum = true,
                                                  .content_size = true})));
  seeds.add("batch-zstd-streamed-checksum",
            rebatch(plain, 4, zstd_frame(section, {.checksum = true, .content_size = false})));
  seeds.add("batch-delete-horizon", rebatch(plain, pr::batch_attributes::delete_horizon, section));

  // Transaction markers, and a control batch whose record is no marker.
  for (const auto type : {pr::ControlType::commit, pr::ControlType::abort}) {
    pr::record_batch_builder b;
    b.reset({.base_offset = 77, .producer_id = 5, .producer_epoch = 1, .transactional = true, .control = true});
    b.append_control(type, 12, 1'700'000'000'000);
    require(!b.finish(), "control batch");
    seeds.add(type == pr::ControlType::commit ? "control-commit" : "control-abort", b.data());
  }
  seeds.add("control-bad-key", build({{1, "x", "y", {}}}, {.transactional = true, .control = true}));

  // Legacy message sets.
  bytes v0v1;
  legacy_message(v0v1, 10, 0, 0, 0, as_bytes("k0"), as_bytes("v0"));
  legacy_message(v0v1, 11, 1, 0, 1234, std::nullopt, as_bytes("v1"));
  legacy_message(v0v1, 12, 1, pr::batch_attributes::log_append_time, 5678, as_bytes("k2"), std::nullopt);
  seeds.add("legacy-v0-v1-uncompressed", v0v1);
  for (const std::int8_t magic : {std::int8_t{0}, std::int8_t{1}}) {
    const std::string m = "legacy-v" + std::to_string(magic);
    const bytes inner = legacy_inner(magic, 500);
    for (int c = 1; c <= 3; ++c) {
      bytes blob;
      legacy_message(blob, 502, magic, static_cast<std::int8_t>(c), 999, std::nullopt, compressed(c, inner));
      legacy_message(blob, 503, magic, 0, 1000, as_bytes("after"), as_bytes("x"));
      seeds.add(m + "-" + codec_names[c] + "-wrapper", blob);
    }
  }
  bytes blob;
  legacy_message(blob, 42, 1, 2, 999, std::nullopt, xerial_snappy(legacy_inner(1, 0), 64));
  seeds.add("legacy-v1-snappy-xerial-wrapper", blob);
  blob.clear();
  legacy_message(blob, 41, 1, pr::batch_attributes::log_append_time | 1, 777, std::nullopt,
                 compressed(1, legacy_inner(1, 0)));
  seeds.add("legacy-v1-gzip-wrapper-log-append", blob);
  // Kafka 0.8/0.9 computed the lz4 header checksum over the wrong bytes (KAFKA-1493); the
  // reader repairs it for magic 0. The frame has no content size, so the checksum is byte 6.
  bytes broken = compressed(3, legacy_inner(0, 200));
  broken[6] ^= 0x5a;
  blob.clear();
  legacy_message(blob, 202, 0, 3, 0, std::nullopt, broken);
  seeds.add("legacy-v0-lz4-wrapper-kafka-1493-header", blob);
  blob.clear();
  legacy_message(blob, 0, 1, 0, 5, as_bytes("old"), as_bytes("x"));
  append(blob, build(many_records(4), {.base_offset = 1}));
  seeds.add("legacy-v1-then-v2", blob);

  // What a real broker returned (Fetch v12 and v4 captures).
  int n = 0;
  for (const auto& [file, version] : {std::pair{"broker_fetch_v12.hex", 12}, std::pair{"broker_fetch_v4.hex", 4}}) {
    for (const auto& records : fetched_records(in, file, static_cast<std::int16_t>(version))) {
      seeds.add("broker-fetch-" + std::to_string(n++), records);
    }
  }
}

}  // namespace asiokafka::corpus
