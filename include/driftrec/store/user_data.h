#pragma once
// Everything a store holds about one user (the data-rights export: GET /v1/users/{id}/events,
// `driftrec store export-user`), and its JSON form.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "driftrec/store/event_store.h"

namespace driftrec::store {

struct UserData {
  std::string user;
  std::vector<StoredEvent> events;       ///< time order
  std::vector<StoredFeedback> feedback;  ///< seq order
  std::optional<std::int64_t> deleted_at;
  bool empty() const { return events.empty() && feedback.empty(); }
};

/// The user's stored events and feedback rows and their tombstone, if any.
UserData user_data(const EventStore& store, const std::string& user);

/// What erase_user() did.
struct UserErasure {
  Erased erased;
  std::int64_t deleted_at = 0;  ///< the tombstone's time: max(now, an earlier deletion)
};

/// Data rights' delete: erases the user's rows and leaves the tombstone at max(now, their last
/// deletion), so a tombstone never moves back. Throws NotFound when the store holds nothing about
/// the user, unless `known_elsewhere` (e.g. a served model was trained on them).
UserErasure erase_user(EventStore& store, const std::string& user, std::int64_t now, bool known_elsewhere = false);

/// {"user", "events": [{seq, item, ts, behavior, value, domain}], "feedback": [{seq, request_id,
/// item, position, propensity, policy, clicked, bought, dwell, ts, and for a learning policy's
/// slate model and features}], "deleted_at" (null if never)}.
nlohmann::json to_json(const UserData& d);

}  // namespace driftrec::store
