#include "driftrec/store/user_data.h"

namespace driftrec::store {

UserData user_data(const EventStore& store, const std::string& user) {
  UserData d;
  d.user = user;
  d.events = store.user_events(user, 0);
  d.feedback = store.user_feedback(user);
  d.deleted_at = store.deleted_at(user);
  return d;
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
  for (const auto& f : d.feedback)
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
  return {{"user", d.user},
          {"events", events},
          {"feedback", feedback},
          {"deleted_at", d.deleted_at ? nlohmann::json(*d.deleted_at) : nlohmann::json(nullptr)}};
}

}  // namespace driftrec::store
