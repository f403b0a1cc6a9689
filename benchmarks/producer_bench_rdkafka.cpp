// producer_bench: librdkafka's C producer with the same settings as ours, driven as its own
// examples and rdkafka_performance drive it: rd_kafka_produce with RD_KAFKA_MSG_F_COPY (send()
// copies too), a delivery report callback that counts, rd_kafka_poll to serve it. Also the
// admin call that creates the benchmark topics.
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "producer_bench.hpp"

namespace asiokafka::bench {
namespace {

void set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, name, value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    throw std::runtime_error(std::string("librdkafka ") + name + "=" + value + ": " + err);
  }
}

// Counters the delivery report callback updates (from the thread that polls).
struct Delivery {
  std::atomic<std::uint64_t> acked{0}, failed{0};
  std::atomic<std::uint64_t> last_ack_ns{0};
  std::string first_error;
  // Latency mode: scheduled send times are t0 + i * period; record i's latency lands here.
  std::vector<std::uint64_t>* latencies = nullptr;
  std::uint64_t warmup = 0, t0 = 0;
  double period_ns = 0;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* d = static_cast<Delivery*>(opaque);
  const std::uint64_t now = monotonic_ns();
  if (m->err) {
    if (d->failed.fetch_add(1) == 0) d->first_error = rd_kafka_err2str(m->err);
  } else {
    d->acked.fetch_add(1, std::memory_order_relaxed);
  }
  if (d->latencies) {
    const auto i = reinterpret_cast<std::uintptr_t>(m->_private);
    const std::uint64_t due = d->t0 + static_cast<std::uint64_t>(static_cast<double>(i) * d->period_ns);
    if (i >= d->warmup) (*d->latencies)[i - d->warmup] = now - due;
  }
  d->last_ack_ns.store(now, std::memory_order_relaxed);
}

rd_kafka_conf_t* base_conf(const std::string& bootstrap) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  set(conf, "client.id", "producer_bench");
  return conf;
}

struct Handle {
  rd_kafka_t* rk = nullptr;
  rd_kafka_topic_t* rkt = nullptr;
  ~Handle() {
    if (rkt) rd_kafka_topic_destroy(rkt);
    if (rk) rd_kafka_destroy(rk);
  }
};

void open(Handle& h, const RunSpec& spec, int linger_ms, Delivery& d) {
  rd_kafka_conf_t* conf = base_conf(spec.bootstrap);
  set(conf, "acks", "all");
  set(conf, "enable.idempotence", "true");
  set(conf, "max.in.flight.requests.per.connection", "5");
  set(conf, "linger.ms", std::to_string(linger_ms));
  set(conf, "batch.size", std::to_string(spec.batch_bytes));
  // The byte limit decides a batch's end, as for the other clients (default: 10,000 records).
  set(conf, "batch.num.messages", "1000000");
  set(conf, "message.max.bytes", std::to_string(spec.request_bytes));
  set(conf, "compression.codec", spec.compression);
  // buffer_memory: librdkafka bounds its queue by bytes and by count; the count stays out of
  // the way.
  set(conf, "queue.buffering.max.kbytes", std::to_string(spec.buffer_memory / 1024));
  set(conf, "queue.buffering.max.messages", "10000000");
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, &d);
  char err[512];
  h.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!h.rk) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("rd_kafka_new: ") + err);
  }
  h.rkt = rd_kafka_topic_new(h.rk, spec.topic.c_str(), nullptr);
}

// Produces one record; waits (serving delivery reports) while the queue is full.
void produce(Handle& h, const std::string& value, std::uintptr_t index) {
  for (;;) {
    if (rd_kafka_produce(h.rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, const_cast<char*>(value.data()),
                         value.size(), nullptr, 0, reinterpret_cast<void*>(index)) == 0) {
      return;
    }
    const rd_kafka_resp_err_t e = rd_kafka_last_error();
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(e));
    rd_kafka_poll(h.rk, 1);
  }
}

// Sends `n` records as fast as the queue takes them, then serves delivery reports until all
// of them (and every earlier one) arrived.
void send_burst(Handle& h, const RunSpec& spec, std::uint64_t n, Delivery& d, std::uint64_t done_before) {
  const auto& payloads = *spec.payloads;
  std::size_t next = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    produce(h, payloads[next], 0);
    if (++next == payloads.size()) next = 0;
    if ((i & 1023) == 0) rd_kafka_poll(h.rk, 0);
  }
  while (d.acked.load() + d.failed.load() < done_before + n) rd_kafka_poll(h.rk, 100);
}

