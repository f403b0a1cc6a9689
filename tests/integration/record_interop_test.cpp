// Our record batch codec against the real broker and librdkafka, both directions:
//  - librdkafka produces (every codec, headers, null keys and values); the broker stores the
//    batches as they arrived, and we decode its log segment file;
//  - we encode batches, send them in a generated Produce v9 request over a blocking socket,
//    and librdkafka's consumer (check.crcs=true) reads them back.
#include <arpa/inet.h>
#include <cerrno>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "asiokafka/protocol/messages.hpp"
#include "asiokafka/protocol/records.hpp"
#include "protocol/record_batch_builder.hpp"
#include "protocol/wire.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

using namespace asiokafka::protocol;

const std::pair<const char*, CompressionType> kCodecs[] = {{"none", CompressionType::none},
                                                             {"gzip", CompressionType::gzip},
                                                             {"snappy", CompressionType::snappy},
                                                             {"lz4", CompressionType::lz4},
                                                             {"zstd", CompressionType::zstd}};

std::string unique_topic(const std::string& stem) {
  std::random_device rd;
  return stem + "-" + std::to_string(rd() % 1000000000u);
}

struct Msg {
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

std::vector<Msg> messages(int n) {
  std::vector<Msg> v;
  for (int i = 0; i < n; ++i) {
    Msg m;
    if (i % 3 != 0) m.key = "key-" + std::to_string(i);
    if (i % 7 != 3) m.value = "value-" + std::to_string(i) + "-" + std::string(static_cast<std::size_t>(i % 50), 'x');
    if (i % 2 == 0) m.headers = {{"h" + std::to_string(i), "hv"}, {"nullh", std::nullopt}};
    v.push_back(std::move(m));
  }
  return v;
}

std::string str(std::optional<byte_view> b) {
  return b ? std::string(reinterpret_cast<const char*>(b->data()), b->size()) : std::string("<null>");
}

rd_kafka_conf_t* conf(const std::string& bootstrap, std::initializer_list<std::pair<const char*, std::string>> kv) {
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  char err[512];
  EXPECT_EQ(rd_kafka_conf_set(c, "bootstrap.servers", bootstrap.c_str(), err, sizeof err), RD_KAFKA_CONF_OK) << err;
  for (const auto& [k, v] : kv) EXPECT_EQ(rd_kafka_conf_set(c, k, v.c_str(), err, sizeof err), RD_KAFKA_CONF_OK) << k << ": " << err;
  return c;
}

void produce_with_librdkafka(const std::string& bootstrap, const std::string& topic, const char* codec,
                             const std::vector<Msg>& msgs) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER,
                                conf(bootstrap, {{"compression.codec", codec}, {"linger.ms", "50"},
                                                 {"enable.idempotence", "true"}, {"acks", "all"}}),
                                err, sizeof err);
  ASSERT_NE(rk, nullptr) << err;
  for (const auto& m : msgs) {
    rd_kafka_headers_t* hs = rd_kafka_headers_new(m.headers.size());
    for (const auto& [k, v] : m.headers) {
      rd_kafka_header_add(hs, k.data(), static_cast<ssize_t>(k.size()), v ? v->data() : nullptr,
                          v ? static_cast<ssize_t>(v->size()) : 0);
    }
    void* key = m.key ? const_cast<char*>(m.key->data()) : nullptr;
    const std::size_t key_len = m.key ? m.key->size() : 0;
    void* value = m.value ? const_cast<char*>(m.value->data()) : nullptr;
    const std::size_t value_len = m.value ? m.value->size() : 0;
    const rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE(value, value_len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hs), RD_KAFKA_V_END);
    ASSERT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(e);
  }
  EXPECT_EQ(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(rd_kafka_outq_len(rk), 0);
  rd_kafka_destroy(rk);
}

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

TEST(RecordInterop, DecodeBatchesProducedByLibrdkafka) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto msgs = messages(500);
  for (const auto& [codec_name, codec] : kCodecs) {
    SCOPED_TRACE(codec_name);
    const std::string topic = unique_topic(std::string("rec-interop-") + codec_name);
    produce_with_librdkafka(rig.bootstrap("PLAINTEXT"), topic, codec_name, msgs);
    // The broker appends the batches to the segment (page cache) before acknowledging.
    const std::string segment = rig.get("RIG_DIR") + "/n1/data/" + topic + "-0/00000000000000000000.log";
    const auto blob = read_file(segment);
    ASSERT_FALSE(blob.empty()) << segment;
    RecordsReader rd(blob);
    std::size_t i = 0;
    int batches = 0;
    while (rd.next_batch()) {
      ++batches;
      const BatchInfo& b = rd.batch();
      EXPECT_EQ(b.magic, 2);
      EXPECT_EQ(b.compression(), codec);
      EXPECT_GE(b.producer_id, 0);  // idempotent producer
      Record rec;
      while (rd.next_record(rec)) {
        ASSERT_LT(i, msgs.size());
        EXPECT_EQ(rec.offset, static_cast<std::int64_t>(i));
        EXPECT_EQ(str(rec.key), msgs[i].key.value_or("<null>"));
        EXPECT_EQ(str(rec.value), msgs[i].value.value_or("<null>"));
        EXPECT_GT(rec.timestamp, 1600000000000);
        ASSERT_EQ(rec.headers.size(), msgs[i].headers.size());
        std::size_t j = 0;
        for (const auto& h : rec.headers) {
          EXPECT_EQ(h.key, msgs[i].headers[j].first);
          EXPECT_EQ(str(h.value), msgs[i].headers[j].second.value_or("<null>"));
          ++j;
        }
        ++i;
      }
    }
    EXPECT_FALSE(rd.error()) << rd.error().message();
    EXPECT_FALSE(rd.partial_tail());
    EXPECT_EQ(i, msgs.size());
    EXPECT_GE(batches, 1);
    EXPECT_FALSE(validate_records(blob));
  }
}

