#pragma once
// Pseudonymised user ids: a store wrapper that writes HMAC-SHA256(key, user id) (64 hex digits) in
// place of every user id, so the database never holds the ids themselves. Lookups by id (a user's
// events and feedback, deletion, tombstones) hash the id first and still work; scans return the
// pseudonyms. Without the key the pseudonyms cannot be linked back to ids (nor guessed ids checked).
#include <memory>
#include <string>

#include "driftrec/store/event_store.h"

namespace driftrec::store {

/// The key in `path`: its bytes, without a trailing newline; at least 16 bytes (e.g. `openssl
/// rand -hex 32 > key`). Throws IoError when it cannot be read, InvalidInput when it is too short.
std::string read_pseudonym_key(const std::string& path);

/// The pseudonym of `user` under `key`.
std::string pseudonym(const std::string& key, const std::string& user);

/// Wraps `inner` (see the file comment). Throws InvalidInput for a key shorter than 16 bytes.
std::unique_ptr<EventStore> pseudonymize(std::unique_ptr<EventStore> inner, std::string key);

}  // namespace driftrec::store
