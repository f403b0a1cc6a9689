// aiokafka's JSON serializer example: values are structs turned into JSON by a serializer,
// with gzip compression; keys are strings.
//
//   producer_json [bootstrap] [topic]
#include <cstdio>
#include <string>
#include <vector>

#include <boost/asio/this_coro.hpp>

#include "asiokafka/typed_producer.hpp"
#include "common.hpp"

namespace asio = boost::asio;

struct Reading {
  Reading(std::string s, double c) : sensor(std::move(s)), celsius(c) {}
  std::string sensor;
  double celsius;
};

// A tiny hand-written JSON encoder: enough for this struct (a real service would use its
// JSON library here). Appends to `out`, which the producer reuses.
struct ReadingJson {
  void operator()(const Reading& r, std::string& out) const {
    out += "{\"sensor\":\"";
    for (const char c : r.sensor) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    char number[32];
    std::snprintf(number, sizeof number, "%.2f", r.celsius);
    out += "\",\"celsius\":";
    out += number;
    out += '}';
  }
};

asio::awaitable<void> run(std::string bootstrap, std::string topic) {
  co_await examples::ensure_topic(bootstrap, topic, 1);
  const auto executor = co_await asio::this_coro::executor;
  asiokafka::ProducerConfig config{.bootstrap_servers = bootstrap};
  config.compression_type = asiokafka::protocol::CompressionType::gzip;
  asiokafka::TypedProducer<std::string, Reading, asiokafka::BytesSerializer, ReadingJson> producer(executor, config);
  co_await producer.start();
  std::vector<asiokafka::DeliveryHandle> handles;
  for (int i = 0; i < 10; ++i) {
    handles.push_back(co_await producer.send(topic, std::string("sensor-") + std::to_string(i % 3),
                                             Reading("sensor-" + std::to_string(i % 3), 20.5 + i)));
  }
  for (auto& h : handles) (void)co_await h.async_wait();
  std::printf("10 JSON readings sent (gzip)\n");
  co_await producer.stop();
}

int main(int argc, char** argv) {
  return examples::run(run(argc > 1 ? argv[1] : "127.0.0.1:9092", argc > 2 ? argv[2] : "example-json"),
                       "producer_json");
}
