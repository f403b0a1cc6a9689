// See sequenced_produce.hpp.
#include "support/sequenced_produce.hpp"

#include "support/topics.hpp"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <charconv>
#include <csignal>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "producer/sansio/partitioner.hpp"
#include "support/poll.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

long long ms_since(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t).count();
}

// The state a fault's follow-up shares between the helper thread and the producing coroutine;
// `done` and `wake` are touched only on the producer's executor (the helper posts there).
struct FollowUp {
  std::string name;
  bool done = false;
  std::string error;
  std::chrono::milliseconds took{};
  std::unique_ptr<asio::steady_timer> wake;
};

std::shared_ptr<FollowUp> start_follow_up(asio::thread_pool& helper, const asio::any_io_executor& ex, std::string name,
                                          std::function<void()> then) {
  auto f = std::make_shared<FollowUp>();
  f->name = std::move(name);
  f->wake = std::make_unique<asio::steady_timer>(ex);
  asio::post(helper, [f, ex, then = std::move(then)] {
    const auto started = steady::now();
    std::string error;
    try {
      if (then) then();
    } catch (const std::exception& e) {
      error = e.what();
    }
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started);
    asio::post(ex, [f, error, took] {
      f->done = true;
      f->error = error;
      f->took = took;
      f->wake->cancel();
    });
  });
  return f;
}

// Waits until the follow-up reported back or `deadline` passed. No wake-up is lost: the check
// and the wait run in one handler on the executor the helper posts its report to.
asio::awaitable<void> await_follow_up(std::shared_ptr<FollowUp> f, steady::time_point deadline) {
  while (!f->done && steady::now() < deadline) {
    f->wake->expires_at(deadline);
    (void)co_await f->wake->async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void note_failure(Produced& out, const std::error_code& ec, const std::string& what) {
  ++out.failed;
  ++out.failures[std::string(ec.category().name()) + ":" + std::to_string(ec.value()) + " (" + ec.message() + ")"];
  if (out.failure_examples.size() < 5) out.failure_examples.push_back(what);
}

asio::awaitable<void> settle(DeliveryHandle handle, std::size_t index, Produced& out) {
  try {
    const RecordMetadata md = co_await handle.async_wait();
    out.offsets[index] = md.offset;
    out.partitions[index] = md.partition;
    ++out.acked;
  } catch (const std::system_error& e) {
    note_failure(out, e.code(), e.what());
  }
}

asio::awaitable<void> produce_loop(const ProduceSpec& spec, std::vector<Fault>& faults, asio::thread_pool& helper,
                                   Produced& out) {
  const auto ex = co_await asio::this_coro::executor;
  const auto started = steady::now();
  const auto deadline = started + spec.limit;
  Producer producer(ex, spec.config);
  co_await producer.start();
  const std::size_t partitions = spec.keys.size();
  std::deque<std::pair<std::size_t, DeliveryHandle>> pending;
  std::vector<std::shared_ptr<FollowUp>> follow_ups;
  std::size_t next_fault = 0;
  bool previous_awaited = false;  // the follow-up of the last fault finished (or none ran)
  auto log_follow_up = [&out](const FollowUp& f) {
    out.log.push_back(f.name + ": follow-up " + (f.done ? "took " + std::to_string(f.took.count()) + " ms" : "unfinished") +
                      (f.error.empty() ? "" : ", failed: " + f.error));
    if (f.done && f.error.empty()) ++out.faults_done;
  };
  for (std::size_t i = 0; i < spec.count; ++i) {
    if (steady::now() >= deadline) {
      out.aborted = "time limit reached after " + std::to_string(i) + " sends";
      break;
    }
    if (next_fault < faults.size() && i >= faults[next_fault].at) {
      if (!previous_awaited && !follow_ups.empty()) {
        co_await await_follow_up(follow_ups.back(), deadline);
        log_follow_up(*follow_ups.back());
        if (!follow_ups.back()->done) {
          out.aborted = follow_ups.back()->name + " did not finish in time";
          break;
        }
      }
      previous_awaited = true;
      // Strike while records are unacknowledged (in flight or buffered), checked every few
      // sends; after a window's worth of sends without that, strike anyway (the log says so).
      std::size_t open = 0;
      if (i % 16 == 0 || i >= faults[next_fault].at + spec.window) {
        for (const auto& entry : pending) open += entry.second.done() ? 0 : 1;
      }
      if (open >= spec.strike_when_unacknowledged || i >= faults[next_fault].at + spec.window) {
        Fault& f = faults[next_fault++];
        if (f.now) f.now();
        out.log.push_back(f.name + " at " + std::to_string(ms_since(started)) + " ms: sent " + std::to_string(i) +
                          ", of which not yet acknowledged " + std::to_string(open));
        follow_ups.push_back(start_follow_up(helper, ex, f.name, std::move(f.then)));
        previous_awaited = false;
      }
    }
    while (pending.size() >= spec.window) {
      co_await settle(pending.front().second, pending.front().first, out);
      pending.pop_front();
    }
    const int p = static_cast<int>(i % partitions);
    const std::string value = sequenced_value(p, i / partitions, spec.value_size);
    SendOptions options;
    options.key = BytesView(spec.keys[i % partitions]);
    try {
      DeliveryHandle handle = co_await producer.send(spec.topic, value, options);
      pending.emplace_back(i, std::move(handle));
      ++out.sent;
    } catch (const std::system_error& e) {
      note_failure(out, e.code(), e.what());
    }
  }
  while (!pending.empty()) {
    co_await settle(pending.front().second, pending.front().first, out);
    pending.pop_front();
  }
  if (out.aborted.empty() && next_fault < faults.size()) {
    out.aborted = "only " + std::to_string(next_fault) + " of " + std::to_string(faults.size()) + " faults ran";
  }
  if (!follow_ups.empty()) {
    co_await await_follow_up(follow_ups.back(), deadline + 60s);
    log_follow_up(*follow_ups.back());
  }
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started);
  const auto stopped = co_await producer.stop(asio::as_tuple(asio::use_awaitable));
  if (std::get<0>(stopped)) out.aborted += " stop() failed: " + std::get<0>(stopped).message();
}

}  // namespace

