#pragma once
// Cryptographic digests (OpenSSL): SHA-256 and keyed HMAC-SHA256, as lower-case hex. Used where an
// id must be stored without the id itself: tombstones of deleted users, pseudonymised user ids.
#include <string>
#include <string_view>

namespace driftrec {

/// SHA-256 of `data`, 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);
/// HMAC-SHA256 of `data` under `key`, 64 lower-case hex digits.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
/// `n` bytes from the operating system's cryptographic random source, as hex (2n digits).
/// Throws IoError when none is available.
std::string random_hex(std::size_t n);

}  // namespace driftrec
