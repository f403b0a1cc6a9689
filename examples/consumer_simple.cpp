// aiokafka's "simple consumer" with a value deserializer: writes ten temperature readings
// ("sensor,celsius"), then reads them back with asiokafka::Consumer and decodes each value
// with a deserializer into a struct.
//
//   consumer_simple [bootstrap] [topic]
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/this_coro.hpp>

#include "asiokafka/consumer.hpp"
#include "asiokafka/deserializer.hpp"
#include "asiokafka/producer.hpp"
#include "common.hpp"

namespace asio = boost::asio;

struct Reading {
  std::string sensor;
  double celsius = 0;
};

// "sensor,celsius" -> Reading; throws on anything else.
struct ReadingDeserializer {
  Reading operator()(asiokafka::BytesView bytes) const {
    const std::string_view s = bytes.as_string();
    const auto comma = s.find(',');
    if (comma == std::string_view::npos) throw std::invalid_argument("not a reading: " + std::string(s));
    return Reading{std::string(s.substr(0, comma)), std::stod(std::string(s.substr(comma + 1)))};
  }
};

asio::awaitable<void> run(std::string bootstrap, std::string topic) {
  co_await examples::ensure_topic(bootstrap, topic, 1);
  const auto executor = co_await asio::this_coro::executor;
  {
    asiokafka::Producer producer(executor, {.bootstrap_servers = bootstrap});
    co_await producer.start();
    for (int i = 0; i < 10; ++i) {
      const std::string value = "sensor-" + std::to_string(i % 3) + "," + std::to_string(20 + i) + ".5";
      (void)co_await producer.send(topic, value);
    }
    co_await producer.stop();  // sends what is buffered
  }
  asiokafka::Consumer consumer(executor, {.bootstrap_servers = bootstrap,
                                          .auto_offset_reset = asiokafka::AutoOffsetReset::earliest});
  consumer.assign(std::vector<asiokafka::TopicPartition>{asiokafka::TopicPartition(topic, 0)});
  co_await consumer.start();
  // The async loop: one record at a time, here until the tenth.
  int count = 0;
  while (count < 10) {
    std::optional<asiokafka::ConsumerRecord> record = co_await consumer.next();
    if (!record) break;  // stopped
    const Reading reading = *asiokafka::value_as(*record, ReadingDeserializer{});
    std::printf("offset %lld: %s at %.1f C\n", static_cast<long long>(record->offset), reading.sensor.c_str(),
                reading.celsius);
    ++count;
  }
  std::printf("consumed %d readings\n", count);
  co_await consumer.stop();
}

int main(int argc, char** argv) {
  return examples::run(run(argc > 1 ? argv[1] : "127.0.0.1:9092", argc > 2 ? argv[2] : "example-consumer-simple"),
                       "consumer_simple");
}
