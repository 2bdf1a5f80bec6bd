#pragma once
// Tombstones of deleted users (internal to the stores): a salted SHA-256 of each deleted id with the
// deletion time. The salt is per store, so the same id leaves different keys in different stores.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "driftrec/core/digest.h"

namespace driftrec::store {

class Tombstones {
 public:
  explicit Tombstones(std::string salt = random_hex(16)) : salt_(std::move(salt)) {}
  const std::string& salt() const { return salt_; }
  /// The key stored for `user`.
  std::string key(const std::string& user) const { return sha256_hex(salt_ + '\n' + user); }
  /// Records (or moves later) the deletion of the user with this key.
  void put(const std::string& key, std::int64_t at) {
    auto& t = at_[key];
    t = std::max(t, at);
  }
  std::optional<std::int64_t> find(const std::string& user) const {
    if (at_.empty()) return std::nullopt;
    const auto it = at_.find(key(user));
    if (it == at_.end()) return std::nullopt;
    return it->second;
  }
  /// True when a row of `user` stamped `ts` predates the user's deletion (so it must not be stored).
  bool drops(const std::string& user, std::int64_t ts) const {
    const auto at = find(user);
    return at && ts <= *at;
  }
  std::size_t size() const { return at_.size(); }
  void clear() { at_.clear(); }

 private:
  std::string salt_;
  std::unordered_map<std::string, std::int64_t> at_;
};

}  // namespace driftrec::store
