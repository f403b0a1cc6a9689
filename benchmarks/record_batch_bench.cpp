// Record batch encode/decode (1,000 records of 100 B and of 1 KiB, uncompressed and with each
// codec) against memcpy of the same bytes, measured in the same run. At the end the program
// prints every figure as a percentage of the memcpy bandwidth for the same record size.
//
//   record_batch_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "asiokafka/protocol/records.hpp"
#include "payload.hpp"
#include "protocol/crc32c.hpp"
#include "protocol/record_batch_builder.hpp"

namespace {

using namespace asiokafka::protocol;

constexpr int kRecords = 1000;

const char* codec_name(CompressionType c) {
  switch (c) {
    case CompressionType::none: return "none";
    case CompressionType::gzip: return "gzip";
    case CompressionType::snappy: return "snappy";
    case CompressionType::lz4: return "lz4";
    case CompressionType::zstd: return "zstd";
  }
  return "?";
}

struct Input {
  std::vector<std::string> keys, values;
};

const Input& input(std::size_t value_size) {
  static std::map<std::size_t, Input> cache;
  auto it = cache.find(value_size);
  if (it == cache.end()) {
    asiokafka::bench::PayloadGenerator gen(value_size);
    Input in;
    for (int i = 0; i < kRecords; ++i) in.keys.push_back("key-" + std::to_string(i % 64));
    in.values = gen.many(kRecords, value_size);
    it = cache.emplace(value_size, std::move(in)).first;
  }
  return it->second;
}

byte_view view(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

void fill(record_batch_builder& b, const Input& in, CompressionType codec) {
  b.reset({.compression = codec, .producer_id = 1000, .producer_epoch = 0, .base_sequence = 0});
  const std::int64_t ts = 1'700'000'000'000;
  for (int i = 0; i < kRecords; ++i) {
    b.append(ts + i, view(in.keys[static_cast<std::size_t>(i)]), view(in.values[static_cast<std::size_t>(i)]));
  }
}

std::size_t uncompressed_size(std::size_t value_size) {
  record_batch_builder b;
  fill(b, input(value_size), CompressionType::none);
  (void)b.finish();
  return b.data().size();
}

void BM_memcpy(benchmark::State& state) {
  const std::size_t n = uncompressed_size(static_cast<std::size_t>(state.range(0)));
  std::vector<std::uint8_t> src(n, 1), dst(n);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), n);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.SetItemsProcessed(state.iterations() * kRecords);
}

// range(1): 0 portable, 1 crc32 instruction, 2 PCLMULQDQ folding, 3 VPCLMULQDQ (AVX-512) folding.
void BM_crc32c(benchmark::State& state) {
  const std::size_t n = uncompressed_size(static_cast<std::size_t>(state.range(0)));
  std::vector<std::uint8_t> src(n, 7);
  using Fn = std::uint32_t (*)(std::span<const std::uint8_t>, std::uint32_t) noexcept;
  struct Path {
    const char* label;
    Fn fn;
    bool available;
  };
  const Path paths[] = {{"portable", &crc32c_portable, true},
                        {"hardware", &crc32c_hardware, crc32c_hardware_available()},
                        {"pclmul", &crc32c_clmul, crc32c_clmul_available()},
                        {"vpclmul-avx512", &crc32c_wide_clmul, crc32c_wide_clmul_available()}};
  const Path& path = paths[state.range(1)];
  if (!path.available) return state.SkipWithError("not supported by this CPU");
  for (auto _ : state) {
    benchmark::DoNotOptimize(path.fn(src, 0));
  }
  state.SetLabel(path.label);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// Bytes are counted as the uncompressed batch size for every codec, so figures compare.
void BM_encode(benchmark::State& state) {
  const auto value_size = static_cast<std::size_t>(state.range(0));
  const auto codec = static_cast<CompressionType>(state.range(1));
  const Input& in = input(value_size);
  const std::size_t n = uncompressed_size(value_size);
  record_batch_builder b;
  std::size_t wire = 0;
  for (auto _ : state) {
    fill(b, in, codec);
    if (b.finish()) return state.SkipWithError("finish failed");
    wire = b.data().size();
    benchmark::DoNotOptimize(b.data().data());
  }
  state.SetLabel(std::string(codec_name(codec)) + " ratio " + std::to_string(static_cast<double>(n) / static_cast<double>(wire)).substr(0, 4));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.SetItemsProcessed(state.iterations() * kRecords);
}

void BM_decode(benchmark::State& state) {
  const auto value_size = static_cast<std::size_t>(state.range(0));
  const auto codec = static_cast<CompressionType>(state.range(1));
  const std::size_t n = uncompressed_size(value_size);
  record_batch_builder b;
  fill(b, input(value_size), codec);
  (void)b.finish();
  const std::vector<std::uint8_t> batch(b.data().begin(), b.data().end());
  for (auto _ : state) {
    RecordsReader rd(batch);  // CRC checked by default
    std::size_t sum = 0;
    int count = 0;
    while (rd.next_batch()) {
      Record rec;
      while (rd.next_record(rec)) {
        sum += rec.key->size() + rec.value->size() + static_cast<std::size_t>(rec.offset);
        ++count;
      }
    }
    if (rd.error() || count != kRecords) return state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(sum);
  }
  state.SetLabel(codec_name(codec));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.SetItemsProcessed(state.iterations() * kRecords);
}

void codec_args(benchmark::internal::Benchmark* b) {
  for (int size : {100, 1024}) {
    for (int codec = 0; codec <= 4; ++codec) b->Args({size, codec});
  }
}

BENCHMARK(BM_memcpy)->Arg(100)->Arg(1024);
BENCHMARK(BM_crc32c)->ArgsProduct({{100, 1024}, {3, 2, 1, 0}});
BENCHMARK(BM_encode)->Apply(codec_args);
BENCHMARK(BM_decode)->Apply(codec_args);

// Prints bytes/s of every run (median when repeated) as a percentage of memcpy's.
class PercentOfMemcpy : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.error_occurred) continue;
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      const auto it = r.counters.find("bytes_per_second");
      if (it == r.counters.end()) continue;
      std::string name = r.run_name.str();
      rows_.push_back({name, r.report_label, static_cast<double>(it->second)});
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::map<std::string, double> memcpy_bw;
    for (const auto& row : rows_) {
      if (row.name.rfind("BM_memcpy/", 0) == 0) memcpy_bw[row.name.substr(10, row.name.find('/', 10) - 10)] = row.bw;
    }
    std::printf("\n%-28s %-18s %12s %10s\n", "benchmark", "label", "MB/s", "% memcpy");
    for (const auto& row : rows_) {
      const auto first = row.name.find('/');
      const auto size = row.name.substr(first + 1, row.name.find_first_of("/_", first + 1) - first - 1);
      const double ref = memcpy_bw.count(size) ? memcpy_bw[size] : 0;
      std::printf("%-28s %-18s %12.0f %9.1f%%\n", row.name.c_str(), row.label.c_str(), row.bw / 1e6,
                  ref > 0 ? 100.0 * row.bw / ref : 0.0);
    }
  }

 private:
  struct Row {
    std::string name, label;
    double bw;
  };
  std::vector<Row> rows_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::printf("crc32c implementation: %s\n", crc32c_implementation());
  PercentOfMemcpy reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
