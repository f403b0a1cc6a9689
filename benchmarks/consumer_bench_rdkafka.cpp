// consumer_bench: librdkafka's consumer with the same fetch settings as ours, driven as its
// fast path is meant to be driven: partitions assigned by hand from the beginning,
// rd_kafka_consume_batch_queue on the consumer queue, no offset store or commit. Also its
// sides of the latency runs (paced producer, stamped-record consumer), and the pre-fill of the
// benchmark topics with librdkafka's producer.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdint>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "consumer_bench.hpp"
#include "payload.hpp"

namespace asiokafka::bench {
namespace {

constexpr std::uint64_t kStallNs = 30'000'000'000;  // no record for this long: the run failed

void set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, name, value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    throw std::runtime_error(std::string("librdkafka ") + name + "=" + value + ": " + err);
  }
}

struct Client {
  rd_kafka_t* rk = nullptr;
  rd_kafka_queue_t* queue = nullptr;
  bool consumer = false;
  Client() = default;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() {
    if (queue) rd_kafka_queue_destroy(queue);
    if (rk && consumer) rd_kafka_consumer_close(rk);
    if (rk) rd_kafka_destroy(rk);
  }
};

void create(Client& c, rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char err[512];
  c.rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!c.rk) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("rd_kafka_new: ") + err);
  }
  c.consumer = type == RD_KAFKA_CONSUMER;
}

// A consumer with the spec's fetch settings, its partitions assigned from offset 0 (a fresh
// group id that is never committed to: librdkafka's consumer needs one).
void open_consumer(Client& c, const ConsumeSpec& spec) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", spec.bootstrap);
  set(conf, "client.id", "consumer_bench");
  set(conf, "group.id", "consumer_bench-" + std::to_string(getpid()) + "-" + std::to_string(monotonic_ns()));
  set(conf, "enable.auto.commit", "false");
  set(conf, "enable.auto.offset.store", "false");
  set(conf, "auto.offset.reset", "earliest");
  set(conf, "enable.partition.eof", "false");
  set(conf, "fetch.max.bytes", std::to_string(spec.fetch_max_bytes));
  set(conf, "max.partition.fetch.bytes", std::to_string(spec.partition_fetch_bytes));
  set(conf, "fetch.wait.max.ms", std::to_string(spec.fetch_wait_ms));
  set(conf, "fetch.min.bytes", std::to_string(spec.fetch_min_bytes));
  set(conf, "queued.max.messages.kbytes", std::to_string(spec.buffer_bytes / 1024));
  set(conf, "check.crcs", spec.check_crcs ? "true" : "false");
  create(c, RD_KAFKA_CONSUMER, conf);
  rd_kafka_poll_set_consumer(c.rk);
  c.queue = rd_kafka_queue_get_consumer(c.rk);
}

