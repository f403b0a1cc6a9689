// Compressed streams in the layouts Kafka clients write, and the seeds of the decompress target
// (fuzz/corpus/decompress): byte 0 the codec (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd, 5 an
// unsupported one), byte 1 the output bound (1 KiB << (byte % 9)), then the stream. Each codec
// gets streams of its library's different block kinds and framings (stored, fixed and dynamic
// deflate blocks, gzip header fields, zlib framing, concatenated members and frames, xerial
// snappy, linked and checksummed lz4 blocks, zstd checksums, unknown content size, skippable
// frames, raw and RLE blocks), plus empty input, a bound too small and a window too large.
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include "asiokafka/protocol/records.hpp"
#include "corpus.hpp"
#include "protocol/compression.hpp"

namespace asiokafka::corpus {
namespace {

void put_be32(bytes& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
void put_le32(bytes& out, std::uint32_t v) {
  for (int s = 0; s <= 24; s += 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

struct deflate_options {
  int window_bits = 15 + 16;  // gzip framing; 15: zlib framing
  int level = Z_DEFAULT_COMPRESSION;
  int strategy = Z_DEFAULT_STRATEGY;
  bool header_fields = false;  // gzip FNAME, FCOMMENT, FEXTRA and FHCRC
};

bytes deflate_stream(std::span<const std::uint8_t> in, const deflate_options& o) {
  z_stream zs{};
  require(deflateInit2(&zs, o.level, Z_DEFLATED, o.window_bits, 8, o.strategy) == Z_OK, "deflateInit2");
  static char name[] = "seed.json";
  static char comment[] = "asiokafka fuzz seed";
  static unsigned char extra[] = {'A', 'K', 2, 0, 1, 2};
  gz_header header{};
  if (o.header_fields) {
    header.name = reinterpret_cast<Bytef*>(name);
    header.comment = reinterpret_cast<Bytef*>(comment);
    header.extra = extra;
    header.extra_len = sizeof extra;
    header.hcrc = 1;
    require(deflateSetHeader(&zs, &header) == Z_OK, "deflateSetHeader");
  }
  bytes out(deflateBound(&zs, static_cast<uLong>(in.size())) + 64);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  require(rc == Z_STREAM_END, "deflate");
  return out;
}

bytes skippable_frame(std::uint32_t magic, std::span<const std::uint8_t> data) {
  bytes out;
  put_le32(out, magic);
  put_le32(out, static_cast<std::uint32_t>(data.size()));
  append(out, data);
  return out;
}

bytes concat(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  bytes out(a.begin(), a.end());
  append(out, b);
  return out;
}

}  // namespace

bytes compressed(int codec, std::span<const std::uint8_t> in) {
  bytes out;
  require(!protocol::compress(static_cast<protocol::CompressionType>(codec), in, out), "compress");
  return out;
}

bytes xerial_snappy(std::span<const std::uint8_t> in, std::size_t block_size) {
  bytes out = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
  put_be32(out, 1);  // version
  put_be32(out, 1);  // compatible version
  for (std::size_t pos = 0; pos < in.size(); pos += block_size) {
    const std::size_t n = std::min(block_size, in.size() - pos);
    std::string block;
    snappy::Compress(reinterpret_cast<const char*>(in.data() + pos), n, &block);
    put_be32(out, static_cast<std::uint32_t>(block.size()));
    append(out, block);
  }
  return out;
}

bytes lz4_frame(std::span<const std::uint8_t> in, const lz4_options& o) {
  LZ4F_preferences_t p{};
  p.frameInfo.blockSizeID = static_cast<LZ4F_blockSizeID_t>(o.block_size_id);
  p.frameInfo.blockMode = o.linked ? LZ4F_blockLinked : LZ4F_blockIndependent;
  p.frameInfo.contentChecksumFlag = o.content_checksum ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
  p.frameInfo.blockChecksumFlag = o.block_checksum ? LZ4F_blockChecksumEnabled : LZ4F_noBlockChecksum;
  p.frameInfo.contentSize = o.content_size ? in.size() : 0;
  p.compressionLevel = o.level;
  bytes out(LZ4F_compressFrameBound(in.size(), &p));
  const std::size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), &p);
  require(!LZ4F_isError(n), "LZ4F_compressFrame");
  out.resize(n);
  return out;
}

bytes zstd_frame(std::span<const std::uint8_t> in, const zstd_options& o) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  require(cctx != nullptr, "ZSTD_createCCtx");
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, o.level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, o.checksum ? 1 : 0);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, o.content_size ? 1 : 0);
  if (o.window_log != 0) ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, o.window_log);
  bytes out(ZSTD_compressBound(in.size()) + 64);
  ZSTD_outBuffer dst{out.data(), out.size(), 0};
  ZSTD_inBuffer src{in.data(), in.size(), 0};
  // Streaming in two calls leaves the content size unknown to the compressor, as a producer
  // that compresses while it appends does: the frame then declares its window size instead.
  std::size_t rc = ZSTD_compressStream2(cctx, &dst, &src, o.content_size ? ZSTD_e_end : ZSTD_e_continue);
  if (!o.content_size && !ZSTD_isError(rc)) rc = 1;  // the frame is still open
  while (!ZSTD_isError(rc) && rc != 0) rc = ZSTD_compressStream2(cctx, &dst, &src, ZSTD_e_end);
  ZSTD_freeCCtx(cctx);
  require(!ZSTD_isError(rc), "ZSTD_compressStream2");
  out.resize(dst.pos);
  return out;
}

