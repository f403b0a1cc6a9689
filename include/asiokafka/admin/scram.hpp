// Admin: SCRAM credentials of users (DescribeUserScramCredentials,
// AlterUserScramCredentials; KIP-554, Kafka 2.7+).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asiokafka/admin/common.hpp"

namespace asiokafka {

/// A SCRAM mechanism, valued as on the wire.
enum class ScramMechanism : std::int8_t {
  unknown = 0,
  scram_sha_256 = 1,
  scram_sha_512 = 2,
};

/// "SCRAM-SHA-256", "SCRAM-SHA-512" or "UNKNOWN".
std::string_view to_string(ScramMechanism m) noexcept;

/// One credential of a user: its mechanism and iteration count (never the secret).
struct ScramCredentialInfo {
  ScramMechanism mechanism = ScramMechanism::unknown;
  std::int32_t iterations = 0;
  friend bool operator==(const ScramCredentialInfo&, const ScramCredentialInfo&) = default;
};

struct DescribeUserScramCredentialsOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One user of describe_user_scram_credentials: the user's credentials, or the error
/// (RESOURCE_NOT_FOUND for a user without any, DUPLICATE_RESOURCE for a user named twice).
struct UserScramCredentialsDescription : AdminItemResult {
  std::string user;
  std::vector<ScramCredentialInfo> credentials;
};

/// An upsertion (create or replace) or a deletion of one user's credential for one mechanism.
/// Build with upsert() or remove(). The password of an upsertion is only used to derive the
/// salted password on this machine (RFC 5802 Hi() with a fresh random salt); it is never
/// sent, printed or part of a message.
struct UserScramCredentialAlteration {
  enum class kind : std::int8_t { upsert, remove };

  UserScramCredentialAlteration(kind k, std::string user_name, ScramMechanism m, std::int32_t iteration_count,
                                std::string secret)
      : what(k), user(std::move(user_name)), mechanism(m), iterations(iteration_count), password(std::move(secret)) {}

  /// Creates or replaces `user`'s credential for `m`. Brokers require 4096 <= iterations <= 16384.
  static UserScramCredentialAlteration upsert(std::string user, ScramMechanism m, std::string password,
                                              std::int32_t iterations = 4096) {
    return UserScramCredentialAlteration(kind::upsert, std::move(user), m, iterations, std::move(password));
  }
  /// Deletes `user`'s credential for `m`.
  static UserScramCredentialAlteration remove(std::string user, ScramMechanism m) {
    return UserScramCredentialAlteration(kind::remove, std::move(user), m, 0, std::string());
  }

  kind what;
  std::string user;
  ScramMechanism mechanism;
  std::int32_t iterations;  ///< Upsertions only.
  std::string password;     ///< Upsertions only.
};

struct AlterUserScramCredentialsOptions {
  /// Zero: AdminConfig::default_api_timeout.
  std::chrono::milliseconds timeout{0};
};

/// One alteration of alter_user_scram_credentials. The broker answers per user, so every
/// alteration of one user carries that user's outcome.
struct AlterUserScramCredentialsResult : AdminItemResult {
  std::string user;
  ScramMechanism mechanism = ScramMechanism::unknown;
  UserScramCredentialAlteration::kind what = UserScramCredentialAlteration::kind::upsert;
};

}  // namespace asiokafka
