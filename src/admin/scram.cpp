// Admin: SCRAM credentials (DescribeUserScramCredentials, AlterUserScramCredentials). Both go
// to any broker, as in the Java Admin (a KRaft broker forwards changes to the controller).
// An upsertion's salted password is derived here (RFC 5802 Hi(), i.e. PBKDF2-HMAC with the
// mechanism's hash), from a salt drawn from OpenSSL's CSPRNG; the password is never sent.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "admin/admin_impl.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "asiokafka/error.hpp"

namespace asiokafka {

std::string_view to_string(ScramMechanism m) noexcept {
  switch (m) {
    case ScramMechanism::scram_sha_256: return "SCRAM-SHA-256";
    case ScramMechanism::scram_sha_512: return "SCRAM-SHA-512";
    case ScramMechanism::unknown: break;
  }
  return "UNKNOWN";
}

namespace detail {

namespace asio = boost::asio;
namespace m = protocol::messages;
using admin::op_context;

namespace {

/// The salt's length in bytes (RFC 5802 leaves it open; 32 bytes of CSPRNG output).
constexpr int salt_bytes = 32;

std::string user_label(const std::string& user) { return "user '" + user + "'"; }

std::string alteration_label(const UserScramCredentialAlteration& a) {
  return "user '" + a.user + "' " + std::string(to_string(a.mechanism)) + " credential";
}

/// Salt and salted password of an upsertion, or the reason they could not be made.
struct derived_secret {
  std::vector<std::uint8_t> salt;
  std::vector<std::uint8_t> salted_password;
  std::error_code error;
  std::string message;
};

derived_secret derive(const UserScramCredentialAlteration& a) {
  derived_secret d;
  const EVP_MD* md = a.mechanism == ScramMechanism::scram_sha_256 ? EVP_sha256() : EVP_sha512();
  if (a.iterations < 1) {
    d.error = client_errc::invalid_argument;
    d.message = "iterations must be positive (got " + std::to_string(a.iterations) + ")";
    return d;
  }
  d.salt.resize(salt_bytes);
  if (RAND_bytes(d.salt.data(), salt_bytes) != 1) {
    d.error = sasl_errc::random_failed;
    d.message = "OpenSSL's RAND_bytes could not make a salt";
    return d;
  }
  d.salted_password.resize(static_cast<std::size_t>(EVP_MD_size(md)));
  // Hi(password, salt, i) of RFC 5802 is PBKDF2 with HMAC and the output the hash's size.
  if (PKCS5_PBKDF2_HMAC(a.password.data(), static_cast<int>(a.password.size()), d.salt.data(), salt_bytes,
                        a.iterations, md, static_cast<int>(d.salted_password.size()),
                        d.salted_password.data()) != 1) {
    d.error = sasl_errc::crypto_failed;
    d.message = "PBKDF2 failed";
  }
  return d;
}

template <class Request>
bool refused_by_broker(const net::failure& f, const typed_request<Request>& call) {
  const std::int16_t top = call.top_level_error();
  return f && top != 0 && f.code == make_kafka_error(top);
}

UserScramCredentialsDescription description_of(
    const m::DescribeUserScramCredentialsResponse::DescribeUserScramCredentialsResult& r) {
  UserScramCredentialsDescription d;
  d.user = r.user;
  admin::set_item_error(d, r.error_code, r.error_message, user_label(r.user));
  for (const auto& c : r.credential_infos) {
    ScramCredentialInfo info;
    info.mechanism = static_cast<ScramMechanism>(c.mechanism);
    info.iterations = c.iterations;
    d.credentials.push_back(info);
  }
  return d;
}

asio::awaitable<net::failure> describe_scram(op_context& ctx, std::vector<UserScramCredentialsDescription>& out,
                                             const std::vector<std::string>& users) {
  m::DescribeUserScramCredentialsRequest req;
  if (users.empty()) {
    req.users = std::nullopt;  // every user
  } else {
    std::vector<m::DescribeUserScramCredentialsRequest::UserName> names;
    for (const auto& u : users) {
      m::DescribeUserScramCredentialsRequest::UserName n;
      n.name = u;
      names.push_back(std::move(n));
    }
    req.users = std::move(names);
  }
  typed_request<m::DescribeUserScramCredentialsRequest> call(std::move(req));
  const route any_broker;  // named: no braced temporary inside co_await (GCC 12)
  net::failure f = co_await admin::call(ctx, any_broker, call, admin::repeat::safe);
  if (refused_by_broker(f, call) && !users.empty()) {
    // Refused as a whole (e.g. CLUSTER_AUTHORIZATION_FAILED): every user named gets it.
    for (const auto& u : users) {
      UserScramCredentialsDescription d;
      d.user = u;
      admin::set_item_error(d, call.top_level_error(), call.message().error_message, user_label(u));
      out.push_back(std::move(d));
    }
    co_return net::failure{};
  }
  if (f) co_return f;
  const auto& results = call.message().results;
  if (users.empty()) {
    for (const auto& r : results) out.push_back(description_of(r));
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.user < b.user; });
    co_return net::failure{};
  }
  for (const auto& u : users) {
    auto it = std::find_if(results.begin(), results.end(), [&](const auto& r) { return r.user == u; });
    if (it == results.end()) {
      UserScramCredentialsDescription d;
      d.user = u;
      admin::set_item_error(d, client_errc::malformed, "the broker's answer does not mention it", user_label(u));
      out.push_back(std::move(d));
    } else {
      out.push_back(description_of(*it));
    }
  }
  co_return net::failure{};
}

asio::awaitable<net::failure> alter_scram(op_context& ctx, std::vector<AlterUserScramCredentialsResult>& out,
                                          const std::vector<UserScramCredentialAlteration>& alterations) {
  out.resize(alterations.size());
  // Client-side refusals first. The broker answers per user, so a user with a refused
  // alteration is not sent at all (as the Java Admin does).
  std::map<std::string, std::size_t> refused_user;  // user -> the refused alteration
  std::vector<derived_secret> secrets(alterations.size());
  for (std::size_t i = 0; i < alterations.size(); ++i) {
    const UserScramCredentialAlteration& a = alterations[i];
    AlterUserScramCredentialsResult& res = out[i];
    res.user = a.user;
    res.mechanism = a.mechanism;
    res.what = a.what;
    if (a.mechanism != ScramMechanism::scram_sha_256 && a.mechanism != ScramMechanism::scram_sha_512) {
      admin::set_item_error(res, client_errc::invalid_argument,
                            "unknown SCRAM mechanism " + std::to_string(static_cast<int>(a.mechanism)),
                            alteration_label(a));
    } else if (a.what == UserScramCredentialAlteration::kind::upsert) {
      secrets[i] = derive(a);
      if (secrets[i].error) admin::set_item_error(res, secrets[i].error, secrets[i].message, alteration_label(a));
    }
    if (res.error && !refused_user.count(a.user)) refused_user[a.user] = i;
  }
  m::AlterUserScramCredentialsRequest req;
  for (std::size_t i = 0; i < alterations.size(); ++i) {
    const UserScramCredentialAlteration& a = alterations[i];
    auto refused = refused_user.find(a.user);
    if (refused != refused_user.end()) {
      if (!out[i].error) {
        admin::set_item_error(out[i], out[refused->second].error,
                              "not sent: another alteration of this user was refused (" +
                                  out[refused->second].error_message + ")",
                              alteration_label(a));
      }
      continue;
    }
    if (a.what == UserScramCredentialAlteration::kind::remove) {
      m::AlterUserScramCredentialsRequest::ScramCredentialDeletion d;
      d.name = a.user;
      d.mechanism = static_cast<std::int8_t>(a.mechanism);
      req.deletions.push_back(std::move(d));
    } else {
      m::AlterUserScramCredentialsRequest::ScramCredentialUpsertion u;
      u.name = a.user;
      u.mechanism = static_cast<std::int8_t>(a.mechanism);
      u.iterations = a.iterations;
      u.salt = std::move(secrets[i].salt);
      u.salted_password = std::move(secrets[i].salted_password);
      req.upsertions.push_back(std::move(u));
    }
  }
  if (req.deletions.empty() && req.upsertions.empty()) co_return net::failure{};
  typed_request<m::AlterUserScramCredentialsRequest> call(std::move(req));
  const route any_broker;  // named: no braced temporary inside co_await (GCC 12)
  if (net::failure f = co_await admin::call(ctx, any_broker, call, admin::repeat::once)) co_return f;
  const auto& results = call.message().results;
  for (std::size_t i = 0; i < alterations.size(); ++i) {
    const UserScramCredentialAlteration& a = alterations[i];
    if (refused_user.count(a.user)) continue;
    auto it = std::find_if(results.begin(), results.end(), [&](const auto& r) { return r.user == a.user; });
    if (it == results.end()) {
      admin::set_item_error(out[i], client_errc::malformed, "the broker's answer does not mention it",
                            alteration_label(a));
    } else {
      admin::set_item_error(out[i], it->error_code, it->error_message, alteration_label(a));
    }
  }
  co_return net::failure{};
}

}  // namespace

