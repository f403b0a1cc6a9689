// consumer_bench: the latency runs. The stamp in each value, the accounting of the receipts,
// and the run itself (a consumer on this thread, a paced producer in another) are shared by
// every producer/consumer pair, so that all pairs are measured identically.
#include <exception>
#include <string>
#include <thread>

#include "consumer_bench.hpp"

namespace asiokafka::bench {
namespace {

void put_u64(char* out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
std::uint64_t get_u64(const std::uint8_t* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(in[i]) << (8 * i);
  return v;
}

}  // namespace

void stamp(std::string& value, std::uint64_t due_ns, std::uint64_t index) {
  if (value.size() < kStampBytes) value.resize(kStampBytes);
  put_u64(value.data(), due_ns);
  put_u64(value.data() + 8, index);
}

void read_stamp(const std::uint8_t* value, std::size_t size, std::uint64_t& due_ns, std::uint64_t& index) {
  if (size < kStampBytes) {
    due_ns = 0;
    index = UINT64_MAX;
    return;
  }
  due_ns = get_u64(value);
  index = get_u64(value + 8);
}

void LatencySink::add(const std::uint8_t* value, std::size_t size, std::uint64_t now_ns) {
  ++received;
  std::uint64_t due = 0, index = 0;
  read_stamp(value, size, due, index);
  if (index < warmup || index - warmup >= ns.size()) return;
  std::uint64_t& slot = ns[index - warmup];
  if (slot != 0) {
    ++duplicates;
    return;
  }
  slot = now_ns > due ? now_ns - due : 1;  // 0 marks "not received"
  ++measured;
  last_ns = now_ns;
}

RunResult run_latency(const ConsumeSpec& spec, PacedSender produce, StampedConsumer consume) {
  RunResult r;
  LatencySink sink(spec.warmup, spec.records);
  PacedProducer producer;
  std::thread sender;
  std::uint64_t cpu1 = 0;
  try {
    consume(
        spec, sink,
        [&] {
          producer.t0 = monotonic_ns() + 1'000'000;
          sender = std::thread([&] { produce(spec, producer); });
        },
        [&] { cpu1 = process_threads_cpu_ns(); });
  } catch (const std::exception& e) {
    set_error(r, e.what());
  }
  producer.release = true;
  if (sender.joinable()) sender.join();
  if (r.error[0] != '\0') return r;
  if (!producer.error.empty()) {
    set_error(r, "producer: " + producer.error);
    return r;
  }
  const std::uint64_t start_ns =
      producer.t0 + static_cast<std::uint64_t>(static_cast<double>(spec.warmup) * 1e9 / spec.rate);
  r.cpu_ns = cpu1 - producer.cpu0;
  r.seconds = static_cast<double>(sink.last_ns - start_ns) / 1e9;
  r.send_lag_max_us = static_cast<double>(producer.lag_max_ns) / 1e3;
  r.failed = producer.failed;
  r.records = sink.measured;
  if (producer.failed) {
    set_error(r, std::to_string(producer.failed) + " records failed to be produced");
  } else if (sink.measured != spec.records || sink.duplicates) {
    set_error(r, "received " + std::to_string(sink.measured) + " of " + std::to_string(spec.records) +
                     " measured records, " + std::to_string(sink.duplicates) + " duplicates");
  } else {
    summarize_latency(sink.ns, r);
    r.ok = true;
  }
  return r;
}

}  // namespace asiokafka::bench