int leader_of(const std::string& bootstrap, const std::string& topic, int partition) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, rdk_conf(bootstrap, {}), err, sizeof err);
  if (!rk) return -1;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  int leader = -1;
  // A fresh topic may not have a leader in every broker's metadata yet.
  eventually(
      [&] {
        const rd_kafka_metadata_t* md = nullptr;
        if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
        for (int t = 0; t < md->topic_cnt; ++t) {
          for (int p = 0; p < md->topics[t].partition_cnt; ++p) {
            const auto& mp = md->topics[t].partitions[p];
            if (mp.id == partition && mp.err == RD_KAFKA_RESP_ERR_NO_ERROR) leader = mp.leader;
          }
        }
        rd_kafka_metadata_destroy(md);
        return leader >= 0;
      },
      30s);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return leader;
}

std::vector<std::string> keys_for_partitions(int partitions) {
  std::vector<std::string> keys(static_cast<std::size_t>(partitions));
  int found = 0;
  for (int j = 0; j < 100000 && found < partitions; ++j) {
    const std::string key = "key-" + std::to_string(j);
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(key.data());
    auto& slot = keys[static_cast<std::size_t>(producer::partition_for_key({bytes, key.size()}, partitions))];
    if (slot.empty()) {
      slot = key;
      ++found;
    }
  }
  if (found < partitions) throw std::runtime_error("no key for some partition");
  return keys;
}

void kill_now(int pid) {
  if (pid <= 0 || ::kill(pid, SIGKILL) != 0) throw std::runtime_error("cannot SIGKILL pid " + std::to_string(pid));
}

