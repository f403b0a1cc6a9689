// asiokafka::Admin (admin.hpp): construction, start and close, and the machinery its
// operation families share (admin_impl.hpp).
#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "admin/admin_impl.hpp"
#include "asiokafka/admin.hpp"
#include "asiokafka/error.hpp"
#include "protocol/error_class.hpp"

namespace asiokafka {

namespace asio = boost::asio;

ClientConfig client_config_of(const AdminConfig& c) { return detail::shared_client_config(c); }

void validate(const AdminConfig& c) {
  detail::validate_shared_as(client_config_of(c), "AdminConfig");
  if (c.default_api_timeout <= std::chrono::milliseconds::zero()) {
    throw error(client_errc::invalid_config, "AdminConfig.default_api_timeout must be positive (got " +
                                                 std::to_string(c.default_api_timeout.count()) + " ms)");
  }
}

void AdminItemResult::throw_if_error() const {
  if (error) throw asiokafka::error(error, error_message);
}

namespace detail {

std::shared_ptr<admin_state> make_admin(asio::any_io_executor executor, AdminConfig config) {
  validate(config);
  auto state = std::make_shared<admin_state>();
  state->cluster = net::cluster::create(std::move(executor), client_config_of(config));
  state->config = std::move(config);
  return state;
}

void admin_destroyed(admin_state& state) noexcept {
  if (state.cluster) state.cluster->shutdown_now();
}

asio::awaitable<op_error> admin_start(std::shared_ptr<admin_state> s) {
  if (!s) co_return op_error{client_errc::client_closed, "start: a moved-from Admin"};
  net::failure f = co_await s->cluster->start();
  co_return admin::to_op_error(std::move(f));
}

asio::awaitable<op_error> admin_close(std::shared_ptr<admin_state> s) {
  if (s) co_await s->cluster->close();
  co_return op_error{};
}

}  // namespace detail

Admin::Admin(executor_type executor, AdminConfig config)
    : executor_(executor), state_(detail::make_admin(std::move(executor), std::move(config))) {}

Admin::~Admin() {
  if (state_) detail::admin_destroyed(*state_);
}

Admin& Admin::operator=(Admin&& other) noexcept {
  if (this != &other) {
    if (state_) detail::admin_destroyed(*state_);
    executor_ = std::move(other.executor_);
    state_ = std::move(other.state_);
  }
  return *this;
}

namespace admin {

std::chrono::milliseconds op_context::remaining() const {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
  return std::max(left, std::chrono::milliseconds(1));
}

std::chrono::milliseconds op_context::request_bound() const { return std::min(remaining(), config->request_timeout); }

net::failure op_context::timeout_failure() const {
  std::string m = name + ": no result within the timeout";
  if (!last_failure.empty()) m += " (last: " + last_failure + ")";
  return net::failure(client_errc::timeout, std::move(m));
}

net::outcome<op_context> begin(const std::shared_ptr<detail::admin_state>& state, std::chrono::milliseconds timeout,
                               std::string name) {
  if (!state) return net::failure(client_errc::client_closed, name + ": a moved-from Admin");
  if (state->cluster->closed()) return net::failure(client_errc::client_closed, name + ": the Admin is closed");
  if (!state->cluster->started()) {
    return net::failure(client_errc::client_closed, name + ": the Admin is not started (call start() first)");
  }
  op_context ctx;
  ctx.cluster = state->cluster;
  ctx.config = &state->config;
  ctx.deadline = clock::now() + (timeout > std::chrono::milliseconds::zero() ? timeout
                                                                            : state->config.default_api_timeout);
  ctx.name = std::move(name);
  return ctx;
}

detail::op_error to_op_error(net::failure f) { return {f.code, std::move(f.message)}; }

net::failure op_context::stop_failure() const {
  if (cancelled) return net::failure(std::make_error_code(std::errc::operation_canceled), name + ": cancelled");
  return timeout_failure();
}

asio::awaitable<bool> backoff(op_context& ctx) {
  const auto next = clock::now() + ctx.config->retry_backoff;
  if (next >= ctx.deadline) co_return false;
  const bool slept = co_await net::sleep_until(next);  // named: see docs/design.md, "GCC 12"
  ctx.cancelled = !slept;
  co_return slept;
}

bool ends_operation(const net::failure& f) {
  return f.code == client_errc::client_closed || f.code == std::errc::operation_canceled;
}

bool retriable_failure(const net::failure& f, repeat r) {
  if (!f) return false;
  if (f.code == client_errc::client_closed) return false;
  const bool may_resend = !f.maybe_sent() || r == repeat::safe;
  if (protocol::classify(f.code).transport) return may_resend;
  // An answer refusing the whole request (NOT_CONTROLLER, COORDINATOR_LOAD_IN_PROGRESS, ...):
  // the broker did not act on it.
  return f.code.category() == kafka_category() && is_retriable(f.code);
}

std::string describe_kafka_error(std::error_code ec, const std::optional<std::string>& broker_message) {
  std::string m(ec.category() == kafka_category() ? error_name(static_cast<kafka_errc>(ec.value()))
                                                  : std::string_view(ec.message()));
  if (broker_message && !broker_message->empty()) {
    m += ": ";
    m += *broker_message;
  }
  return m;
}

void set_item_error(AdminItemResult& item, std::int16_t code, const std::optional<std::string>& broker_message,
                    const std::string& what) {
  if (code == 0) return;
  const std::error_code ec = make_kafka_error(code);
  set_item_error(item, ec, describe_kafka_error(ec, broker_message), what);
}

void set_item_error(AdminItemResult& item, std::error_code ec, std::string message, const std::string& what) {
  item.error = ec;
  item.error_message = what + ": " + std::move(message);
}

}  // namespace admin
}  // namespace asiokafka
