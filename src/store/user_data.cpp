#include "driftrec/store/user_data.h"

#include <algorithm>

#include "driftrec/core/error.h"

namespace driftrec::store {

UserData user_data(const EventStore& store, const std::string& user) {
  UserData d;
  d.user = user;
  d.events = store.user_events(user, 0);
  d.feedback = store.user_feedback(user);
  d.deleted_at = store.deleted_at(user);
  return d;
}

UserErasure erase_user(EventStore& store, const std::string& user, std::int64_t now, bool known_elsewhere) {
  const auto before = store.deleted_at(user);
  const bool stored = !store.user_events(user, 1).empty() || !store.user_feedback(user).empty();
  if (!stored && !known_elsewhere)
    throw NotFound("user '" + user + "': nothing is stored about this user" +
                   (before ? " (deleted at " + std::to_string(*before) + ")" : ""));
  UserErasure out;
  out.deleted_at = std::max(now, before.value_or(0));
  out.erased = store.delete_user(user, out.deleted_at);
  return out;
}

nlohmann::json to_json(const UserData& d) {
  nlohmann::json events = nlohmann::json::array(), feedback = nlohmann::json::array();
  for (const auto& e : d.events)
    events.push_back({{"seq", e.seq},
                      {"item", e.item},
                      {"ts", e.ts},
                      {"behavior", e.behavior},
                      {"value", e.value},
                      {"domain", e.domain}});
  for (const auto& f : d.feedback) {
    feedback.push_back({{"seq", f.seq},
                        {"request_id", f.request_id},
                        {"item", f.item},
                        {"position", f.position},
                        {"propensity", f.propensity},
                        {"policy", f.policy},
                        {"clicked", f.clicked},
                        {"bought", f.bought},
                        {"dwell", f.dwell},
                        {"ts", f.ts}});
    if (!f.features.empty()) {  // what a learning policy kept of this impression (derived from the user's state)
      feedback.back()["model"] = f.model;
      feedback.back()["features"] = f.features;
    }
  }
  return {{"user", d.user},
          {"events", events},
          {"feedback", feedback},
          {"deleted_at", d.deleted_at ? nlohmann::json(*d.deleted_at) : nlohmann::json(nullptr)}};
}

}  // namespace driftrec::store
