#include "protocol/compression.hpp"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include "asiokafka/error.hpp"

namespace asiokafka::protocol {
namespace {

// The output of decompress() into a shared_buffer, with the part of a vector's interface the
// codecs use (size, data, resize), so that one codec implementation serves both outputs. It
// always starts empty. It grows like a vector (to at least twice its size) by moving its
// bytes to a bigger buffer, and never zero-fills. A buffer that has other owners is never
// written to: the holders keep those bytes, and the output starts in a fresh buffer.
class shared_output {
 public:
  explicit shared_output(shared_buffer& buf) noexcept : buf_(buf) {
    if (buf_ && !buf_.unique()) buf_ = shared_buffer{};
  }
  shared_output(const shared_output&) = delete;
  shared_output& operator=(const shared_output&) = delete;

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return buf_.capacity(); }
  std::uint8_t* data() const noexcept { return buf_.data(); }
  void resize(std::size_t n) {
    if (n > buf_.capacity()) {
      shared_buffer bigger = shared_buffer::allocate(std::max(n, 2 * size_));
      if (size_ != 0) std::memcpy(bigger.data(), buf_.data(), size_);
      buf_ = std::move(bigger);
    }
    size_ = n;
  }

 private:
  shared_buffer& buf_;
  std::size_t size_ = 0;
};

void append(bytes& out, std::span<const std::uint8_t> in) { out.insert(out.end(), in.begin(), in.end()); }
void append(shared_output& out, std::span<const std::uint8_t> in) {
  const std::size_t start = out.size();
  out.resize(start + in.size());
  if (!in.empty()) std::memcpy(out.data() + start, in.data(), in.size());
}

// Room an output already has without allocating or writing anything. A vector's spare
// capacity is not free (resize zero-fills it), a reused shared buffer's is.
std::size_t free_room(const bytes&) noexcept { return 0; }
std::size_t free_room(const shared_output& out) noexcept { return out.capacity() - out.size(); }

// Output buffers start at a size derived from the input (or at the room the output already
// has, when larger) and double until the bound, so a small input never causes a large
// allocation unless it really inflates that much. The bound applies to the bytes produced,
// so where the output starts changes no result, only how often it grows.
template <class Out>
class BoundedOutput {
 public:
  BoundedOutput(Out& out, std::size_t input_size, std::size_t max_output)
      : out_(out), start_(out.size()), max_(max_output) {
    const std::size_t guess = std::max<std::size_t>(input_size * 4, 4096);
    // One byte beyond the bound lets us tell "exactly max" from "more than max".
    out_.resize(start_ + std::min(std::max(guess, free_room(out_)), limit()));
  }
  // Keeps the output only when commit() was called: a failed decompression leaves `out` as it was.
  ~BoundedOutput() { out_.resize(start_ + (committed_ ? produced_ : 0)); }
  std::error_code commit() noexcept {
    committed_ = true;
    return {};
  }
  BoundedOutput(const BoundedOutput&) = delete;
  BoundedOutput& operator=(const BoundedOutput&) = delete;

  std::uint8_t* next() noexcept { return out_.data() + start_ + produced_; }
  std::size_t room() const noexcept { return out_.size() - start_ - produced_; }
  void advance(std::size_t n) noexcept { produced_ += n; }
  std::size_t produced() const noexcept { return produced_; }
  bool over() const noexcept { return produced_ > max_; }
  /// Makes room for more output; false when the bound (plus one byte) is reached.
  bool grow() {
    const std::size_t cap = out_.size() - start_;
    if (cap >= limit()) return false;
    out_.resize(start_ + std::min(cap * 2, limit()));
    return true;
  }

