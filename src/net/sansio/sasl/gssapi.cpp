// GSSAPI (Kerberos V5) through Cyrus SASL's client API. Cyrus does the GSS-API work (and the
// RFC 4752 security-layer negotiation); this class only moves its tokens in and out. Kafka
// wraps each token in a SaslAuthenticate request like any other mechanism.
//
// Credentials come from the environment as usual for Kerberos: the ticket cache (KRB5CCNAME,
// after kinit) or a client keytab (KRB5_CLIENT_KTNAME).
#include <sasl/sasl.h>

#include <mutex>

#include "net/sansio/sasl/mechanism.hpp"

namespace asiokafka::sasl {
namespace {

// sasl_client_init is process-global and not thread-safe; run it once and never call
// sasl_client_done (other libraries in the process may share Cyrus).
int cyrus_init() {
  static std::once_flag once;
  static int result = SASL_FAIL;
  std::call_once(once, [] { result = sasl_client_init(nullptr); });
  return result;
}

class gssapi_mechanism final : public mechanism {
 public:
  gssapi_mechanism(std::string service, std::string host) : service_(std::move(service)), host_(std::move(host)) {}
  ~gssapi_mechanism() override {
    if (conn_ != nullptr) sasl_dispose(&conn_);
  }
  gssapi_mechanism(const gssapi_mechanism&) = delete;
  gssapi_mechanism& operator=(const gssapi_mechanism&) = delete;

  std::string_view name() const noexcept override { return "GSSAPI"; }

  next_step start() override {
    if (state_ != State::initial) return fail("start() called twice", sasl_errc::illegal_state);
    state_ = State::finished;
    if (service_.empty() || host_.empty()) {
      return next_step::fail(sasl_errc::invalid_config, "GSSAPI: the service name and the broker host must be set");
    }
    if (const int rc = cyrus_init(); rc != SASL_OK) {
      return fail(std::string("Cyrus SASL initialisation failed: ") + sasl_errstring(rc, nullptr, nullptr));
    }
    if (const int rc = sasl_client_new(service_.c_str(), host_.c_str(), nullptr, nullptr, nullptr, 0, &conn_);
        rc != SASL_OK) {
      conn_ = nullptr;
      return fail(std::string("sasl_client_new: ") + sasl_errstring(rc, nullptr, nullptr));
    }
    const char* out = nullptr;
    unsigned out_len = 0;
    const char* chosen = nullptr;
    sasl_interact_t* interact = nullptr;
    const int rc = sasl_client_start(conn_, "GSSAPI", &interact, &out, &out_len, &chosen);
    return after(rc, out, out_len);
  }

  next_step step(std::span<const std::uint8_t> challenge) override {
    if (state_ == State::final_sent) {
      // Cyrus finished before our last message; the broker's reply ends the exchange.
      state_ = State::finished;
      return next_step::done();
    }
    if (state_ != State::in_progress) return fail("no exchange in progress", sasl_errc::illegal_state);
    state_ = State::finished;
    if (challenge.size() > 0xffffffffu) return fail("server token too large");
    const char* out = nullptr;
    unsigned out_len = 0;
    sasl_interact_t* interact = nullptr;
    const int rc = sasl_client_step(conn_, reinterpret_cast<const char*>(challenge.data()),
                                    static_cast<unsigned>(challenge.size()), &interact, &out, &out_len);
    return after(rc, out, out_len);
  }

 private:
  enum class State { initial, in_progress, final_sent, finished };

  static next_step fail(std::string what, sasl_errc code = sasl_errc::gssapi_failed) {
    return next_step::fail(code, "GSSAPI: " + what);
  }

  next_step after(int rc, const char* out, unsigned out_len) {
    const bytes data(reinterpret_cast<const std::uint8_t*>(out), reinterpret_cast<const std::uint8_t*>(out) + (out ? out_len : 0));
    switch (rc) {
      case SASL_CONTINUE:
        state_ = State::in_progress;
        return next_step::send(data);
      case SASL_OK:
        if (data.empty()) {
          state_ = State::finished;
          return next_step::done();
        }
        state_ = State::final_sent;
        return next_step::send(data);
      case SASL_INTERACT:
        state_ = State::finished;
        return fail("Cyrus SASL asked for interaction (no Kerberos credentials available?)");
      default:
        state_ = State::finished;
        return fail(sasl_errdetail(conn_));
    }
  }

  std::string service_;
  std::string host_;
  sasl_conn_t* conn_ = nullptr;
  State state_ = State::initial;
};

}  // namespace

std::unique_ptr<mechanism> make_gssapi(std::string service, std::string host) {
  return std::make_unique<gssapi_mechanism>(std::move(service), std::move(host));
}

}  // namespace asiokafka::sasl
