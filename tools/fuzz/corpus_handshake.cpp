// Seeds of the handshake target (fuzz/corpus/handshake); the layout is described in
// fuzz/handshake.cpp: a setup byte (bits 0-1 mechanism PLAIN, SCRAM-SHA-256, SCRAM-SHA-512,
// OAUTHBEARER; bit 2 feed the mechanism directly; bit 3 run ApiVersions first; bits 4-5 and 6-7
// the SaslHandshake and SaslAuthenticate versions listed otherwise), then chunks of a 2-byte
// length and a response body (or a bare server message).
// Complete exchanges for every mechanism, framed in each SaslAuthenticate version and
// unframed, after a generated or a real broker's ApiVersions response and after the KIP-511
// fallback; SCRAM server messages carry a correct signature for the target's fixed nonce and
// password (computed here with OpenSSL). Plus the ways each step fails.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <optional>
#include <vector>

#include "asiokafka/protocol/messages.hpp"
#include "corpus.hpp"

namespace asiokafka::corpus {
namespace {

namespace msg = protocol::messages;

enum mech : std::uint8_t { plain = 0, scram256 = 1, scram512 = 2, oauth = 3 };
constexpr std::uint8_t direct = 4, api_versions_first = 8;
constexpr const char* seed_names[] = {"plain", "scram256", "scram512", "oauth"};

std::uint8_t listed(unsigned handshake_max, unsigned authenticate_max) {
  return static_cast<std::uint8_t>(handshake_max << 4 | authenticate_max << 6);
}

// What fuzz/handshake.cpp configures: user names, password and the fixed client nonce.
constexpr std::string_view password = "fuzz-secret-pw";
constexpr std::string_view client_nonce = "fyko+d2lbbFgONRv9qkxdawL";
constexpr std::string_view server_nonce_tail = "3rfcNHYJY1ZVvWVs7j";
constexpr std::string_view salt = "fuzz-salt-0123";

std::string base64(std::span<const std::uint8_t> in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), in.data(), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

struct scram_messages {
  std::string server_first, server_final;
};

// RFC 5802 server side for the client's first message "n,,n=<user>,r=<client nonce>".
scram_messages scram(mech m) {
  const EVP_MD* md = m == scram256 ? EVP_sha256() : EVP_sha512();
  const std::string user = m == scram256 ? "fuzz=2Cuser=3D" : "fuzz-user";  // "fuzz,user=" escaped
  const std::string nonce = std::string(client_nonce) + std::string(server_nonce_tail);
  scram_messages out;
  out.server_first = "r=" + nonce + ",s=" + base64(as_bytes(salt)) + ",i=4096";
  const std::string auth_message = "n=" + user + ",r=" + std::string(client_nonce) + "," + out.server_first +
                                   ",c=biws,r=" + nonce;
  const int len = EVP_MD_get_size(md);
  std::vector<unsigned char> salted(static_cast<std::size_t>(len)), server_key(salted.size()), signature(salted.size());
  unsigned n = 0;
  const bool ok =
      PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), as_bytes(salt).data(),
                        static_cast<int>(salt.size()), 4096, md, len, salted.data()) == 1 &&
      HMAC(md, salted.data(), len, reinterpret_cast<const unsigned char*>("Server Key"), 10, server_key.data(), &n) &&
      HMAC(md, server_key.data(), len, reinterpret_cast<const unsigned char*>(auth_message.data()),
           auth_message.size(), signature.data(), &n);
  require(ok, "SCRAM server signature");
  out.server_final = "v=" + base64(signature);
  return out;
}

// The server messages of a successful exchange.
std::vector<std::string> success(mech m) {
  if (m == scram256 || m == scram512) {
    const auto s = scram(m);
    return {s.server_first, s.server_final};
  }
  return {""};
}

bytes api_versions(std::int16_t version, std::int16_t error, std::vector<msg::ApiVersionsResponse::ApiVersion> apis) {
  msg::ApiVersionsResponse r;
  r.error_code = error;
  r.api_keys = std::move(apis);
  bytes out;
  require(!r.encode(out, version), "ApiVersionsResponse");
  return out;
}

