// TLS configuration: build an OpenSSL client context from file paths or in-memory PEM, in the
// spirit of aiokafka's create_ssl_context. See docs/tls.md.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

namespace asiokafka {

/// The lowest protocol version the context accepts.
enum class TlsVersion { tls1_2, tls1_3 };

/// Where to find the trusted CAs and the client identity. Every field is optional; empty means
/// "not given". Peer verification is always on.
struct TlsOptions {
  // Trusted CAs. Any combination may be given; all are trusted. With none of them the system's
  // default verify paths (OpenSSL's SSL_CERT_FILE / SSL_CERT_DIR) are used.
  std::string ca_file;  ///< PEM file with one or more CA certificates.
  std::string ca_dir;   ///< Directory of CA certificates named by subject hash (`openssl rehash`).
  std::string ca_pem;   ///< In-memory PEM text with one or more CA certificates.

  // Client identity for mutual TLS: a certificate chain (leaf first) and its private key, each
  // from a file or from memory. A key in PEM may be encrypted; key_password decrypts it. When
  // only a certificate is given, its PEM is expected to hold the key as well.
  std::string cert_file;     ///< PEM certificate chain file.
  std::string key_file;      ///< PEM private key file.
  std::string key_password;  ///< Password of an encrypted key; never printed.
  std::string cert_pem;      ///< In-memory PEM certificate chain (instead of cert_file).
  std::string key_pem;       ///< In-memory PEM private key (instead of key_file).

  /// PEM file of certificate revocation lists. When given, the broker's certificate is checked
  /// against its issuer's CRL, which must then be in this file.
  std::string crl_file;

  /// The context itself requires the broker's certificate to name this host name or IP
  /// address (for brokers reached through an address their certificate does not list; then
  /// turn the connection's own check, ClientConfig::ssl_check_hostname, off). Empty: no
  /// name is required by the context. SNI still carries the host connected to. Checking the
  /// host connected to is the connection's job (ssl_check_hostname): a context cannot know it.
  std::string server_name;

  TlsVersion min_version = TlsVersion::tls1_2;
};

/// Builds a client context from `options`: TLS 1.2+ (or min_version), peer verification,
/// the CAs, the CRLs and the client certificate and key (checked to match). Throws
/// std::system_error when an input is unusable: the message names the option (e.g.
/// "TlsOptions.key_file") and OpenSSL's reason; file paths are named, PEM text and passwords
/// never are. The code is OpenSSL's (asio::error::get_ssl_category()) or
/// std::errc::invalid_argument for inconsistent options. A context built by hand can be used
/// instead wherever a std::shared_ptr<boost::asio::ssl::context> is taken.
std::shared_ptr<boost::asio::ssl::context> create_ssl_context(const TlsOptions& options);

}  // namespace asiokafka