 private:
  std::size_t limit() const noexcept {
    return max_ == std::numeric_limits<std::size_t>::max() ? max_ - start_ : max_ + 1;
  }
  Out& out_;
  std::size_t start_;
  std::size_t produced_ = 0;
  std::size_t max_;
  bool committed_ = false;
};

// ---- gzip (zlib) ----

template <class Out>
std::error_code gzip_compress(std::span<const std::uint8_t> in, Out& out, std::optional<int> level) {
  z_stream zs{};
  const int lvl = level ? std::clamp(*level, 1, 9) : Z_DEFAULT_COMPRESSION;
  if (deflateInit2(&zs, lvl, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return client_errc::compression_failed;
  }
  const std::size_t start = out.size();
  out.resize(start + deflateBound(&zs, static_cast<uLong>(in.size())));
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data() + start;
  zs.avail_out = static_cast<uInt>(out.size() - start);
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(start + zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? std::error_code{} : make_error_code(client_errc::compression_failed);
}

template <class Out>
std::error_code gzip_decompress(std::span<const std::uint8_t> in, Out& out, std::size_t max_output) {
  if (in.size() > std::numeric_limits<uInt>::max()) return client_errc::corrupt_record;
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return client_errc::compression_failed;  // gzip or zlib
  std::unique_ptr<z_stream, int (*)(z_streamp)> guard(&zs, &inflateEnd);
  BoundedOutput<Out> o(out, in.size(), max_output);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    if (o.room() == 0 && !o.grow()) return client_errc::decompressed_too_large;
    const std::size_t room = std::min<std::size_t>(o.room(), std::numeric_limits<uInt>::max());
    zs.next_out = o.next();
    zs.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    o.advance(room - zs.avail_out);
    if (o.over()) return client_errc::decompressed_too_large;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) return o.commit();
      if (inflateReset(&zs) != Z_OK) return client_errc::compression_failed;  // next gzip member
      continue;
    }
    if (rc == Z_MEM_ERROR) return client_errc::compression_failed;
    if (rc == Z_BUF_ERROR) {
      if (zs.avail_in == 0) return client_errc::corrupt_record;  // stream ends early
      continue;                                                 // out of room: grow
    }
    if (rc != Z_OK) return client_errc::corrupt_record;
    if (zs.avail_in == 0 && zs.avail_out != 0) return client_errc::corrupt_record;  // truncated
  }
}

// ---- snappy ----

constexpr std::array<std::uint8_t, 8> kXerialMagic = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr std::size_t kXerialHeaderSize = 16;  // magic, int32 version, int32 compatible version

// One raw snappy block. Its uncompressed length comes from the block itself, so it is first
// checked against the bound and against the most a snappy stream of this size can expand to
// (a 3-byte copy element emits at most 64 bytes), and only then allocated.
template <class Out>
std::error_code snappy_block(std::span<const std::uint8_t> in, Out& out, std::size_t& budget) {
  std::size_t len = 0;
  const auto* src = reinterpret_cast<const char*>(in.data());
  if (!snappy::GetUncompressedLength(src, in.size(), &len)) return client_errc::corrupt_record;
  if (len > budget) return client_errc::decompressed_too_large;
  if (len / 22 > in.size()) return client_errc::corrupt_record;
  const std::size_t start = out.size();
  out.resize(start + len);
  if (!snappy::RawUncompress(src, in.size(), reinterpret_cast<char*>(out.data() + start))) {
    out.resize(start);
    return client_errc::corrupt_record;
  }
  budget -= len;
  return {};
}

template <class Out>
std::error_code snappy_decompress(std::span<const std::uint8_t> in, Out& out, std::size_t max_output) {
  std::size_t budget = max_output;
  const std::size_t start = out.size();
  if (in.size() < kXerialHeaderSize || !std::equal(kXerialMagic.begin(), kXerialMagic.end(), in.begin())) {
    return snappy_block(in, out, budget);
  }
  // xerial framing (snappy-java's SnappyOutputStream): header, then int32 length + raw block.
  std::size_t pos = kXerialHeaderSize;
  while (pos < in.size()) {
    if (in.size() - pos < 4) {
      out.resize(start);
      return client_errc::corrupt_record;
    }
    const std::uint32_t n = (std::uint32_t{in[pos]} << 24) | (std::uint32_t{in[pos + 1]} << 16) |
                            (std::uint32_t{in[pos + 2]} << 8) | std::uint32_t{in[pos + 3]};
    pos += 4;
    if (n > in.size() - pos) {
      out.resize(start);
      return client_errc::corrupt_record;
    }
    if (auto ec = snappy_block(in.subspan(pos, n), out, budget)) {
      out.resize(start);
      return ec;
    }
    pos += n;
  }
  return {};
}

template <class Out>
std::error_code snappy_compress(std::span<const std::uint8_t> in, Out& out) {
  const std::size_t start = out.size();
  out.resize(start + snappy::MaxCompressedLength(in.size()));
  std::size_t n = 0;
  snappy::RawCompress(reinterpret_cast<const char*>(in.data()), in.size(),
                      reinterpret_cast<char*>(out.data() + start), &n);
  out.resize(start + n);
  return {};
}

// ---- lz4 (frame format) ----