void make_decompress_seeds(target_dir& out) {
  // The smallest bound selector whose bound (1 KiB << sel) holds `size` bytes.
  const auto fitting = [](std::size_t size) {
    int sel = 0;
    while (sel < 8 && (std::size_t{1024} << sel) < size) ++sel;
    return static_cast<std::uint8_t>(sel);
  };
  const auto add = [&](const std::string& name, int codec, std::uint8_t bound_sel, std::span<const std::uint8_t> s) {
    // The valid streams decompress within their bound; the others fail as their name says.
    bytes check;
    const auto ec = protocol::decompress(static_cast<protocol::CompressionType>(codec), s, check,
                                         std::size_t{1024} << bound_sel);
    const bool should_fail = codec == 5 || name.find("too-large") != std::string::npos;
    require(static_cast<bool>(ec) == should_fail, "decompress seed " + name + " (bound " +
                                                      std::to_string(std::size_t{1024} << bound_sel) +
                                                      "): " + (ec ? ec.message() : "no error"));
    bytes seed{static_cast<std::uint8_t>(codec), bound_sel};
    append(seed, s);
    out.add(name, seed);
  };
  const bytes empty;
  const bytes t200 = text_payload(200, 1), t4k = text_payload(4096, 2), t60k = text_payload(60000, 3);
  const bytes r1k = random_payload(1024, 4), run100k = run_payload(100000, 'a');
  const bytes mixed = concat(concat(t4k, r1k), run_payload(3000, 0));
  const std::uint8_t f4k = fitting(4096), f60k = fitting(60000), f100k = fitting(100000);

  add("none-text", 0, 0, t200);
  add("none-empty", 0, 0, empty);
  add("none-too-large", 0, 0, t4k);

  add("gzip-text", 1, f4k, compressed(1, t4k));
  add("gzip-level1-60k", 1, f60k, deflate_stream(t60k, {.level = 1}));
  add("gzip-level9-60k", 1, f60k, deflate_stream(t60k, {.level = 9}));
  add("gzip-stored", 1, fitting(1024), deflate_stream(text_payload(1000, 5), {.level = 0}));
  add("gzip-fixed-huffman", 1, f4k, deflate_stream(t4k, {.strategy = Z_FIXED}));
  add("gzip-huffman-only", 1, f4k, deflate_stream(t4k, {.strategy = Z_HUFFMAN_ONLY}));
  add("gzip-rle", 1, fitting(mixed.size()), deflate_stream(mixed, {.strategy = Z_RLE}));
  add("gzip-random", 1, fitting(1024), compressed(1, r1k));
  add("gzip-empty", 1, 0, compressed(1, empty));
  add("gzip-header-fields", 1, 0, deflate_stream(t200, {.header_fields = true}));
  add("zlib-framing", 1, f4k, deflate_stream(t4k, {.window_bits = 15}));
  add("gzip-two-members", 1, fitting(4096 + 200), concat(compressed(1, t4k), compressed(1, t200)));
  add("gzip-run-100k", 1, f100k, compressed(1, run100k));
  add("gzip-too-large", 1, 0, compressed(1, run100k));

  add("snappy-raw-text", 2, f4k, compressed(2, t4k));
  add("snappy-raw-random", 2, fitting(1024), compressed(2, r1k));
  add("snappy-raw-empty", 2, 0, compressed(2, empty));
  add("snappy-raw-run-100k", 2, f100k, compressed(2, run100k));
  add("snappy-xerial-one-block", 2, f4k, xerial_snappy(t4k, 32 * 1024));
  add("snappy-xerial-blocks", 2, f60k, xerial_snappy(t60k, 16 * 1024));
  add("snappy-xerial-mixed", 2, fitting(mixed.size()), xerial_snappy(mixed, 2048));
  add("snappy-xerial-header-only", 2, 0, xerial_snappy(empty, 1024));
  add("snappy-too-large", 2, 0, compressed(2, run100k));

  add("lz4-text", 3, f4k, compressed(3, t4k));
  add("lz4-linked-checksums-60k", 3, f60k,
      lz4_frame(t60k, {.linked = true, .content_checksum = true, .block_checksum = true, .content_size = true}));
  add("lz4-256k-blocks-hc", 3, f100k, lz4_frame(run100k, {.block_size_id = 5, .level = 9}));
  add("lz4-uncompressed-blocks", 3, fitting(1024), lz4_frame(r1k, {.content_checksum = true}));
  add("lz4-mixed", 3, fitting(mixed.size()), lz4_frame(mixed, {.block_checksum = true}));
  add("lz4-two-frames", 3, fitting(4096 + 200), concat(compressed(3, t4k), compressed(3, t200)));
  add("lz4-skippable-frame", 3, 0, concat(skippable_frame(0x184D2A50, t200), compressed(3, t200)));
  add("lz4-empty", 3, 0, compressed(3, empty));
  add("lz4-too-large", 3, 0, compressed(3, run100k));

  add("zstd-text", 4, f4k, compressed(4, t4k));
  add("zstd-level1-60k", 4, f60k, zstd_frame(t60k, {.level = 1}));
  add("zstd-level19-60k", 4, f60k, zstd_frame(t60k, {.level = 19}));
  add("zstd-fast-negative-level", 4, f4k, zstd_frame(t4k, {.level = -5}));
  add("zstd-checksum", 4, f4k, zstd_frame(t4k, {.checksum = true}));
  add("zstd-streamed-no-size", 4, fitting(mixed.size()), zstd_frame(mixed, {.content_size = false}));
  add("zstd-raw-blocks", 4, fitting(1024), zstd_frame(r1k, {}));
  add("zstd-rle-100k", 4, f100k, zstd_frame(run100k, {.checksum = true}));
  add("zstd-two-frames", 4, fitting(4096 + 200), concat(compressed(4, t4k), compressed(4, t200)));
  add("zstd-skippable-frame", 4, 0, concat(skippable_frame(0x184D2A5F, t200), compressed(4, t200)));
  add("zstd-empty", 4, 0, compressed(4, empty));
  add("zstd-window-too-large", 4, 8, zstd_frame(t200, {.content_size = false, .window_log = 28}));
  add("zstd-too-large", 4, 0, compressed(4, run100k));

  add("unsupported-codec", 5, 0, t200);
}

}  // namespace asiokafka::corpus