// ---- the other direction: Produce requests from the generated codec ----

class BlockingConnection {
 public:
  /// Bound on connect, on each send and on each receive: a broker that never answers fails
  /// the test instead of hanging it (Produce's own timeout_ms is 30 s).
  static constexpr std::chrono::seconds io_timeout{40};

  explicit BlockingConnection(const std::string& host_port) {
    const auto colon = host_port.rfind(':');
    const std::string host = host_port.substr(0, colon), port = host_port.substr(colon + 1);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0) return;
    for (addrinfo* a = res; a && fd_ < 0; a = a->ai_next) {
      fd_ = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
      if (fd_ >= 0 && (!bound(fd_) || ::connect(fd_, a->ai_addr, a->ai_addrlen) != 0)) {
        ::close(fd_);
        fd_ = -1;
      }
    }
    freeaddrinfo(res);
  }
  ~BlockingConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

  bool send_all(const std::vector<std::uint8_t>& b) {
    std::size_t off = 0;
    while (off < b.size()) {
      const ssize_t n = ::send(fd_, b.data() + off, b.size() - off, 0);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  bool recv_all(std::uint8_t* p, std::size_t n) {
    while (n > 0) {
      const ssize_t r = ::recv(fd_, p, n, 0);
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        ADD_FAILURE() << "no response from the broker within " << io_timeout.count() << " s";
        return false;
      }
      if (r <= 0) return false;
      p += r;
      n -= static_cast<std::size_t>(r);
    }
    return true;
  }
  /// One response frame (without its size prefix).
  std::vector<std::uint8_t> receive() {
    std::uint8_t len[4];
    if (!recv_all(len, 4)) return {};
    const std::uint32_t n = (std::uint32_t{len[0]} << 24) | (std::uint32_t{len[1]} << 16) |
                            (std::uint32_t{len[2]} << 8) | std::uint32_t{len[3]};
    std::vector<std::uint8_t> body(n);
    if (!recv_all(body.data(), n)) return {};
    return body;
  }

 private:
  /// SO_RCVTIMEO bounds recv(), SO_SNDTIMEO send() and (on Linux) connect().
  static bool bound(int fd) {
    timeval tv{};
    tv.tv_sec = io_timeout.count();
    return ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
           ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0;
  }

  int fd_ = -1;
};

struct ProduceResult {
  std::int16_t error = -1;
  std::int64_t base_offset = -1;
};

// Produce v9 through the generated codec (flexible: request header v2, response header v1;
// zstd needs v7+). The batch goes in as a records view, not copied into the message.
ProduceResult produce(BlockingConnection& c, const std::string& topic, std::span<const std::uint8_t> batch) {
  constexpr std::int16_t version = 9;
  constexpr std::int32_t correlation_id = 42;
  messages::RequestHeader header;
  header.request_api_key = messages::ProduceRequest::api_key;
  header.request_api_version = version;
  header.correlation_id = correlation_id;
  header.client_id = "asiokafka-record-interop";
  messages::ProduceRequest request;
  request.acks = -1;
  request.timeout_ms = 30000;
  request.topic_data.push_back({.name = topic, .partition_data = {{.index = 0, .records = messages::RecordsView{batch}}}});
  bytes frame(4);
  EXPECT_FALSE(header.encode(frame, request_header_version(messages::ProduceRequest::api_key, version)));
  EXPECT_FALSE(request.encode(frame, version));
  writer(frame).patch_i32(0, static_cast<std::int32_t>(frame.size() - 4));
  ProduceResult out;
  if (!c.send_all(frame)) return out;
  const auto resp = c.receive();
  if (resp.empty()) {
    ADD_FAILURE() << "no Produce response (connection closed or timed out)";
    return out;
  }
  reader r(resp);
  EXPECT_EQ(r.i32(), correlation_id);
  EXPECT_EQ(response_header_version(messages::ProduceRequest::api_key, version), 1);
  r.skip_tagged_fields();
  EXPECT_TRUE(r.ok());
  messages::ProduceResponse response;
  const auto ec = response.decode(std::span(resp).subspan(resp.size() - r.remaining()), version);
  EXPECT_FALSE(ec) << ec.message();
  if (ec || response.responses.size() != 1 || response.responses[0].partition_responses.size() != 1) return out;
  EXPECT_EQ(response.responses[0].name, topic);
  const auto& p = response.responses[0].partition_responses[0];
  out.error = p.error_code;
  out.base_offset = p.base_offset;
  return out;
}