template <class Out>
std::error_code lz4_compress(std::span<const std::uint8_t> in, Out& out, std::optional<int> level) {
  LZ4F_preferences_t prefs{};
  // Independent blocks and no content checksum: what Kafka's Java client reads. Its reader
  // accepts blocks of 64 KiB to 4 MiB; the smallest that holds the whole input is used, so a
  // batch is one block. Each block starts without history: with 64 KiB blocks a 1 MiB batch
  // of 100-byte JSON-like records compressed at 139 ns per record and 1.81:1, as one 1 MiB
  // block at 77 ns and 1.92:1 (liblz4 1.9.4 on the benchmark machine). franz-go writes 4 MiB
  // blocks; a reader needs a buffer of the block size.
  prefs.frameInfo.blockSizeID = in.size() <= (std::size_t{64} << 10)    ? LZ4F_max64KB
                                : in.size() <= (std::size_t{256} << 10) ? LZ4F_max256KB
                                : in.size() <= (std::size_t{1} << 20)   ? LZ4F_max1MB
                                                                        : LZ4F_max4MB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.compressionLevel = level ? std::clamp(*level, 1, 12) : 0;
  const std::size_t start = out.size();
  out.resize(start + LZ4F_compressFrameBound(in.size(), &prefs));
  const std::size_t n = LZ4F_compressFrame(out.data() + start, out.size() - start, in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) {
    out.resize(start);
    return client_errc::compression_failed;
  }
  out.resize(start + n);
  return {};
}

template <class Out>
std::error_code lz4_decompress(std::span<const std::uint8_t> in, Out& out, std::size_t max_output) {
  LZ4F_dctx* raw = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION))) return client_errc::compression_failed;
  std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> ctx(raw, &LZ4F_freeDecompressionContext);
  BoundedOutput<Out> o(out, in.size(), max_output);
  std::size_t pos = 0;
  std::size_t hint = 1;
  while (pos < in.size() || hint != 0) {
    if (o.room() == 0 && !o.grow()) return client_errc::decompressed_too_large;
    std::size_t dst = o.room();
    std::size_t src = in.size() - pos;
    LZ4F_decompressOptions_t opts{};
    hint = LZ4F_decompress(ctx.get(), o.next(), &dst, in.data() + pos, &src, &opts);
    if (LZ4F_isError(hint)) return client_errc::corrupt_record;
    pos += src;
    o.advance(dst);
    if (o.over()) return client_errc::decompressed_too_large;
    // No input consumed and no output produced: the frame is incomplete.
    if (src == 0 && dst == 0 && o.room() != 0) return client_errc::corrupt_record;
  }
  return o.commit();
}

// ---- zstd ----

constexpr int kZstdWindowLogLimit = 27;  // ZSTD_WINDOWLOG_LIMIT_DEFAULT (static-linking-only API)

template <class Out>
std::error_code zstd_compress(std::span<const std::uint8_t> in, Out& out, std::optional<int> level) {
  const std::size_t start = out.size();
  out.resize(start + ZSTD_compressBound(in.size()));
  const int lvl = level ? std::clamp(*level, ZSTD_minCLevel(), ZSTD_maxCLevel()) : ZSTD_CLEVEL_DEFAULT;
  const std::size_t n = ZSTD_compress(out.data() + start, out.size() - start, in.data(), in.size(), lvl);
  if (ZSTD_isError(n)) {
    out.resize(start);
    return client_errc::compression_failed;
  }
  out.resize(start + n);
  return {};
}

template <class Out>
std::error_code zstd_decompress(std::span<const std::uint8_t> in, Out& out, std::size_t max_output) {
  std::unique_ptr<ZSTD_DCtx, std::size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  if (!ctx) return client_errc::compression_failed;
  // The window the frame may demand is memory we allocate: allow what the bound needs, but at
  // least 8 MiB (streaming compressors declare large windows for small data) and at most the
  // library's default limit.
  int window_log = 23;
  while (window_log < kZstdWindowLogLimit && (std::size_t{1} << window_log) < max_output) ++window_log;
  ZSTD_DCtx_setParameter(ctx.get(), ZSTD_d_windowLogMax, window_log);
  BoundedOutput<Out> o(out, in.size(), max_output);
  ZSTD_inBuffer src{in.data(), in.size(), 0};
  std::size_t hint = 1;
  while (src.pos < src.size || hint != 0) {
    if (o.room() == 0 && !o.grow()) return client_errc::decompressed_too_large;
    ZSTD_outBuffer dst{o.next(), o.room(), 0};
    const std::size_t before = src.pos;
    hint = ZSTD_decompressStream(ctx.get(), &dst, &src);
    if (ZSTD_isError(hint)) {
      return ZSTD_getErrorCode(hint) == ZSTD_error_frameParameter_windowTooLarge
                 ? make_error_code(client_errc::decompressed_too_large)
                 : make_error_code(client_errc::corrupt_record);
    }
    o.advance(dst.pos);
    if (o.over()) return client_errc::decompressed_too_large;
    if (src.pos == before && dst.pos == 0 && o.room() != 0) return client_errc::corrupt_record;  // truncated
  }
  return o.commit();
}

