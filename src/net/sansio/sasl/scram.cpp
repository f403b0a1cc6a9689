// SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802, RFC 7677) without channel binding ("n,,").
//
//   client-first  n,,n=<user>,r=<cnonce>
//   server-first  r=<cnonce+snonce>,s=<salt>,i=<iterations>[,ext...]
//   client-final  c=biws,r=<nonce>,p=<ClientProof>
//   server-final  v=<ServerSignature> | e=<error>
//
// The server signature is verified in constant time: a broker that does not know the
// credentials cannot complete the exchange.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <climits>
#include <optional>
#include <utility>

#include "net/sansio/sasl/base64.hpp"
#include "net/sansio/sasl/mechanism.hpp"

namespace asiokafka::sasl {
namespace {

// Kafka stores SCRAM credentials with 4096..16384 iterations. Fewer weakens the salted
// password (RFC 7677 §4 asks for at least 4096); more lets a hostile server burn client CPU.
constexpr long min_iterations = 4096;
constexpr long max_iterations = 16384;
constexpr std::size_t max_quoted = 128;  // bound on server text quoted in an error

using Digest = std::array<std::uint8_t, EVP_MAX_MD_SIZE>;

std::string escape_username(std::string_view user) {
  std::string out;
  for (const char c : user) {
    if (c == ',') out += "=2C";
    else if (c == '=') out += "=3D";
    else out += c;
  }
  return out;
}

bool printable_without_comma(std::string_view s) noexcept {
  for (const char c : s) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

std::string quote_server_text(std::string_view s) {
  std::string out;
  for (const char c : s.substr(0, max_quoted)) out += (c >= 0x20 && c <= 0x7e) ? c : '?';
  if (s.size() > max_quoted) out += "...";
  return out;
}

struct Attribute {
  char name;
  std::string_view value;
};

// Splits "a=x,b=y" into attributes; nullopt when an attribute is not ALPHA "=" value.
std::optional<std::vector<Attribute>> parse_attributes(std::string_view msg) {
  std::vector<Attribute> out;
  while (true) {
    const auto comma = msg.find(',');
    const auto item = msg.substr(0, comma);
    if (item.size() < 2 || item[1] != '=') return std::nullopt;
    const char n = item[0];
    if (!((n >= 'a' && n <= 'z') || (n >= 'A' && n <= 'Z'))) return std::nullopt;
    out.push_back({n, item.substr(2)});
    if (comma == std::string_view::npos) break;
    msg.remove_prefix(comma + 1);
  }
  return out;
}

class scram_mechanism final : public mechanism {
 public:
  scram_mechanism(scram_hash hash, std::string username, std::string password, nonce_source nonce)
      : md_(hash == scram_hash::sha256 ? EVP_sha256() : EVP_sha512()),
        name_(hash == scram_hash::sha256 ? "SCRAM-SHA-256" : "SCRAM-SHA-512"),
        username_(std::move(username)), password_(std::move(password)), nonce_source_(std::move(nonce)) {}

  ~scram_mechanism() override {
    OPENSSL_cleanse(password_.data(), password_.size());
    OPENSSL_cleanse(server_signature_.data(), server_signature_.size());
  }

  std::string_view name() const noexcept override { return name_; }

  next_step start() override {
    if (state_ != State::initial) return fail(sasl_errc::illegal_state, "start() called twice");
    state_ = State::finished;  // until the client-first message is built
    if (username_.empty()) return fail(sasl_errc::invalid_config, "the user name is empty");
    if (username_.find('\0') != std::string::npos || password_.find('\0') != std::string::npos) {
      return fail(sasl_errc::invalid_config, "the user name or password contains a NUL character");
    }
    if (password_.size() > INT_MAX) return fail(sasl_errc::invalid_config, "the password is too long");
    client_nonce_ = nonce_source_ ? nonce_source_() : std::string();
    if (client_nonce_.empty()) return fail(sasl_errc::random_failed, "could not generate a client nonce");
    if (!printable_without_comma(client_nonce_)) {
      return fail(sasl_errc::invalid_config, "the client nonce must be printable ASCII without ','");
    }
    client_first_bare_ = "n=" + escape_username(username_) + ",r=" + client_nonce_;
    state_ = State::client_first_sent;
    return send("n,," + client_first_bare_);
  }

  next_step step(std::span<const std::uint8_t> challenge) override {
    const std::string_view msg(reinterpret_cast<const char*>(challenge.data()), challenge.size());
    switch (state_) {
      case State::client_first_sent: state_ = State::finished; return on_server_first(msg);
      case State::client_final_sent: state_ = State::finished; return on_server_final(msg);
      default: return fail(sasl_errc::illegal_state, "no exchange in progress");
    }
  }

 private:
  enum class State { initial, client_first_sent, client_final_sent, finished };

  next_step fail(sasl_errc e, std::string_view what) const {
    return next_step::fail(e, std::string(name_) + ": " + std::string(what));
  }
  static next_step send(const std::string& s) { return next_step::send(bytes(s.begin(), s.end())); }

  next_step on_server_first(std::string_view msg) {
    const auto attrs = parse_attributes(msg);
    if (!attrs) return fail(sasl_errc::malformed_server_message, "malformed server-first-message");
    const auto& a = *attrs;
    if (a[0].name == 'm') {
      return fail(sasl_errc::unsupported_extension, "the server requires an unsupported extension (m=)");
    }
    if (a[0].name == 'e') {
      return fail(sasl_errc::authentication_failed, "server error: " + quote_server_text(a[0].value));
    }
    if (a.size() < 3 || a[0].name != 'r' || a[1].name != 's' || a[2].name != 'i') {
      return fail(sasl_errc::malformed_server_message, "server-first-message lacks r=, s= and i=");
    }
    const std::string_view nonce = a[0].value;
    if (!printable_without_comma(nonce)) return fail(sasl_errc::malformed_server_message, "invalid server nonce");
    if (nonce.size() <= client_nonce_.size() || nonce.substr(0, client_nonce_.size()) != client_nonce_) {
      return fail(sasl_errc::invalid_server_nonce, "the server nonce does not extend the client nonce");
    }
    const auto salt = base64_decode(a[1].value);
    if (!salt || salt->empty()) return fail(sasl_errc::malformed_server_message, "invalid salt");
    const auto iv = a[2].value;
    if (iv.empty() || iv.size() > 9 || iv.find_first_not_of("0123456789") != std::string_view::npos) {
      return fail(sasl_errc::malformed_server_message, "invalid iteration count");
    }
    long iterations = 0;
    for (const char c : iv) iterations = iterations * 10 + (c - '0');
    if (iterations < min_iterations || iterations > max_iterations) {
      return fail(sasl_errc::iteration_count_out_of_range,
                  "iteration count " + std::to_string(iterations) + " is outside 4096..16384");
    }

    const auto len = static_cast<unsigned>(EVP_MD_get_size(md_));
    Digest salted{}, client_key{}, stored_key{}, client_signature{}, server_key{};
    if (PKCS5_PBKDF2_HMAC(password_.data(), static_cast<int>(password_.size()), salt->data(),
                          static_cast<int>(salt->size()), static_cast<int>(iterations), md_,
                          static_cast<int>(len), salted.data()) != 1) {
      return fail(sasl_errc::crypto_failed, "PBKDF2 failed");
    }
    const std::string client_final_wo_proof = "c=biws,r=" + std::string(nonce);
    const std::string auth_message = client_first_bare_ + "," + std::string(msg) + "," + client_final_wo_proof;
    const bool ok = hmac(salted, len, "Client Key", client_key) &&
                    EVP_Digest(client_key.data(), len, stored_key.data(), nullptr, md_, nullptr) == 1 &&
                    hmac(stored_key, len, auth_message, client_signature) &&
                    hmac(salted, len, "Server Key", server_key) &&
                    hmac(server_key, len, auth_message, server_signature_);
    std::vector<std::uint8_t> proof(len);
    for (unsigned k = 0; k < len; ++k) proof[k] = static_cast<std::uint8_t>(client_key[k] ^ client_signature[k]);
    for (auto* d : {&salted, &client_key, &stored_key, &client_signature, &server_key}) {
      OPENSSL_cleanse(d->data(), d->size());
    }
    if (!ok) return fail(sasl_errc::crypto_failed, "HMAC failed");
    signature_size_ = len;
    state_ = State::client_final_sent;
    return send(client_final_wo_proof + ",p=" + base64_encode(proof));
  }

  next_step on_server_final(std::string_view msg) {
    const auto attrs = parse_attributes(msg);
    if (!attrs) return fail(sasl_errc::malformed_server_message, "malformed server-final-message");
    const auto& first = attrs->front();
    if (first.name == 'e') {
      return fail(sasl_errc::authentication_failed, "server error: " + quote_server_text(first.value));
    }
    if (first.name != 'v') return fail(sasl_errc::malformed_server_message, "server-final-message lacks v=");
    const auto sig = base64_decode(first.value);
    if (!sig) return fail(sasl_errc::malformed_server_message, "invalid server signature encoding");
    if (sig->size() != signature_size_ || CRYPTO_memcmp(sig->data(), server_signature_.data(), signature_size_) != 0) {
      return fail(sasl_errc::server_signature_mismatch, "the server signature does not match");
    }
    return next_step::done();
  }

  bool hmac(const Digest& key, unsigned key_len, std::string_view data, Digest& out) const {
    unsigned out_len = 0;
    return HMAC(md_, key.data(), static_cast<int>(key_len), reinterpret_cast<const unsigned char*>(data.data()),
                data.size(), out.data(), &out_len) != nullptr;
  }

  const EVP_MD* md_;
  std::string_view name_;
  std::string username_;
  std::string password_;
  nonce_source nonce_source_;
  State state_ = State::initial;
  std::string client_nonce_;
  std::string client_first_bare_;
  Digest server_signature_{};
  std::size_t signature_size_ = 0;
};

}  // namespace

std::string random_nonce() {
  std::array<std::uint8_t, 24> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) return {};
  return base64_encode(raw);  // base64 has no ',' and is printable
}

std::unique_ptr<mechanism> make_scram(scram_hash hash, std::string username, std::string password, nonce_source nonce) {
  return std::make_unique<scram_mechanism>(hash, std::move(username), std::move(password), std::move(nonce));
}

}  // namespace asiokafka::sasl