std::vector<msg::ApiVersionsResponse::ApiVersion> every_api() {
  std::vector<msg::ApiVersionsResponse::ApiVersion> out;
  for (const auto& a : protocol::supported_apis) out.push_back({a.api_key, a.min_version, a.max_version, {}});
  return out;
}

bytes handshake(std::int16_t error, std::vector<std::string> mechanisms) {
  msg::SaslHandshakeResponse r;
  r.error_code = error;
  r.mechanisms = std::move(mechanisms);
  bytes out;
  require(!r.encode(out, 1), "SaslHandshakeResponse");
  return out;
}

bytes authenticate(std::int16_t version, std::string_view auth, std::int16_t error = 0,
                   std::optional<std::string> message = std::nullopt, std::int64_t lifetime_ms = 0) {
  msg::SaslAuthenticateResponse r;
  r.error_code = error;
  r.error_message = std::move(message);
  r.auth_bytes.assign(auth.begin(), auth.end());
  if (version >= 1) r.session_lifetime_ms = lifetime_ms;
  bytes out;
  require(!r.encode(out, version), "SaslAuthenticateResponse");
  return out;
}

class exchange {
 public:
  explicit exchange(std::uint8_t setup) : in_{setup} {}
  exchange& chunk(std::span<const std::uint8_t> body) {
    require(body.size() < 65536, "chunk too long");
    in_.push_back(static_cast<std::uint8_t>(body.size() >> 8));
    in_.push_back(static_cast<std::uint8_t>(body.size()));
    append(in_, body);
    return *this;
  }
  exchange& chunk(std::string_view s) { return chunk(as_bytes(s)); }
  /// The SaslHandshake answer offering every mechanism, then `auth` framed in `version`.
  exchange& framed(std::int16_t version, const std::vector<std::string>& auth, std::int64_t lifetime_ms = 0) {
    chunk(handshake(0, {"GSSAPI", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"}));
    for (std::size_t i = 0; i < auth.size(); ++i) {
      chunk(authenticate(version, auth[i], 0, std::nullopt, i + 1 == auth.size() ? lifetime_ms : 0));
    }
    return *this;
  }
  const bytes& data() const { return in_; }

 private:
  bytes in_;
};

}  // namespace

void make_handshake_seeds(const inputs& in, target_dir& out) {
  const bytes broker_v3 = from_hex(read_file(in.data_dir / "codec" / "broker_api_versions_v3.hex"));
  const bytes broker_v0 = from_hex(read_file(in.data_dir / "codec" / "broker_api_versions_v0.hex"));
  msg::ApiVersionsResponse check;
  require(!check.decode(broker_v3, msg::ApiVersionsResponse::max_version), "the v3 capture as the newest version");

  for (const mech m : {plain, scram256, scram512, oauth}) {
    const std::string name = seed_names[m];
    const auto ok = success(m);
    exchange unframed(m | direct);
    for (const auto& s : ok) unframed.chunk(s);
    out.add(name + "-direct-ok", unframed.data());
    for (std::int16_t v = 0; v <= 2; ++v) {
      out.add(name + "-authenticate-v" + std::to_string(v) + "-ok",
              exchange(m | listed(1, static_cast<unsigned>(v))).framed(v, ok, 3'600'000).data());
    }
    out.add(name + "-after-api-versions",
            exchange(m | api_versions_first).chunk(api_versions(4, 0, every_api())).framed(2, ok, 60'000).data());
  }

  // ApiVersions: a real broker's answer; the KIP-511 fallback (UNSUPPORTED_VERSION in the v0
  // layout, listing the versions to retry with) to v0 and to v2; fallback refused twice; an error.
  out.add("api-versions-broker-capture", exchange(plain | api_versions_first).chunk(broker_v3).framed(2, {""}).data());
  msg::ApiVersionsResponse::ApiVersion only_v0{18, 0, 0, {}}, up_to_v2{18, 0, 2, {}};
  out.add("api-versions-fallback-v0",
          exchange(plain | api_versions_first).chunk(api_versions(0, 35, {only_v0})).chunk(broker_v0)
              .framed(2, {""}).data());
  out.add("api-versions-fallback-v2", exchange(scram256 | api_versions_first)
                                          .chunk(api_versions(0, 35, {up_to_v2}))
                                          .chunk(api_versions(2, 0, every_api()))
                                          .framed(2, success(scram256))
                                          .data());
  out.add("api-versions-refused-twice", exchange(plain | api_versions_first)
                                            .chunk(api_versions(0, 35, {up_to_v2}))
                                            .chunk(api_versions(0, 35, {only_v0}))
                                            .data());
  out.add("api-versions-error", exchange(oauth | api_versions_first).chunk(api_versions(4, 31, {})).data());
  out.add("api-versions-without-sasl",
          exchange(plain | api_versions_first).chunk(api_versions(4, 0, {{18, 0, 4, {}}})).data());

  // SaslHandshake: no KIP-152 support, mechanism not offered, refused, failed.
  out.add("handshake-v0-only", exchange(plain | listed(0, 2)).data());
  out.add("handshake-mechanism-not-offered", exchange(scram512 | listed(1, 2)).chunk(handshake(0, {"GSSAPI"})).data());
  out.add("handshake-unsupported-mechanism",
          exchange(plain | listed(1, 1)).chunk(handshake(33, {"SCRAM-SHA-512"})).data());
  out.add("handshake-illegal-state", exchange(oauth | listed(1, 2)).chunk(handshake(34, {})).data());

  // SaslAuthenticate errors, and each mechanism's failures.
  exchange refused(plain | listed(1, 2));
  refused.chunk(handshake(0, {"PLAIN"}))
      .chunk(authenticate(2, "", 58, "Authentication failed: Invalid username or password"));
  out.add("plain-authentication-failed", refused.data());
  exchange refused_v0(plain | listed(1, 0));
  refused_v0.chunk(handshake(0, {"PLAIN"})).chunk(authenticate(0, "", 58, std::nullopt));
  out.add("plain-authentication-failed-v0-null-message", refused_v0.data());
  for (const mech m : {scram256, scram512}) {
    const std::string name = seed_names[m];
    const auto s = scram(m);
    const std::string first_no_tail = "r=" + std::string(client_nonce) + ",s=" + base64(as_bytes(salt)) + ",i=4096";
    out.add(name + "-final-error", exchange(m | direct).chunk(s.server_first).chunk("e=invalid-proof").data());
    out.add(name + "-wrong-signature",
            exchange(m | direct).chunk(s.server_first).chunk("v=" + base64(bytes(m == scram256 ? 32 : 64, 0))).data());
    out.add(name + "-nonce-not-extended", exchange(m | direct).chunk(first_no_tail).data());
    out.add(name + "-few-iterations",
            exchange(m | direct).chunk(s.server_first.substr(0, s.server_first.size() - 4) + "1024").data());
    out.add(name + "-extension-required", exchange(m | direct).chunk("m=ext," + s.server_first).data());
    out.add(name + "-first-error", exchange(m | direct).chunk("e=unknown-user").data());
    exchange framed_error(m | listed(1, 2));
    framed_error.framed(2, {s.server_first})
        .chunk(authenticate(2, "", 58, "Authentication failed during authentication due to invalid credentials"));
    out.add(name + "-authentication-failed", framed_error.data());
  }
  const std::string error_json = R"({"status":"invalid_token","scope":"kafka","openid-configuration":"x"})";
  out.add("oauth-error-json-direct", exchange(oauth | direct).chunk(error_json).chunk("").data());
  exchange oauth_error(oauth | listed(1, 2));
  oauth_error.framed(2, {error_json}).chunk(authenticate(2, "", 58, "Authentication failed"));
  out.add("oauth-error-json", oauth_error.data());
}

}  // namespace asiokafka::corpus
