#include "driftrec/core/digest.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <vector>

#include "driftrec/core/error.h"

namespace driftrec {

namespace {
std::string to_hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  return out;
}
}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr) != 1) throw Error("SHA-256 failed (OpenSSL)");
  return to_hex(md, n);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), md, &n))
    throw Error("HMAC-SHA256 failed (OpenSSL)");
  return to_hex(md, n);
}

std::string random_hex(std::size_t n) {
  std::vector<unsigned char> b(n);
  if (n > 0 && RAND_bytes(b.data(), static_cast<int>(n)) != 1)
    throw IoError("no cryptographic random bytes available (OpenSSL RAND_bytes)");
  return to_hex(b.data(), n);
}

}  // namespace driftrec