// ---- legacy lz4 header repair ----

constexpr std::uint32_t rotl32(std::uint32_t v, int r) { return (v << r) | (v >> (32 - r)); }

// XXH32 with seed 0 for inputs shorter than 16 bytes (an LZ4 frame descriptor is 2..10 bytes).
std::uint32_t xxh32_short(const std::uint8_t* p, std::size_t n) {
  constexpr std::uint32_t p1 = 2654435761u, p2 = 2246822519u, p3 = 3266489917u, p4 = 668265263u, p5 = 374761393u;
  std::uint32_t h = p5 + static_cast<std::uint32_t>(n);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const std::uint32_t w = std::uint32_t{p[i]} | (std::uint32_t{p[i + 1]} << 8) | (std::uint32_t{p[i + 2]} << 16) |
                            (std::uint32_t{p[i + 3]} << 24);
    h = rotl32(h + w * p3, 17) * p4;
  }
  for (; i < n; ++i) h = rotl32(h + p[i] * p5, 11) * p1;
  h ^= h >> 15;
  h *= p2;
  h ^= h >> 13;
  h *= p3;
  h ^= h >> 16;
  return h;
}

template <class Out>
std::error_code decompress_into(CompressionType codec, std::span<const std::uint8_t> in, Out& out,
                                std::size_t max_output) {
  switch (codec) {
    case CompressionType::none:
      if (in.size() > max_output) return client_errc::decompressed_too_large;
      append(out, in);
      return {};
    case CompressionType::gzip: return gzip_decompress(in, out, max_output);
    case CompressionType::snappy: return snappy_decompress(in, out, max_output);
    case CompressionType::lz4: return lz4_decompress(in, out, max_output);
    case CompressionType::zstd: return zstd_decompress(in, out, max_output);
  }
  return client_errc::unsupported_compression;
}

template <class Out>
std::error_code compress_into(CompressionType codec, std::span<const std::uint8_t> in, Out& out,
                              std::optional<int> level) {
  switch (codec) {
    case CompressionType::none: {
      const std::size_t start = out.size();
      out.resize(start + in.size());
      if (!in.empty()) std::memcpy(out.data() + start, in.data(), in.size());
      return {};
    }
    case CompressionType::gzip: return gzip_compress(in, out, level);
    case CompressionType::snappy: return snappy_compress(in, out);
    case CompressionType::lz4: return lz4_compress(in, out, level);
    case CompressionType::zstd: return zstd_compress(in, out, level);
  }
  return client_errc::unsupported_compression;
}

}  // namespace

std::error_code compress(CompressionType codec, std::span<const std::uint8_t> in, bytes& out,
                         std::optional<int> level) {
  return compress_into(codec, in, out, level);
}

std::error_code compress(CompressionType codec, std::span<const std::uint8_t> in, byte_buffer& out,
                         std::optional<int> level) {
  return compress_into(codec, in, out, level);
}

std::error_code decompress(CompressionType codec, std::span<const std::uint8_t> in, bytes& out,
                           std::size_t max_output) {
  return decompress_into(codec, in, out, max_output);
}

std::error_code decompress(CompressionType codec, std::span<const std::uint8_t> in, shared_buffer& out,
                           std::size_t& out_size, std::size_t max_output) {
  shared_output o(out);
  const std::error_code ec = decompress_into(codec, in, o, max_output);
  out_size = ec ? 0 : o.size();
  return ec;
}

bytes repair_legacy_lz4_header(std::span<const std::uint8_t> frame) {
  // magic (4), FLG, BD, [content size (8)], [dict id (4)], HC
  if (frame.size() < 7 || frame[0] != 0x04 || frame[1] != 0x22 || frame[2] != 0x4D || frame[3] != 0x18) return {};
  const std::uint8_t flg = frame[4];
  const std::size_t descriptor = 2 + ((flg & 0x08) ? 8 : 0) + ((flg & 0x01) ? 4 : 0);
  if (frame.size() < 4 + descriptor + 1) return {};
  bytes fixed(frame.begin(), frame.end());
  fixed[4 + descriptor] = static_cast<std::uint8_t>((xxh32_short(frame.data() + 4, descriptor) >> 8) & 0xff);
  return fixed;
}

}  // namespace asiokafka::protocol