// Learns the topic's leaders before the assignment: librdkafka assigned a partition whose
// leader it does not know yet retries its offset lookup on a 500 ms timer, a start-up delay
// that says nothing about its consuming (and that a long-running consumer pays once).
void learn_leaders(Client& c, const ConsumeSpec& spec) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(c.rk, spec.topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t e = rd_kafka_metadata(c.rk, 0, rkt, &md, 10'000);
  if (md) rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  if (e) throw std::runtime_error(std::string("metadata: ") + rd_kafka_err2str(e));
}

void assign_from_start(Client& c, const ConsumeSpec& spec) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(spec.partitions);
  for (int p = 0; p < spec.partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, spec.topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  const rd_kafka_resp_err_t e = rd_kafka_assign(c.rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e) throw std::runtime_error(std::string("rd_kafka_assign: ") + rd_kafka_err2str(e));
}

// Serves one batch of at most `most` records from the consumer queue to `on_record(value,
// size)`; returns its size. The call returns when it has `most` records or after
// `timeout_ms`, so `most` never exceeds what is left to read.
template <class F>
std::size_t consume_batch(Client& c, std::vector<rd_kafka_message_t*>& msgs, std::size_t most, int timeout_ms,
                          F&& on_record) {
  const ssize_t n = rd_kafka_consume_batch_queue(c.queue, timeout_ms, msgs.data(), std::min(most, msgs.size()));
  if (n < 0) throw std::runtime_error(std::string("consume_batch_queue: ") + rd_kafka_err2str(rd_kafka_last_error()));
  std::string failure;
  for (ssize_t i = 0; i < n; ++i) {
    rd_kafka_message_t* m = msgs[static_cast<std::size_t>(i)];
    if (m->err) {
      if (failure.empty()) failure = rd_kafka_message_errstr(m);
    } else {
      on_record(static_cast<const std::uint8_t*>(m->payload), m->len);
    }
    rd_kafka_message_destroy(m);
  }
  if (!failure.empty()) throw std::runtime_error("consume: " + failure);
  return static_cast<std::size_t>(n);
}

void consume(const ConsumeSpec& spec, RunResult& r) {
  Client c;
  open_consumer(c, spec);
  learn_leaders(c, spec);
  const std::uint64_t t0 = monotonic_ns();
  const std::uint64_t cpu0 = process_threads_cpu_ns();  // after rd_kafka_new: its threads exist
  assign_from_start(c, spec);
  std::vector<rd_kafka_message_t*> msgs(std::max<std::size_t>(spec.poll_records, 1));
  std::uint64_t records = 0, bytes = 0, last_progress = t0;
  while (records < spec.records) {
    const std::size_t n = consume_batch(c, msgs, spec.records - records, 1000, [&](const std::uint8_t*, std::size_t size) {
      ++records;
      bytes += size;
    });
    const std::uint64_t now = monotonic_ns();
    if (n > 0) {
      last_progress = now;
    } else if (now - last_progress > kStallNs) {
      throw std::runtime_error("no record for 30 s");
    }
  }
  const std::uint64_t t1 = monotonic_ns();
  r.cpu_ns = process_threads_cpu_ns() - cpu0;
  r.seconds = static_cast<double>(t1 - t0) / 1e9;
  r.records = records;
  if (records != spec.records || bytes != records * spec.value_size) {
    set_error(r, "read " + std::to_string(records) + " records / " + std::to_string(bytes) + " B, expected " +
                     std::to_string(spec.records) + " of " + std::to_string(spec.value_size) + " B");
  }
}

// Counts the producer's failed deliveries (delivery report callback).
void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  if (m->err) static_cast<std::atomic<std::uint64_t>*>(opaque)->fetch_add(1);
}

void open_producer(Client& c, const std::string& bootstrap, int linger_ms, std::atomic<std::uint64_t>& failed) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  set(conf, "client.id", "consumer_bench");
  set(conf, "acks", "all");
  set(conf, "enable.idempotence", "true");
  set(conf, "max.in.flight.requests.per.connection", "5");
  set(conf, "linger.ms", std::to_string(linger_ms));
  set(conf, "batch.size", "1048576");
  set(conf, "batch.num.messages", "1000000");
  set(conf, "queue.buffering.max.kbytes", "65536");
  set(conf, "queue.buffering.max.messages", "10000000");
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, &failed);
  create(c, RD_KAFKA_PRODUCER, conf);
}

void produce(Client& c, const std::string& topic, int partition, const std::string& value) {
  for (;;) {
    const rd_kafka_resp_err_t e =
        rd_kafka_producev(c.rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(e));
    rd_kafka_poll(c.rk, 1);
  }
}

}  // namespace

