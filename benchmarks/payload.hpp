// Deterministic payloads with realistic compressibility, shared by the benchmarks: JSON-ish
// event records (field names repeat, numbers and ids vary), which compress about 2-4x with
// lz4/zstd, like typical application payloads -- neither all zeros nor random bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace asiokafka::bench {

class PayloadGenerator {
 public:
  explicit PayloadGenerator(std::uint64_t seed = 0x9E3779B97F4A7C15ull) : state_(seed) {}

  /// The next payload of exactly `size` bytes.
  std::string next(std::size_t size) {
    static const char* const kFields[] = {"user", "session", "event", "page", "ts", "amount", "region", "device"};
    static const char* const kValues[] = {"\"click\"", "\"view\"", "\"purchase\"", "\"eu-west-1\"", "\"mobile\"",
                                          "\"desktop\"", "\"/home\"", "\"/cart\"", "true", "false"};
    std::string s;
    s.reserve(size + 32);
    s += '{';
    while (s.size() < size) {
      s += '"';
      s += kFields[rand() % 8];
      s += "\":";
      switch (rand() % 3) {
        case 0: s += kValues[rand() % 10]; break;
        case 1: s += std::to_string(rand() % 100000); break;
        default: {
          s += "\"";
          for (int i = 0; i < 12; ++i) s += "0123456789abcdef"[rand() % 16];
          s += "\"";
        }
      }
      s += ',';
    }
    s.resize(size);
    return s;
  }

  std::vector<std::string> many(std::size_t count, std::size_t size) {
    std::vector<std::string> v;
    v.reserve(count);
    for (std::size_t i = 0; i < count; ++i) v.push_back(next(size));
    return v;
  }

 private:
  std::uint32_t rand() {  // xorshift64*
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return static_cast<std::uint32_t>((state_ * 0x2545F4914F6CDD1Dull) >> 32);
  }
  std::uint64_t state_;
};

}  // namespace asiokafka::bench
