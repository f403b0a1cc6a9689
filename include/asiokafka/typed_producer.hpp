// asiokafka::TypedProducer: a Producer whose keys and values are typed, turned into bytes by
// serializers (serializer.hpp), as aiokafka's key_serializer / value_serializer options.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "asiokafka/producer.hpp"
#include "asiokafka/serializer.hpp"

namespace asiokafka {

/// A Producer for keys of type Key and values of type Value. The serializers run inside
/// send() on the calling thread, into per-thread buffers that are reused, and send() copies
/// the bytes before it returns: the fast path still allocates nothing per record. Lifecycle
/// calls (start, stop, flush, ...) are the Producer's, through producer().
template <class Key, class Value, Serializer<Key> KeySerializer = BytesSerializer,
          Serializer<Value> ValueSerializer = BytesSerializer>
class TypedProducer {
 public:
  using executor_type = Producer::executor_type;

  TypedProducer(executor_type executor, ProducerConfig config, KeySerializer key_serializer = {},
                ValueSerializer value_serializer = {})
      : producer_(std::move(executor), std::move(config)),
        key_serializer_(std::move(key_serializer)),
        value_serializer_(std::move(value_serializer)) {}

  Producer& producer() noexcept { return producer_; }
  const executor_type& get_executor() const noexcept { return producer_.get_executor(); }

  template <class Token = default_token_t>
  auto start(Token&& token = {}) {
    return producer_.start(std::forward<Token>(token));
  }
  template <class Token = default_token_t>
  auto stop(Token&& token = {}) {
    return producer_.stop(std::forward<Token>(token));
  }
  template <class Token = default_token_t>
  auto flush(Token&& token = {}) {
    return producer_.flush(std::forward<Token>(token));
  }

  /// Producer::send with a serialized value and no key (or `options.key` as bytes).
  template <class Token = default_token_t>
  auto send(std::string_view topic, const Value& value, const SendOptions& options = {}, Token&& token = {}) {
    return producer_.send(topic, BytesView(serialize_value(value)), options, std::forward<Token>(token));
  }
  /// Producer::send with a serialized key and value (`options.key` is ignored).
  template <class Token = default_token_t>
  auto send(std::string_view topic, const Key& key, const Value& value, SendOptions options = {},
            Token&& token = {}) {
    options.key = BytesView(serialize_key(key));
    return producer_.send(topic, BytesView(serialize_value(value)), options, std::forward<Token>(token));
  }
  /// Producer::send_and_wait, typed as send().
  template <class Token = default_token_t>
  auto send_and_wait(std::string_view topic, const Key& key, const Value& value, SendOptions options = {},
                     Token&& token = {}) {
    options.key = BytesView(serialize_key(key));
    return producer_.send_and_wait(topic, BytesView(serialize_value(value)), options, std::forward<Token>(token));
  }

 private:
  const std::string& serialize_key(const Key& key) {
    thread_local std::string buffer;
    buffer.clear();
    key_serializer_(key, buffer);
    return buffer;
  }
  const std::string& serialize_value(const Value& value) {
    thread_local std::string buffer;
    buffer.clear();
    value_serializer_(value, buffer);
    return buffer;
  }

  Producer producer_;
  KeySerializer key_serializer_;
  ValueSerializer value_serializer_;
};

}  // namespace asiokafka