void wait_process_gone(int pid, std::chrono::milliseconds limit) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  const bool gone = eventually(
      [&] {
        std::error_code ec;
        std::size_t n = 0;
        for (auto it = std::filesystem::directory_iterator(tasks, ec); !ec && it != std::filesystem::directory_iterator();
             it.increment(ec)) {
          ++n;
        }
        if (ec) return true;
        if (n > 1) return false;
        // The leader alone may still be exiting with its sockets open: gone once a zombie.
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
        const auto paren = text.rfind(')');
        if (text.empty()) return true;  // no such process any more
        if (paren == std::string::npos || paren + 2 >= text.size()) return true;
        const char state = text[paren + 2];
        return state == 'Z' || state == 'X';
      },
      limit, 50ms);
  if (!gone) throw std::runtime_error("pid " + std::to_string(pid) + " still has threads after SIGKILL");
}

std::string sequenced_value(int partition, std::size_t seq, std::size_t size) {
  std::string v = "p" + std::to_string(partition) + "-s" + std::to_string(seq) + "-";
  if (v.size() < size) v.resize(size, static_cast<char>('a' + seq % 26));
  return v;
}

Produced produce_sequenced(const ProduceSpec& spec, std::vector<Fault> faults) {
  Produced out;
  out.offsets.assign(spec.count, -1);
  out.partitions.assign(spec.count, -1);
  std::exception_ptr error;
  bool finished = false;
  {
    // The helper is joined before the io_context goes: its last post always finds it.
    asio::io_context io;
    asio::thread_pool helper(1);
    asio::co_spawn(io, produce_loop(spec, faults, helper, out), [&](std::exception_ptr e) {
      finished = true;
      error = e;
    });
    io.run_for(spec.limit + spec.config.delivery_timeout + 90s);
    helper.join();
  }
  if (error) std::rethrow_exception(error);
  if (!finished) throw std::runtime_error("the producing coroutine did not finish in time");
  return out;
}