asio::awaitable<op_error> admin_describe_user_scram_credentials(std::shared_ptr<admin_state> s,
                                                                std::vector<UserScramCredentialsDescription>& out,
                                                                std::vector<std::string> users,
                                                                DescribeUserScramCredentialsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "describe_user_scram_credentials");
  if (!ctx) co_return admin::to_op_error(std::move(ctx.error()));
  co_return admin::to_op_error(co_await describe_scram(ctx.value(), out, users));
}

asio::awaitable<op_error> admin_alter_user_scram_credentials(std::shared_ptr<admin_state> s,
                                                             std::vector<AlterUserScramCredentialsResult>& out,
                                                             std::vector<UserScramCredentialAlteration> alterations,
                                                             AlterUserScramCredentialsOptions options) {
  net::outcome<op_context> ctx = admin::begin(s, options.timeout, "alter_user_scram_credentials");
  op_error result;
  if (!ctx) {
    result = admin::to_op_error(std::move(ctx.error()));
  } else {
    result = admin::to_op_error(co_await alter_scram(ctx.value(), out, alterations));
  }
  // This operation's copies of the passwords are wiped (the caller's are the caller's).
  for (UserScramCredentialAlteration& a : alterations) OPENSSL_cleanse(a.password.data(), a.password.size());
  co_return result;
}

}  // namespace detail
}  // namespace asiokafka
