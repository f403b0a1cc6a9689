// Shared pieces of the seed corpus generator (make_corpus.cpp; docs/fuzzing.md): where seeds
// go, deterministic payloads, and one generator function per fuzz target.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace asiokafka::corpus {

using bytes = std::vector<std::uint8_t>;

/// Writes the seeds of one target into its corpus folder.
class target_dir {
 public:
  explicit target_dir(std::filesystem::path dir) : dir_(std::move(dir)) {}
  /// Writes `data` as the seed `name` (which must be new in this run).
  void add(const std::string& name, std::span<const std::uint8_t> data);
  std::size_t count() const noexcept { return count_; }
  std::size_t total_bytes() const noexcept { return bytes_; }

 private:
  std::filesystem::path dir_;
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
};

/// The generator stops with this when its inputs are not what it expects.
struct generator_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] inline void fail(const std::string& what) { throw generator_error(what); }
inline void require(bool ok, const std::string& what) {
  if (!ok) fail(what);
}

/// Bytes of a hex string (whitespace ignored).
bytes from_hex(std::string_view hex);
/// The whole content of a file.
std::string read_file(const std::filesystem::path& path);

/// Deterministic payloads: log-like text lines (compressible), pseudo-random bytes
/// (incompressible) and runs of one byte.
bytes text_payload(std::size_t size, std::uint32_t seed = 1);
bytes random_payload(std::size_t size, std::uint32_t seed = 1);
bytes run_payload(std::size_t size, std::uint8_t value);

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline void append(bytes& out, std::span<const std::uint8_t> b) { out.insert(out.end(), b.begin(), b.end()); }
inline void append(bytes& out, std::string_view s) { append(out, as_bytes(s)); }

/// Test data the generator reads (tests/data).
struct inputs {
  std::filesystem::path data_dir;
};

/// One function per fuzz target; each fills the target's folder.
void make_message_seeds(const inputs& in, target_dir& out);     // message_any, message_round_trip
void make_records_seeds(const inputs& in, target_dir& out);     // records
void make_decompress_seeds(target_dir& out);                    // decompress
void make_frame_reader_seeds(const inputs& in, target_dir& out);  // frame_reader
void make_handshake_seeds(const inputs& in, target_dir& out);   // handshake
void make_wire_reader_seeds(target_dir& out);                   // wire_reader

/// Compression helpers shared by the records and decompress seeds: the library's own
/// compressor plus the other stream layouts the decompressors accept.
bytes compressed(int codec, std::span<const std::uint8_t> in);  // protocol::compress, default level
bytes xerial_snappy(std::span<const std::uint8_t> in, std::size_t block_size);
struct lz4_options {
  int block_size_id = 4;  // 4: 64 KiB .. 7: 4 MiB
  bool linked = false;
  bool content_checksum = false;
  bool block_checksum = false;
  bool content_size = false;
  int level = 0;
};
bytes lz4_frame(std::span<const std::uint8_t> in, const lz4_options& o);
struct zstd_options {
  int level = 3;
  bool checksum = false;
  bool content_size = true;
  int window_log = 0;  // 0: the library's choice
};
bytes zstd_frame(std::span<const std::uint8_t> in, const zstd_options& o);

}  // namespace asiokafka::corpus