void ensure_topic(const std::string& bootstrap, const std::string& topic) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf(bootstrap, {}), err, sizeof err);
  ASSERT_NE(rk, nullptr) << err;
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), 1, 1, err, sizeof err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  ASSERT_NE(ev, nullptr);
  const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
  size_t n = 0;
  const rd_kafka_topic_result_t** trs = rd_kafka_CreateTopics_result_topics(res, &n);
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(rd_kafka_topic_result_error(trs[0]), RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_topic_result_error_string(trs[0]);
  rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_destroy(rk);
}

TEST(RecordInterop, LibrdkafkaConsumesBatchesWeEncode) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string bootstrap = rig.bootstrap("PLAINTEXT");
  const auto msgs = messages(300);
  for (const auto& [codec_name, codec] : kCodecs) {
    SCOPED_TRACE(codec_name);
    const std::string topic = unique_topic(std::string("rec-ours-") + codec_name);
    ensure_topic(bootstrap, topic);
    BlockingConnection conn(rig.node(1).listener("PLAINTEXT"));
    ASSERT_TRUE(conn.ok());
    // Two batches, so the consumer sees offsets continue across them.
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    record_batch_builder builder;
    for (std::size_t half = 0; half < 2; ++half) {
      builder.reset({.compression = codec});
      for (std::size_t i = half * 150; i < (half + 1) * 150; ++i) {
        std::vector<RecordHeader> hs;
        for (const auto& [k, v] : msgs[i].headers) {
          hs.push_back({k, v ? std::optional<byte_view>(byte_view(reinterpret_cast<const std::uint8_t*>(v->data()), v->size()))
                             : std::nullopt});
        }
        const auto view = [](const std::optional<std::string>& s) -> std::optional<byte_view> {
          if (!s) return std::nullopt;
          return byte_view(reinterpret_cast<const std::uint8_t*>(s->data()), s->size());
        };
        builder.append(now + static_cast<std::int64_t>(i), view(msgs[i].key), view(msgs[i].value), hs);
      }
      ASSERT_FALSE(builder.finish());
      ProduceResult pr;
      for (int attempt = 0; attempt < 50; ++attempt) {  // leadership may take a moment after creation
        pr = produce(conn, topic, builder.data());
        if (pr.error != 6 && pr.error != 3) break;  // NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      ASSERT_EQ(pr.error, 0);
      EXPECT_EQ(pr.base_offset, static_cast<std::int64_t>(half * 150));
    }

    char err[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER,
                                  conf(bootstrap, {{"group.id", topic}, {"check.crcs", "true"},
                                                   {"enable.auto.commit", "false"}}),
                                  err, sizeof err);
    ASSERT_NE(rk, nullptr) << err;
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    ASSERT_EQ(rd_kafka_assign(rk, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);
    std::size_t i = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (i < msgs.size() && std::chrono::steady_clock::now() < deadline) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 500);
      if (!m) continue;
      if (m->err) {
        ADD_FAILURE() << rd_kafka_message_errstr(m);
        rd_kafka_message_destroy(m);
        break;
      }
      EXPECT_EQ(m->offset, static_cast<std::int64_t>(i));
      const std::string key = m->key ? std::string(static_cast<const char*>(m->key), m->key_len) : "<null>";
      const std::string value = m->payload ? std::string(static_cast<const char*>(m->payload), m->len) : "<null>";
      EXPECT_EQ(key, msgs[i].key.value_or("<null>"));
      EXPECT_EQ(value, msgs[i].value.value_or("<null>"));
      rd_kafka_timestamp_type_t tstype;
      EXPECT_EQ(rd_kafka_message_timestamp(m, &tstype), now + static_cast<std::int64_t>(i));
      rd_kafka_headers_t* hs = nullptr;
      std::size_t hcount = 0;
      if (rd_kafka_message_headers(m, &hs) == RD_KAFKA_RESP_ERR_NO_ERROR) hcount = rd_kafka_header_cnt(hs);
      ASSERT_EQ(hcount, msgs[i].headers.size());
      for (std::size_t j = 0; j < hcount; ++j) {
        const char* name;
        const void* val;
        size_t size;
        ASSERT_EQ(rd_kafka_header_get_all(hs, j, &name, &val, &size), RD_KAFKA_RESP_ERR_NO_ERROR);
        EXPECT_EQ(std::string(name), msgs[i].headers[j].first);
        EXPECT_EQ(val ? std::string(static_cast<const char*>(val), size) : std::string("<null>"),
                  msgs[i].headers[j].second.value_or("<null>"));
      }
      rd_kafka_message_destroy(m);
      ++i;
    }
    EXPECT_EQ(i, msgs.size());
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
}

}  // namespace
}  // namespace asiokafka::test
