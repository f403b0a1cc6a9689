// Asio conventions of every asynchronous asiokafka operation: a completion token (default:
// `co_await` in an asio::awaitable coroutine, failures thrown as asiokafka::error with a
// message), the error_code signature `void(error_code, T)` underneath for every other token
// (as_tuple, redirect_error, callbacks, use_future, deferred), arguments captured by value at
// initiation, and cancellation through the handler's cancellation slot (operation_aborted).
// See docs/client.md, "Completion tokens".
#pragma once

#include <exception>
#include <new>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "asiokafka/error.hpp"

namespace asiokafka {

/// The error type of completion signatures, as in Asio. It holds asiokafka's codes
/// (client_errc, kafka_errc, sasl_errc compare equal to it) and Asio's
/// (boost::asio::error::operation_aborted when an operation is cancelled).
using error_code = boost::system::error_code;

/// A completion token adapter: like `Token`, but an operation that fails completes with an
/// exception_ptr to asiokafka::error carrying the code and the message naming what failed
/// (the broker, the API, ...). with_diagnostics(asio::use_awaitable) is the default token.
template <class Token>
struct with_diagnostics_t {
  Token token;
};

template <class Token>
constexpr with_diagnostics_t<std::decay_t<Token>> with_diagnostics(Token&& token) {
  return {std::forward<Token>(token)};
}

/// `co_await op(...)` returns the value, or throws asiokafka::error.
using default_token_t = with_diagnostics_t<boost::asio::use_awaitable_t<>>;
inline constexpr default_token_t default_token{};

namespace detail {

/// How an operation of the library ended, before it reaches the user's handler.
struct op_error {
  std::error_code code;
  std::string message;
};

/// The code a handler receives: cancellation is Asio's operation_aborted, other codes keep
/// their category.
inline error_code to_public(const std::error_code& ec) noexcept {
  // Success first: converting a std::error_code to Boost's looks its category up with a
  // dynamic_cast, which is a measurable part of completing one record's wait.
  if (!ec) return {};
  if (ec == std::errc::operation_canceled) return boost::asio::error::operation_aborted;
  return ec;
}

/// The handler with_diagnostics hands to an operation: takes the failure's message, then
/// turns (error_code, values...) into (exception_ptr, values...).
template <class Handler>
class diagnosing_handler {
 public:
  explicit diagnosing_handler(Handler h) : handler_(std::move(h)) {}
  void set_message(std::string m) { message_ = std::move(m); }
  template <class... Ts>
  void operator()(const error_code& ec, Ts&&... values) {
    std::exception_ptr e;
    if (ec) e = std::make_exception_ptr(asiokafka::error(std::error_code(ec), message_));
    std::move(handler_)(e, std::forward<Ts>(values)...);
  }
  const Handler& inner() const noexcept { return handler_; }

 private:
  Handler handler_;
  std::string message_;
};

/// Completes `handler`; a diagnosing handler also gets the message.
template <class Handler, class... Ts>
void complete(Handler& handler, const std::error_code& ec, std::string message, Ts&&... values) {
  if constexpr (requires { handler.set_message(std::move(message)); }) {
    if (ec) handler.set_message(std::move(message));
  }
  std::move(handler)(to_public(ec), std::forward<Ts>(values)...);
}

/// What an exception escaping one of the library's coroutines becomes (it should not happen:
/// net reports failures as values; an allocation failure can).
inline op_error from_exception(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::bad_alloc&) {
    return {std::make_error_code(std::errc::not_enough_memory), "out of memory"};
  } catch (const std::system_error& x) {
    return {x.code(), x.what()};
  } catch (const std::exception& x) {
    return {std::make_error_code(std::errc::state_not_recoverable), std::string("internal error: ") + x.what()};
  } catch (...) {
  }
  return {std::make_error_code(std::errc::state_not_recoverable), "internal error"};
}

/// Runs the library's coroutine `op` on `ex` (the client's executor) and completes `handler`
/// on the handler's associated executor (default: `ex`); the handler's cancellation slot
/// cancels `op`. On success the handler gets `value()` (nothing when it returns void).
template <class Handler, class MakeValue>
void launch(const boost::asio::any_io_executor& ex, boost::asio::awaitable<op_error> op, Handler&& handler,
            MakeValue value) {
  using handler_type = std::decay_t<Handler>;
  using value_type = std::invoke_result_t<MakeValue&>;
  auto slot = boost::asio::get_associated_cancellation_slot(handler);
  auto handler_ex = boost::asio::get_associated_executor(handler, ex);
  auto done = [h = handler_type(std::forward<Handler>(handler)), make = std::move(value)](std::exception_ptr e,
                                                                                         op_error r) mutable {
    if (e) r = from_exception(e);
    if constexpr (std::is_void_v<value_type>) {
      (void)make;  // nothing to make for a void result
      complete(h, r.code, std::move(r.message));
    } else if (r.code) {
      complete(h, r.code, std::move(r.message), value_type{});
    } else {
      complete(h, r.code, std::string(), make());
    }
  };
  boost::asio::co_spawn(ex, std::move(op),
                        boost::asio::bind_cancellation_slot(slot, boost::asio::bind_executor(handler_ex, std::move(done))));
}

}  // namespace detail
}  // namespace asiokafka

namespace boost::asio {

template <class Token, class... Ts>
struct async_result<asiokafka::with_diagnostics_t<Token>, void(asiokafka::error_code, Ts...)>
    : async_result<Token, void(std::exception_ptr, Ts...)> {
  using base = async_result<Token, void(std::exception_ptr, Ts...)>;

  template <class Initiation>
  struct init_wrapper {
    Initiation initiation;
    template <class Handler, class... Args>
    void operator()(Handler&& handler, Args&&... args) {
      std::move(initiation)(asiokafka::detail::diagnosing_handler<std::decay_t<Handler>>(std::forward<Handler>(handler)),
                            std::forward<Args>(args)...);
    }
  };

  template <class Initiation, class RawToken, class... Args>
  static auto initiate(Initiation&& initiation, RawToken&& token, Args&&... args) {
    return base::initiate(init_wrapper<std::decay_t<Initiation>>{std::forward<Initiation>(initiation)},
                          std::forward<RawToken>(token).token, std::forward<Args>(args)...);
  }
};

template <template <typename, typename> class Associator, typename Handler, typename DefaultCandidate>
struct associator<Associator, asiokafka::detail::diagnosing_handler<Handler>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
  static typename Associator<Handler, DefaultCandidate>::type get(
      const asiokafka::detail::diagnosing_handler<Handler>& h) noexcept {
    return Associator<Handler, DefaultCandidate>::get(h.inner());
  }
  static auto get(const asiokafka::detail::diagnosing_handler<Handler>& h, const DefaultCandidate& c) noexcept
      -> decltype(Associator<Handler, DefaultCandidate>::get(h.inner(), c)) {
    return Associator<Handler, DefaultCandidate>::get(h.inner(), c);
  }
};

}  // namespace boost::asio
