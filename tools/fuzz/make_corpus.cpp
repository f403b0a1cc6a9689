// Generates the committed seed corpus of the fuzz targets (fuzz/corpus/<target>/); see
// docs/fuzzing.md. Built with the fuzz preset (target make_fuzz_corpus):
//
//   build/fuzz/tools/fuzz/make_fuzz_corpus [--out DIR] [--data DIR]
//
// --out defaults to the source tree's fuzz/corpus, --data to tests/data (the Java client's
// golden bodies and the captured broker responses). Every file in a target folder is replaced,
// except inputs kept on purpose: `regression-*` (crashes that were fixed) and files named by a
// 40-digit SHA-1 (what libFuzzer's -merge=1 writes when a long run's finds are merged in).
// The output is deterministic for given library versions of zlib, snappy, lz4 and zstd.
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "corpus.hpp"

namespace asiokafka::corpus {

namespace fs = std::filesystem;

void target_dir::add(const std::string& name, std::span<const std::uint8_t> data) {
  const fs::path path = dir_ / name;
  require(!fs::exists(path), "seed written twice: " + path.string());
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  require(static_cast<bool>(f), "cannot write " + path.string());
  ++count_;
  bytes_ += data.size();
}

bytes from_hex(std::string_view hex) {
  bytes out;
  int high = -1;
  for (const char c : hex) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    else fail("not hex: " + std::string(hex.substr(0, 40)));
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  require(high < 0, "odd number of hex digits");
  return out;
}

std::string read_file(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  require(static_cast<bool>(f), "cannot read " + path.string());
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

namespace {

// xorshift32: the same bytes on every machine.
std::uint32_t next(std::uint32_t& s) {
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

bool kept_on_purpose(const std::string& name) {
  if (name.rfind("regression-", 0) == 0) return true;
  if (name.size() != 40) return false;
  for (const char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Empties `dir` of generated seeds (see the header comment) and returns it.
fs::path prepare(const fs::path& root, const std::string& target) {
  const fs::path dir = root / target;
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && !kept_on_purpose(e.path().filename().string())) fs::remove(e.path());
  }
  return dir;
}

// message_any and message_round_trip read the same seeds (same input layout).
void link_shared(const fs::path& root, const std::string& name, const std::string& to) {
  const fs::path link = root / name;
  if (fs::is_symlink(link)) return;
  require(!fs::exists(link), link.string() + " should be a link to " + to);
  fs::create_directory_symlink(to, link);
}

}  // namespace

bytes text_payload(std::size_t size, std::uint32_t seed) {
  static constexpr const char* words[] = {"topic", "partition", "offset", "consumer", "group", "leader",
                                          "epoch", "commit", "fetch", "produce", "batch", "record"};
  bytes out;
  std::uint32_t s = seed * 2654435761u + 1;
  int line = 0;
  while (out.size() < size) {
    std::string l = "{\"seq\":" + std::to_string(line++) + ",\"event\":\"";
    for (int i = 0; i < 4; ++i) l += std::string(words[next(s) % std::size(words)]) + (i < 3 ? "-" : "");
    l += "\",\"value\":" + std::to_string(next(s) % 100000) + "}\n";
    append(out, l);
  }
  out.resize(size);
  return out;
}

bytes random_payload(std::size_t size, std::uint32_t seed) {
  bytes out(size);
  std::uint32_t s = seed * 2246822519u + 7;
  for (auto& b : out) b = static_cast<std::uint8_t>(next(s) >> 24);
  return out;
}

bytes run_payload(std::size_t size, std::uint8_t value) { return bytes(size, value); }

}  // namespace asiokafka::corpus

int main(int argc, char** argv) {
  using namespace asiokafka::corpus;
  fs::path out = fs::path(ASIOKAFKA_SOURCE_DIR) / "fuzz" / "corpus";
  inputs in{fs::path(ASIOKAFKA_SOURCE_DIR) / "tests" / "data"};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--out" || arg == "--data") && i + 1 < argc) {
      (arg == "--out" ? out : in.data_dir) = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--out CORPUS_DIR] [--data TESTS_DATA_DIR]\n", argv[0]);
      return 2;
    }
  }
  try {
    struct job {
      const char* target;
      void (*make)(const inputs&, target_dir&);
    };
    const job jobs[] = {
        {"message", make_message_seeds},
        {"records", make_records_seeds},
        {"decompress", [](const inputs&, target_dir& d) { make_decompress_seeds(d); }},
        {"frame_reader", make_frame_reader_seeds},
        {"handshake", make_handshake_seeds},
        {"wire_reader", [](const inputs&, target_dir& d) { make_wire_reader_seeds(d); }},
    };
    std::size_t files = 0, total = 0;
    for (const auto& j : jobs) {
      target_dir dir(prepare(out, j.target));
      j.make(in, dir);
      std::printf("%-13s %5zu seeds %9zu bytes\n", j.target, dir.count(), dir.total_bytes());
      files += dir.count();
      total += dir.total_bytes();
    }
    link_shared(out, "message_any", "message");
    link_shared(out, "message_round_trip", "message");
    std::printf("%-13s %5zu seeds %9zu bytes in %s\n", "total", files, total, out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_fuzz_corpus: %s\n", e.what());
    return 1;
  }
  return 0;
}
