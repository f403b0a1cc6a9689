#include "net/coordinator_service.hpp"

#include <algorithm>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "protocol/error_class.hpp"

namespace asiokafka::net {

namespace asio = boost::asio;
namespace msg = protocol::messages;

namespace {

std::string label_of(CoordinatorType type, const std::string& key) {
  const char* kind = type == CoordinatorType::group ? "group" : type == CoordinatorType::transaction ? "transaction" : "share";
  return std::string(kind) + " coordinator for '" + key + "'";
}

/// FindCoordinator, whose shape depends on the version (one key before v4, a list from v4;
/// key_type from v1), so it is built only once the connection's version is known.
class find_coordinator_call final : public request_base {
 public:
  find_coordinator_call(CoordinatorType type, std::string key)
      : request_base(msg::FindCoordinatorRequest::api_key, type == CoordinatorType::group ? 0 : 1,
                     msg::FindCoordinatorRequest::max_version, true),
        type_(type),
        keys_{std::move(key)} {}

  std::error_code encode(std::int16_t v, std::vector<std::uint8_t>& out) const override {
    return coordinator_cache::make_request(type_, keys_, v).encode(out, v);
  }
  std::error_code decode(frame body, std::int16_t v) override {
    storage_ = std::move(body);
    return response.decode(storage_.bytes(), v);
  }
  std::int16_t top_level_error() const noexcept override { return 0; }  // per key, see apply()
  std::int32_t throttle_time_ms() const noexcept override { return response.throttle_time_ms; }

  const std::vector<std::string>& keys() const noexcept { return keys_; }
  msg::FindCoordinatorResponse response;

 private:
  CoordinatorType type_;
  std::vector<std::string> keys_;
  frame storage_;
};

}  // namespace

coordinator_service::coordinator_service(asio::any_io_executor executor, const ClientConfig& config, sender send_any)
    : executor_(std::move(executor)),
      send_any_(std::move(send_any)),
      retry_backoff_(std::max(config.retry_backoff, std::chrono::milliseconds(1))),
      request_timeout_(config.request_timeout),
      tasks_(executor_) {}

void coordinator_service::shutdown() {
  if (closed_) return;
  closed_ = true;
  tasks_.cancel_all();
  for (auto& [k, l] : lookups_) l->done.notify_all();
}

asio::awaitable<void> coordinator_service::join(time_point deadline) { (void)co_await tasks_.join(deadline); }

asio::awaitable<outcome<BrokerMetadata>> coordinator_service::find(CoordinatorType type, std::string key,
                                                                   time_point deadline) {
  const std::string label = label_of(type, key);
  const auto closed = [&] { return failure(client_errc::client_closed, label + ": the client is closed"); };
  // A found coordinator can be forgotten again before this waiter resumes (a lost
  // connection): then it is looked up once more, within the same deadline.
  for (;;) {
    if (closed_) co_return closed();
    if (const BrokerMetadata* c = cache_.find(type, key)) co_return *c;
    if (clock::now() >= deadline) co_return failure(client_errc::timeout, label + ": not found in time");
    std::shared_ptr<lookup> shared;
    if (const auto it = lookups_.find({type, key}); it != lookups_.end()) {
      shared = it->second;  // a lookup for this key is running: share it
    } else {
      shared = std::make_shared<lookup>();
      lookups_.emplace(std::make_pair(type, key), shared);
      // May run inline up to its first wait (co_spawn dispatches), even to its end.
      tasks_.spawn(lookup_task(type, key, shared), owner_.lock());
    }
    if (shared->result) {  // the lookup ended inline
      if (*shared->result) co_return *shared->result;
      continue;  // found, and already forgotten again
    }
    const wait_status w = co_await shared->done.wait_until(deadline);
    if (closed_) co_return closed();
    if (const BrokerMetadata* c = cache_.find(type, key)) co_return *c;
    if (w == wait_status::cancelled) {
      co_return failure(std::make_error_code(std::errc::operation_canceled), label + ": lookup cancelled");
    }
    if (w == wait_status::timed_out) co_return failure(client_errc::timeout, label + ": not found in time");
    if (shared->result && *shared->result) co_return *shared->result;
  }
}

asio::awaitable<void> coordinator_service::lookup_task(CoordinatorType type, std::string key,
                                                       std::shared_ptr<lookup> l) {
  const std::string label = label_of(type, key);
  const time_point deadline = clock::now() + request_timeout_;
  failure result(client_errc::timeout, label + ": not found within the request timeout");
  while (!closed_) {
    find_coordinator_call call(type, key);
    const std::int32_t previous = cache_.find(type, key) ? cache_.find(type, key)->node_id : -1;
    failure f = co_await send_any_(call);
    if (closed_) break;
    if (!f) {
      const auto results = cache_.apply(type, call.keys(), call.response, call.version);
      if (!results.empty() && !results.front().ec && results.front().coordinator) {
        const BrokerMetadata& c = *results.front().coordinator;
        if (c.port > 0 && c.port <= 65535) addresses_[c.node_id] = {c.host, static_cast<std::uint16_t>(c.port)};
        changed(type, key, previous);
        result = failure{};
        break;
      }
      const std::error_code ec =
          results.empty() ? std::error_code(kafka_errc::coordinator_not_available) : results.front().ec;
      f = failure(ec, label + ": " + ec.message());
    }
    result = f;
    // FindCoordinator is safe to repeat: retry whatever may pass (not available yet, a broker
    // that went away, an answer that did not decode on a connection now closed).
    const protocol::error_class c = protocol::classify(f.code);
    const bool again = c.transport || c.corrupt_response || c.retriable || c.coordinator_moved || c.coordinator_loading;
    const auto next = clock::now() + retry_backoff_;
    if (!again || next >= deadline) break;
    if (!co_await sleep_until(next)) break;  // cancelled: closing
  }
  if (closed_) result = failure(client_errc::client_closed, label + ": the client is closed");
  const auto it = lookups_.find({type, key});
  if (it != lookups_.end() && it->second == l) lookups_.erase(it);
  l->result = std::move(result);
  l->done.notify_all();
}

coordinator_action coordinator_service::on_error(CoordinatorType type, const std::string& key, std::error_code ec) {
  const BrokerMetadata* c = cache_.find(type, key);
  const std::int32_t previous = c ? c->node_id : -1;
  const coordinator_action action = cache_.on_error(type, key, ec);
  changed(type, key, previous);
  return action;
}

void coordinator_service::invalidate(CoordinatorType type, const std::string& key) {
  const BrokerMetadata* c = cache_.find(type, key);
  const std::int32_t previous = c ? c->node_id : -1;
  cache_.invalidate(type, key);
  changed(type, key, previous);
}

void coordinator_service::invalidate_node(std::int32_t node) {
  for (const auto& [type, key] : cache_.invalidate_node(node)) {
    changes_.emit(coordinator_change{.type = type, .key = key, .previous_node = node, .node = -1});
  }
}

std::optional<BrokerAddress> coordinator_service::address_of(std::int32_t node) const {
  const auto it = addresses_.find(node);
  if (it == addresses_.end()) return std::nullopt;
  return it->second;
}

void coordinator_service::changed(CoordinatorType type, const std::string& key, std::int32_t previous) {
  const BrokerMetadata* c = cache_.find(type, key);
  const std::int32_t now = c ? c->node_id : -1;
  if (now != previous) changes_.emit(coordinator_change{.type = type, .key = key, .previous_node = previous, .node = now});
}

}  // namespace asiokafka::net