// As ours: this thread sends on schedule (clock_nanosleep to each due time; linger 0, the
// default partitioner), a second thread serves the delivery reports.
void produce_paced_rdkafka(const ConsumeSpec& spec, PacedProducer& p) {
  try {
    std::atomic<std::uint64_t> failed{0};
    Client producer;
    open_producer(producer, spec.bootstrap, 0, failed);
    std::atomic<bool> stop{false};
    std::thread poller([&] {
      while (!stop.load()) rd_kafka_poll(producer.rk, 50);
    });
    PayloadGenerator gen;
    std::string value = gen.next(spec.value_size);
    const double period_ns = 1e9 / spec.rate;
    const std::uint64_t total = spec.warmup + spec.records;
    try {
      for (std::uint64_t i = 0; i < total && !p.release.load(); ++i) {
        const std::uint64_t due = p.t0 + static_cast<std::uint64_t>(static_cast<double>(i) * period_ns);
        if (i == spec.warmup) p.cpu0 = process_threads_cpu_ns();
        std::uint64_t now = monotonic_ns();
        if (now < due) {
          timespec ts{static_cast<time_t>(due / 1'000'000'000), static_cast<long>(due % 1'000'000'000)};
          while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
          }
          now = monotonic_ns();
        }
        if (i >= spec.warmup && now > due && now - due > p.lag_max_ns) p.lag_max_ns = now - due;
        stamp(value, due, i);
        produce(producer, spec.topic, RD_KAFKA_PARTITION_UA, value);
      }
      rd_kafka_flush(producer.rk, 30'000);
    } catch (...) {
      stop = true;
      poller.join();
      throw;
    }
    // Alive (and its CPU counted) until the harness has read the process's CPU.
    while (!p.release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    stop = true;
    poller.join();
    p.failed = failed.load();
  } catch (const std::exception& e) {
    p.error = e.what();
  }
}

// rd_kafka_consumer_poll, one record a call, as a latency-minded user reads:
// rd_kafka_consume_batch_queue would hold the records until its array is full or its timeout
// expires.
void consume_stamped_rdkafka(const ConsumeSpec& spec, LatencySink& sink, const std::function<void()>& ready,
                             const std::function<void()>& done) {
  Client consumer;
  open_consumer(consumer, spec);
  learn_leaders(consumer, spec);
  assign_from_start(consumer, spec);
  ready();
  std::uint64_t last_progress = monotonic_ns();
  while (!sink.complete()) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.rk, 100);
    const std::uint64_t now = monotonic_ns();
    if (!m) {
      if (now - last_progress > kStallNs) throw std::runtime_error("no record for 30 s");
      continue;
    }
    last_progress = now;
    const std::string failure = m->err ? rd_kafka_message_errstr(m) : "";
    if (!m->err) sink.add(static_cast<const std::uint8_t*>(m->payload), m->len, now);
    rd_kafka_message_destroy(m);
    if (!failure.empty()) throw std::runtime_error("consume: " + failure);
  }
  done();
}

RunResult consume_rdkafka(const ConsumeSpec& spec) {
  RunResult r;
  try {
    consume(spec, r);
  } catch (const std::exception& e) {
    set_error(r, e.what());
    return r;
  }
  r.ok = r.error[0] == '\0';
  return r;
}

std::int64_t topic_records(const std::string& bootstrap, const std::string& topic) {
  std::atomic<std::uint64_t> failed{0};
  Client c;
  open_producer(c, bootstrap, 0, failed);
  // All topics' metadata: asking for the topic by name could create it (auto-create).
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t e = rd_kafka_metadata(c.rk, 1, nullptr, &md, 10'000);
  if (e) throw std::runtime_error(std::string("metadata: ") + rd_kafka_err2str(e));
  int partitions = -1;
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (topic == md->topics[i].topic) partitions = md->topics[i].partition_cnt;
  }
  rd_kafka_metadata_destroy(md);
  if (partitions < 0) return -1;
  std::int64_t sum = 0;
  for (int p = 0; p < partitions; ++p) {
    std::int64_t low = 0, high = 0;
    const rd_kafka_resp_err_t w = rd_kafka_query_watermark_offsets(c.rk, topic.c_str(), p, &low, &high, 10'000);
    if (w) throw std::runtime_error(std::string("watermarks: ") + rd_kafka_err2str(w));
    sum += high - low;
  }
  return sum;
}

void prefill(const std::string& bootstrap, const std::string& topic, int partitions, std::uint64_t records,
             const std::vector<std::string>& payloads) {
  std::atomic<std::uint64_t> failed{0};
  Client c;
  open_producer(c, bootstrap, 20, failed);
  for (std::uint64_t i = 0; i < records; ++i) {
    produce(c, topic, static_cast<int>(i % static_cast<std::uint64_t>(partitions)), payloads[i % payloads.size()]);
    if ((i & 1023) == 0) rd_kafka_poll(c.rk, 0);
  }
  const rd_kafka_resp_err_t e = rd_kafka_flush(c.rk, 300'000);
  if (e) throw std::runtime_error(std::string("prefill flush: ") + rd_kafka_err2str(e));
  if (failed.load()) throw std::runtime_error("prefill: " + std::to_string(failed.load()) + " records failed");
}

}  // namespace asiokafka::bench