void throughput(const RunSpec& spec, RunResult& r) {
  Delivery d;
  Handle h;
  open(h, spec, spec.linger_ms, d);
  send_burst(h, spec, spec.warmup, d, 0);
  const std::uint64_t warm_failed = d.failed.load();
  const std::uint64_t t0 = monotonic_ns();
  const std::uint64_t cpu0 = process_threads_cpu_ns();
  send_burst(h, spec, spec.records, d, spec.warmup);
  r.cpu_ns = process_threads_cpu_ns() - cpu0;
  r.seconds = static_cast<double>(d.last_ack_ns.load() - t0) / 1e9;
  r.failed = d.failed.load();
  r.records = d.acked.load() - (spec.warmup - warm_failed);
  if (r.failed) set_error(r, "records failed: " + d.first_error);
}

// Open loop, as for ours: this thread sends on schedule (clock_nanosleep to each due time), a
// second thread blocks in rd_kafka_poll so delivery reports are served as soon as they arrive.
void latency(const RunSpec& spec, RunResult& r) {
  Delivery d;
  std::vector<std::uint64_t> latencies(spec.records);
  d.latencies = &latencies;
  d.warmup = spec.warmup;
  d.period_ns = 1e9 / spec.rate;
  Handle h;
  open(h, spec, 0, d);
  const std::uint64_t total = spec.warmup + spec.records;
  d.t0 = monotonic_ns() + 1'000'000;
  std::atomic<bool> stop{false};
  std::thread poller([&] {
    while (!stop.load()) rd_kafka_poll(h.rk, 50);
  });
  std::uint64_t cpu0 = 0, start_ns = 0, lag_max = 0;
  const auto& payloads = *spec.payloads;
  for (std::uint64_t i = 0; i < total; ++i) {
    const std::uint64_t due = d.t0 + static_cast<std::uint64_t>(static_cast<double>(i) * d.period_ns);
    if (i == spec.warmup) {
      cpu0 = process_threads_cpu_ns();
      start_ns = due;
    }
    std::uint64_t now = monotonic_ns();
    if (now < due) {
      timespec ts{static_cast<time_t>(due / 1'000'000'000), static_cast<long>(due % 1'000'000'000)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
      }
      now = monotonic_ns();
    }
    if (i >= spec.warmup && now > due && now - due > lag_max) lag_max = now - due;
    produce(h, payloads[i % payloads.size()], i);
  }
  // Bounded: delivery.timeout.ms (300 s by default) fails what cannot be delivered.
  while (d.acked.load() + d.failed.load() < total) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  stop = true;
  poller.join();
  r.cpu_ns = process_threads_cpu_ns() - cpu0;
  r.seconds = static_cast<double>(d.last_ack_ns.load() - start_ns) / 1e9;
  r.failed = d.failed.load();
  r.records = d.acked.load() >= spec.warmup ? d.acked.load() - spec.warmup : 0;
  r.send_lag_max_us = static_cast<double>(lag_max) / 1e3;
  if (r.failed) {
    set_error(r, "records failed: " + d.first_error);
  } else {
    summarize_latency(latencies, r);
  }
}

}  // namespace

RunResult run_rdkafka(const RunSpec& spec) {
  RunResult r;
  try {
    if (spec.mode == Mode::throughput) {
      throughput(spec, r);
    } else {
      latency(spec, r);
    }
  } catch (const std::exception& e) {
    set_error(r, e.what());
    return r;
  }
  r.ok = r.failed == 0 && r.error[0] == '\0';
  return r;
}

void create_topic(const std::string& bootstrap, const std::string& topic, int partitions) {
  char err[512];
  Handle h;
  rd_kafka_conf_t* conf = base_conf(bootstrap);
  h.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!h.rk) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("rd_kafka_new: ") + err);
  }
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof err);
  if (!nt) throw std::runtime_error(std::string("NewTopic: ") + err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(h.rk);
  rd_kafka_CreateTopics(h.rk, &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  std::string failure;
  if (!ev) {
    failure = "CreateTopics: no answer in 30 s";
  } else {
    size_t n = 0;
    const auto** results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    if (rd_kafka_event_error(ev)) {
      failure = std::string("CreateTopics: ") + rd_kafka_event_error_string(ev);
    } else if (n != 1 || rd_kafka_topic_result_error(results[0]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      failure = std::string("CreateTopics ") + topic + ": " +
                (n == 1 ? rd_kafka_err2str(rd_kafka_topic_result_error(results[0])) : "no result");
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy(nt);
  if (!failure.empty()) throw std::runtime_error(failure);
}

}  // namespace asiokafka::bench
