// Service's batched state building: the recommendations of several users at once, with the states
// of those not cached yet built in one encode_batch. The single-user path (recommend_user) is this
// with one request.
//
// A build reads the user's events under the shard lock, then encodes without it (a batch spans
// shards). apply() keeps every event ingested for a user under construction with the build's mark,
// whatever is cached meanwhile (the build may replace it), and the build applies them once its
// state is cached, so no acknowledged event is missed.
#include <unordered_map>

#include "driftrec/core/error.h"
#include "service_internals.h"

namespace driftrec::serve {

std::vector<models::UserState> Service::states_of(const std::vector<std::string>& users, const Bundle& b,
                                                  std::vector<std::exception_ptr>* errors, std::size_t* built_count) {
  std::vector<models::UserState> out(users.size());
  struct Build {
    std::size_t at = 0;  // index in users
    std::int32_t idx = -1;
    std::int64_t watermark = 0;
    bool no_events = true;
  };
  std::vector<Build> builds;
  std::vector<std::int32_t> idxs;
  std::vector<std::vector<data::Event>> histories;
  for (std::size_t i = 0; i < users.size(); ++i) {
    auto& shard = shard_of(users[i]);
    std::lock_guard lock(shard.mu);
    const auto it = shard.users.find(users[i]);
    if (it != shard.users.end() && it->second.model_version == b.version) {
      shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru);
      out[i] = it->second.state;
      continue;
    }
    try {
      const auto events = with_store([&] { return store_->user_events(users[i], options_.history_limit); });
      Build w;
      w.at = i;
      // A deleted user is not served from the model's memory of them (a trained user vector); the
      // tombstone is looked up only for users the model knows.
      w.idx = b.loaded.users.find(users[i]);
      if (w.idx >= 1 && with_store([&] { return store_->deleted_at(users[i]).has_value(); })) w.idx = -1;
      for (const auto& e : events) w.watermark = std::max(w.watermark, e.seq);
      w.no_events = events.empty();
      histories.push_back(to_events(b, w.idx, events));
      idxs.push_back(w.idx);
      builds.push_back(w);
      ++shard.building[users[i]].builders;
    } catch (...) {
      (*errors)[i] = std::current_exception();
    }
  }
  if (builds.empty()) return out;
  std::vector<models::UserState> built;
  std::exception_ptr failed;
  try {
    built = b.loaded.model->encode_batch(idxs, histories);
  } catch (...) {
    failed = std::current_exception();
  }
  for (std::size_t k = 0; k < builds.size(); ++k) {
    const auto& w = builds[k];
    const auto& user = users[w.at];
    auto& shard = shard_of(user);
    std::lock_guard lock(shard.mu);
    const auto mark = shard.building.find(user);
    const bool last = --mark->second.builders == 0;  // else another build of this user still needs them
    auto stash = last ? std::move(mark->second.stash) : mark->second.stash;
    if (last) shard.building.erase(mark);
    if (failed) {
      (*errors)[w.at] = failed;
      continue;
    }
    auto it = shard.users.find(user);
    if (it != shard.users.end() && it->second.model_version == b.version) {  // cached meanwhile (a
      out[w.at] = it->second.state;  // concurrent build): that state has every event applied
      continue;
    }
    if (it != shard.users.end()) shard.erase(it);  // another model's
    CachedUser c;
    c.model_version = b.version;
    c.watermark = w.watermark;
    c.state = std::move(built[k]);
    if (w.no_events && w.idx < 1 && stash.empty()) {  // anonymous: nothing to remember, cold start
      out[w.at] = std::move(c.state);
      continue;
    }
    shard.lru.push_front(user);
    c.lru = shard.lru.begin();
    it = shard.users.emplace(user, std::move(c)).first;
    for (const auto& [row, seq] : stash) {
      if (const auto item = b.known_item(row.item); item >= 0) apply_cached(it->second, row, seq, item, b);
    }
    shard.touch(it);  // never evicts `it` itself: it is the most recent
    out[w.at] = it->second.state;
    if (built_count) ++*built_count;
  }
  return out;
}

std::vector<RecommendResult> Service::recommend_users(const std::vector<UserRequest>& requests,
                                                      std::vector<std::exception_ptr>* errors) {
  const models::dense::OneThreadHere one;  // callers run concurrently (see the class comment)
  errors->assign(requests.size(), nullptr);
  std::vector<RecommendResult> out(requests.size());
  const auto b = bundle();
  std::vector<std::string> users;  // distinct
  std::unordered_map<std::string, std::size_t> slot;
  std::vector<std::size_t> of(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& user = requests[i].user;
    if (user.empty()) {
      (*errors)[i] = std::make_exception_ptr(InvalidInput("user: must be a non-empty string"));
      continue;
    }
    const auto [it, added] = slot.emplace(user, users.size());
    if (added) users.push_back(user);
    of[i] = it->second;
  }
  std::vector<std::exception_ptr> failed(users.size());
  auto states = states_of(users, *b, &failed);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if ((*errors)[i]) continue;
    if (failed[of[i]]) {
      (*errors)[i] = failed[of[i]];
      continue;
    }
    try {
      auto& state = states[of[i]];
      state.now = requests[i].request.at.value_or(static_cast<std::int64_t>(now_seconds()));
      out[i] = finish(*b, state, requests[i].request, requests[i].user);
    } catch (...) {
      (*errors)[i] = std::current_exception();
    }
  }
  return out;
}

RecommendResult Service::recommend_user(const std::string& user, const RecommendRequest& req) {
  std::vector<std::exception_ptr> errors;
  auto out = recommend_users({UserRequest{user, req}}, &errors);
  if (errors[0]) std::rethrow_exception(errors[0]);
  return std::move(out[0]);
}

}  // namespace driftrec::serve
