// The consumer's decode path: one fetched partition (10 batches of 1,000 records of 100 B,
// uncompressed and lz4) turned into ConsumerRecords by consumer::decode_partition, beside a
// bare RecordsReader pass over the same bytes (the floor: framing, CRC, decompression, record
// parsing), in the same run. The difference is what building the records costs per record.
//
//   partition_records_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "asiokafka/buffer.hpp"
#include "asiokafka/protocol/records.hpp"
#include "consumer/sansio/partition_records.hpp"
#include "payload.hpp"
#include "protocol/record_batch_builder.hpp"

namespace {

namespace pr = asiokafka::protocol;

constexpr int kBatches = 10;
constexpr int kPerBatch = 1000;

pr::byte_view view(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

asiokafka::frame fetched(pr::CompressionType codec) {
  asiokafka::bench::PayloadGenerator gen(100);
  const auto values = gen.many(kPerBatch, 100);
  std::vector<std::uint8_t> blob;
  pr::record_batch_builder b;
  for (int i = 0; i < kBatches; ++i) {
    b.reset({.compression = codec, .base_offset = std::int64_t{i} * kPerBatch, .partition_leader_epoch = 1});
    for (int j = 0; j < kPerBatch; ++j) {
      const std::string key = "key-" + std::to_string(j % 64);
      b.append(1'700'000'000'000 + j, view(key), view(values[static_cast<std::size_t>(j)]));
    }
    (void)b.finish();
    blob.insert(blob.end(), b.data().begin(), b.data().end());
  }
  return asiokafka::frame::copy_of(blob);
}

void BM_reader(benchmark::State& state) {
  const auto response = fetched(static_cast<pr::CompressionType>(state.range(0)));
  for (auto _ : state) {
    pr::RecordsReader reader(response);
    std::size_t n = 0;
    while (reader.next_batch()) {
      pr::Record rec;
      while (reader.next_record(rec)) n += rec.value ? rec.value->size() : 0;
    }
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * kBatches * kPerBatch);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * response.size()));
}

void BM_decode_partition(benchmark::State& state) {
  const auto response = fetched(static_cast<pr::CompressionType>(state.range(0)));
  pr::messages::FetchResponse::PartitionData data;
  data.records.data = response.bytes();
  asiokafka::consumer::partition_fetch_params params;
  params.topic = std::make_shared<const std::string>("bench-topic");
  for (auto _ : state) {
    auto r = asiokafka::consumer::decode_partition(params, data, response);
    std::size_t n = 0;
    for (const auto& rec : r.records) n += rec.value ? rec.value->size() : 0;
    benchmark::DoNotOptimize(n);
    if (r.records.size() != kBatches * kPerBatch) state.SkipWithError("wrong record count");
  }
  state.SetItemsProcessed(state.iterations() * kBatches * kPerBatch);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * response.size()));
}

BENCHMARK(BM_reader)->Arg(0)->Arg(3)->ArgName("codec");
BENCHMARK(BM_decode_partition)->Arg(0)->Arg(3)->ArgName("codec");

}  // namespace

BENCHMARK_MAIN();