std::vector<std::vector<ReadRecord>> read_back(const std::string& bootstrap, const std::string& topic, int partitions,
                                               std::chrono::milliseconds limit) {
  std::vector<std::vector<ReadRecord>> out(static_cast<std::size_t>(partitions));
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER,
                                rdk_conf(bootstrap, {{"group.id", topic + "-readback"},
                                                     {"check.crcs", "true"},
                                                     {"enable.auto.commit", "false"},
                                                     {"fetch.max.bytes", "8388608"}}),
                                err, sizeof err);
  if (!rk) throw std::runtime_error(std::string("consumer: ") + err);
  std::vector<std::int64_t> high(out.size(), -1);
  for (int p = 0; p < partitions; ++p) {
    std::int64_t lo = 0, hi = 0;
    const bool ok = eventually(
        [&] { return rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR; },
        30s);
    if (!ok) ADD_FAILURE() << "no high watermark for " << topic << "/" << p;
    high[static_cast<std::size_t>(p)] = ok ? hi : 0;
  }
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  EXPECT_EQ(rd_kafka_assign(rk, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(parts);
  std::vector<std::int64_t> next(out.size(), 0);
  auto complete = [&] {
    for (std::size_t p = 0; p < out.size(); ++p) {
      if (next[p] < high[p]) return false;
    }
    return true;
  };
  const auto deadline = steady::now() + limit;
  int errors = 0;
  while (!complete() && steady::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 200);
    if (!m) continue;
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && ++errors <= 10) {
        ADD_FAILURE() << "consumer: " << rd_kafka_message_errstr(m);
      }
    } else if (m->partition >= 0 && m->partition < partitions) {
      ReadRecord r;
      r.offset = m->offset;
      if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
      out[static_cast<std::size_t>(m->partition)].push_back(std::move(r));
      next[static_cast<std::size_t>(m->partition)] = m->offset + 1;
    }
    rd_kafka_message_destroy(m);
  }
  if (!complete()) {
    std::ostringstream s;
    for (std::size_t p = 0; p < out.size(); ++p) s << " " << p << ":" << next[p] << "/" << high[p];
    ADD_FAILURE() << "read back stopped short of the high watermarks (partition:next/high):" << s.str();
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

std::string Verdict::summary() const {
  std::ostringstream s;
  s << "read " << read << ", distinct " << distinct << ", duplicates " << duplicates << ", out of order "
    << out_of_order << ", foreign " << foreign << ", acknowledged but missing " << acked_missing
    << ", acknowledged elsewhere " << acked_misplaced << ", failed but written " << unacked_present;
  for (const auto& e : examples) s << "\n  " << e;
  return s.str();
}

Verdict verify(const ProduceSpec& spec, const Produced& produced, const std::vector<std::vector<ReadRecord>>& read) {
  Verdict v;
  const std::size_t partitions = spec.keys.size();
  std::vector<std::uint32_t> seen(spec.count, 0);
  std::vector<std::int64_t> read_offset(spec.count, -1);
  auto example = [&v](const std::string& e) {
    if (v.examples.size() < 10) v.examples.push_back(e);
  };
  for (std::size_t p = 0; p < read.size(); ++p) {
    std::int64_t last_seq = -1;
    for (const ReadRecord& r : read[p]) {
      ++v.read;
      int vp = -1;
      std::size_t seq = 0;
      const char* b = r.value.data();
      const char* e = b + r.value.size();
      const auto dash = r.value.find("-s");
      bool ok = r.value.size() > 1 && r.value[0] == 'p' && dash != std::string::npos &&
                std::from_chars(b + 1, b + dash, vp).ec == std::errc() &&
                std::from_chars(b + dash + 2, e, seq).ec == std::errc();
      const std::size_t index = seq * partitions + p;
      ok = ok && vp == static_cast<int>(p) && r.key == spec.keys[p] && index < spec.count &&
           r.value == sequenced_value(vp, seq, spec.value_size);
      if (!ok) {
        ++v.foreign;
        example("partition " + std::to_string(p) + " offset " + std::to_string(r.offset) + ": unexpected record '" +
                r.value.substr(0, 24) + "'");
        continue;
      }
      if (static_cast<std::int64_t>(seq) <= last_seq) {
        ++v.out_of_order;
        example("partition " + std::to_string(p) + " offset " + std::to_string(r.offset) + ": sequence " +
                std::to_string(seq) + " after " + std::to_string(last_seq));
      }
      last_seq = static_cast<std::int64_t>(seq);
      if (seen[index]++ > 0) {
        ++v.duplicates;
        example("partition " + std::to_string(p) + " sequence " + std::to_string(seq) + " again at offset " +
                std::to_string(r.offset) + " (first at " + std::to_string(read_offset[index]) + ")");
      } else {
        read_offset[index] = r.offset;
        ++v.distinct;
      }
    }
  }
  for (std::size_t i = 0; i < spec.count; ++i) {
    const bool acked = produced.offsets[i] >= 0;
    if (acked && seen[i] == 0) {
      ++v.acked_missing;
      example("record " + std::to_string(i) + " acknowledged at " + std::to_string(produced.partitions[i]) + "/" +
              std::to_string(produced.offsets[i]) + " was not read back");
    } else if (acked && (read_offset[i] != produced.offsets[i] ||
                         produced.partitions[i] != static_cast<std::int32_t>(i % partitions))) {
      ++v.acked_misplaced;
      example("record " + std::to_string(i) + " acknowledged at " + std::to_string(produced.partitions[i]) + "/" +
              std::to_string(produced.offsets[i]) + ", read at " + std::to_string(i % partitions) + "/" +
              std::to_string(read_offset[i]));
    } else if (!acked && seen[i] > 0) {
      ++v.unacked_present;
    }
  }
  return v;
}

std::string describe_failures(const Produced& produced) {
  std::ostringstream s;
  for (const auto& f : produced.failures) s << "\n  " << f.second << " x " << f.first;
  for (const auto& e : produced.failure_examples) s << "\n  e.g. " << e;
  return s.str();
}

}  // namespace asiokafka::test
