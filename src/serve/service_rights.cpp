// Service, the data-rights half: deleting and exporting a user, and the retention purge (the
// schedule itself, Service::Retention, is in service_internals.h).
#include <limits>

#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "service_internals.h"

namespace driftrec::serve {

std::int64_t Service::retention_cutoff(std::int64_t now) const {
  if (options_.retention_days <= 0) return std::numeric_limits<std::int64_t>::min();
  return now - static_cast<std::int64_t>(options_.retention_days * 86400.0);
}

UserDeletion Service::delete_user(const std::string& user) {
  if (user.empty()) throw InvalidInput("user: must be a non-empty string");
  const auto b = bundle();
  auto& shard = shard_of(user);
  std::lock_guard lock(shard.mu);  // the user's state is not rebuilt while their rows go
  // The model's memory of the user counts until their first deletion (afterwards it is not used).
  const bool in_model =
      b->loaded.users.find(user) >= 1 && !with_store([&] { return store_->deleted_at(user).has_value(); });
  const auto e =
      with_store([&] { return store::erase_user(*store_, user, static_cast<std::int64_t>(now_seconds()), in_model); });
  UserDeletion out;
  out.user = user;
  out.deleted_at = e.deleted_at;
  out.events = e.erased.events;
  out.feedback = e.erased.feedback;
  if (const auto it = shard.users.find(user); it != shard.users.end()) shard.erase(it);
  slates_.forget_user(user);
  ++users_deleted_;
  log_info("deleted user data: " + std::to_string(out.events) + " events, " + std::to_string(out.feedback) +
           " feedback rows");  // the id itself is not logged
  return out;
}

UserExport Service::export_user(const std::string& user) {
  if (user.empty()) throw InvalidInput("user: must be a non-empty string");
  UserExport out;
  out.data = with_store([&] { return store::user_data(*store_, user); });
  out.in_model = !out.data.deleted_at && bundle()->loaded.users.find(user) >= 1;
  if (out.data.empty() && !out.data.deleted_at && !out.in_model)
    throw NotFound("user '" + user + "': nothing is stored about this user");
  return out;
}

store::Erased Service::purge_expired() {
  if (options_.retention_days <= 0) return {};
  const auto cutoff = retention_cutoff(static_cast<std::int64_t>(now_seconds()));
  const auto erased = with_store([&] { return store_->purge_before(cutoff); });
  if (erased.events + erased.feedback > 0) {
    for (auto& s : shards_) {  // states hold purged events: rebuilt from the store when next needed
      std::lock_guard lock(s->mu);
      s->clear();
    }
    log_info("retention: purged " + std::to_string(erased.events) + " events and " + std::to_string(erased.feedback) +
             " feedback rows older than " + std::to_string(options_.retention_days) + " days");
  }
  events_purged_ += erased.events;
  return erased;
}

}  // namespace driftrec::serve
