#include "driftrec/workflow/recommender.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "driftrec/core/error.h"

namespace driftrec::workflow {

namespace {

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

Recommender::Recommender(std::shared_ptr<const models::LoadedModel> model, const GroupOptions& groups)
    : model_(std::move(model)) {
  if (!model_ || !model_->model || !model_->model->fitted()) throw InvalidInput("recommender: needs a trained model");
  counts_.assign(static_cast<std::size_t>(model_->model->n_items()), 0);
  reranking_ = std::make_unique<ModelReranking>(*model_, groups);
}

Recommender::Entry& Recommender::entry_locked(const std::string& user) {
  auto it = users_.find(user);
  if (it != users_.end()) return it->second;
  Entry e;
  e.state.user = model_->users.find(user);
  if (e.state.user >= model_->model->n_users()) e.state.user = -1;
  return users_.emplace(user, std::move(e)).first->second;
}

std::size_t Recommender::set_histories(const data::Dataset& events) {
  const auto aligned = data::align_ids(events, model_->users, model_->items);
  const auto n_items = model_->model->n_items();
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t set = 0;
  for (std::int32_t u = 1; u < aligned.n_users(); ++u) {
    if (aligned.log.user_length(u) == 0) continue;
    auto& e = entry_locked(aligned.users.name(u));
    for (const auto& old : e.state.history) --counts_[static_cast<std::size_t>(old.item)];
    e.state.history.clear();
    e.state.vector.clear();
    e.encoded = false;
    for (auto r = aligned.log.user_begin(u); r < aligned.log.user_end(u); ++r) {
      const auto ri = static_cast<std::size_t>(r);
      const auto item = aligned.log.item[ri];
      if (item < 1 || item >= n_items) continue;
      const auto beh = model_->behaviors.find(aligned.behaviors.name(aligned.log.behavior[ri]));
      e.state.history.push_back(data::Event{std::max(e.state.user, 0), item, aligned.log.ts[ri],
                                            static_cast<std::int16_t>(std::max(0, beh)), 0, aligned.log.value[ri]});
      ++counts_[static_cast<std::size_t>(item)];
    }
    ++set;
  }
  return set;
}

bool Recommender::observe(const std::string& user, const std::string& item, std::optional<std::int64_t> ts,
                          const std::string& behavior, float value) {
  if (user.empty()) throw InvalidInput("observe: the user id must be a non-empty string");
  if (!std::isfinite(value)) throw InvalidInput("observe: value must be a finite number");
  const auto idx = model_->items.find(item);
  if (idx < 1 || idx >= model_->model->n_items()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  auto& e = entry_locked(user);
  const std::int64_t last =
      e.state.history.empty() ? std::numeric_limits<std::int64_t>::min() : e.state.history.back().ts;
  const auto beh = behavior.empty() ? 0 : model_->behaviors.find(behavior);
  const data::Event ev{std::max(e.state.user, 0),
                       idx,
                       ts ? *ts : std::max(now_seconds(), last),
                       static_cast<std::int16_t>(std::max(0, beh)),
                       0,
                       value};
  if (e.encoded)
    model_->model->observe(e.state, ev);
  else
    e.state.history.push_back(ev);
  ++counts_[static_cast<std::size_t>(idx)];
  return true;
}

void Recommender::encode_locked(const std::vector<Entry*>& entries) {
  std::vector<Entry*> todo;
  std::vector<std::int32_t> ids;
  std::vector<std::vector<data::Event>> histories;
  for (auto* e : entries)
    if (!e->encoded) {
      todo.push_back(e);
      ids.push_back(e->state.user);
      histories.push_back(std::move(e->state.history));
    }
  if (todo.empty()) return;
  auto states = model_->model->encode_batch(ids, histories);
  for (std::size_t i = 0; i < todo.size(); ++i) {
    todo[i]->state = std::move(states[i]);
    todo[i]->encoded = true;
  }
}

bool Recommender::usable(const models::UserState& state) const {
  return !state.history.empty() || (state.user >= 1 && model_->model->capabilities().remembers_users);
}

models::RecommendOptions Recommender::options_for(const RecommendQuery& query) const {
  if (query.k == 0) throw InvalidInput("recommend: k must be at least 1");
  models::RecommendOptions ro;
  ro.exclude_seen = query.exclude_seen;
  const auto n = model_->model->n_items();
  for (const auto& id : query.exclude)
    if (const auto i = model_->items.find(id); i >= 1 && i < n) ro.exclude.push_back(i);
  for (const auto& id : query.candidates)
    if (const auto i = model_->items.find(id); i >= 1 && i < n) ro.candidates.push_back(i);
  if (!query.candidates.empty() && ro.candidates.empty())
    throw InvalidInput("recommend: none of the candidate items is known to the model");
  return ro;
}

TopK Recommender::popular(const models::RecommendOptions& ro, std::size_t k) const {
  const float none = -std::numeric_limits<float>::infinity();
  std::vector<float> scores(counts_.size(), none);
  if (ro.candidates.empty()) {
    for (std::size_t i = 1; i < counts_.size(); ++i) scores[i] = static_cast<float>(counts_[i]);
  } else {
    for (auto i : ro.candidates)
      scores[static_cast<std::size_t>(i)] = static_cast<float>(counts_[static_cast<std::size_t>(i)]);
  }
  for (auto i : ro.exclude) scores[static_cast<std::size_t>(i)] = none;
  return top_k(scores.data(), scores.size(), k);
}

std::vector<TopK> Recommender::rank_locked(const std::vector<const models::UserState*>& states,
                                           const RecommendQuery& query, std::vector<char>* cold) {
  const auto ro = options_for(query);
  const bool rerank = !query.rerank.empty() && query.rerank != "none";
  if (rerank) {
    if (query.rerank_depth < 1) throw InvalidInput("recommend: rerank_depth must be at least 1");
    reranking_->reranker(query.rerank);  // a bad spec fails before any scoring
  }
  const std::size_t want = rerank ? std::max(query.k, query.rerank_depth) : query.k;
  std::vector<TopK> out(states.size());
  std::vector<const models::UserState*> warm;
  std::vector<std::size_t> rows;
  std::optional<TopK> cold_top;
  if (cold) cold->assign(states.size(), 0);
  for (std::size_t i = 0; i < states.size(); ++i)
    if (usable(*states[i])) {
      warm.push_back(states[i]);
      rows.push_back(i);
    } else {
      // A state without a usable history has none to exclude: every cold row gets the same list.
      if (!cold_top) cold_top = popular(ro, want);
      out[i] = *cold_top;
      if (cold) (*cold)[i] = 1;
    }
  if (!warm.empty()) {
    auto top = model_->model->recommend(warm, want, ro);
    for (std::size_t j = 0; j < rows.size(); ++j) out[rows[j]] = std::move(top[j]);
  }
  if (rerank)
    for (std::size_t i = 0; i < states.size(); ++i)
      out[i] = reranking_->apply(query.rerank, out[i], *states[i], query.k);
  return out;
}

std::vector<TopK> Recommender::recommend(const std::vector<std::string>& users, const RecommendQuery& query,
                                         std::vector<char>* cold) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Entry*> entries;
  entries.reserve(users.size());
  // Users with no history here and unknown to the model are answered without being remembered.
  std::vector<Entry> anonymous;
  anonymous.reserve(users.size());
  for (const auto& u : users) {
    const auto idx = model_->users.find(u);
    if (users_.count(u) > 0 || (idx >= 1 && idx < model_->model->n_users())) {
      entries.push_back(&entry_locked(u));
    } else {
      anonymous.emplace_back();
      anonymous.back().state.user = -1;
      entries.push_back(&anonymous.back());
    }
  }
  encode_locked(entries);
  std::vector<const models::UserState*> states;
  states.reserve(entries.size());
  for (auto* e : entries) {
    e->state.now = query.at;  // this call's time, not a previous call's
    states.push_back(&e->state);
  }
  return rank_locked(states, query, cold);
}

std::vector<TopK> Recommender::recommend_sessions(const std::vector<std::vector<std::string>>& sessions,
                                                  const RecommendQuery& query, std::vector<char>* cold) {
  std::vector<std::int32_t> ids(sessions.size(), -1);
  std::vector<std::vector<data::Event>> histories(sessions.size());
  const auto n = model_->model->n_items();
  for (std::size_t s = 0; s < sessions.size(); ++s) {
    std::int64_t ts = 0;
    for (const auto& id : sessions[s])
      if (const auto i = model_->items.find(id); i >= 1 && i < n)
        histories[s].push_back(data::Event{0, i, ++ts, 0, 0, 1.0f});
  }
  std::lock_guard<std::mutex> lock(mu_);
  const auto states = model_->model->encode_batch(ids, histories);
  std::vector<const models::UserState*> ptrs;
  for (const auto& st : states) ptrs.push_back(&st);
  return rank_locked(ptrs, query, cold);
}

std::vector<Because> Recommender::explain(const std::string& user, const std::string& item) {
  const auto& m = *model_->model;
  if (!m.capabilities().explain) throw NotSupported(m.name() + " cannot explain its recommendations");
  const auto idx = model_->items.find(item);
  if (idx < 1 || idx >= m.n_items()) throw NotFound("item '" + item + "' is unknown to the model");
  std::lock_guard<std::mutex> lock(mu_);
  auto& e = entry_locked(user);
  encode_locked({&e});
  std::vector<Because> out;
  for (const auto& a : m.explain(e.state, idx)) {
    const auto& ev = e.state.history.at(a.position);
    out.push_back({model_->items.name(a.item), ev.ts, model_->behaviors.name(ev.behavior), a.weight, a.position});
  }
  return out;
}

TopK Recommender::similar(const std::string& item, std::size_t k) {
  const auto& m = *model_->model;
  const auto idx = model_->items.find(item);
  if (idx < 1 || idx >= m.n_items()) throw NotFound("item '" + item + "' is unknown to the model");
  if (k == 0) throw InvalidInput("similar: k must be at least 1");
  const auto state = m.encode(-1, {data::Event{0, idx, 1, 0, 0, 1.0f}});
  models::RecommendOptions ro;
  ro.exclude_seen = true;
  return m.recommend(state, k, ro);
}

std::size_t Recommender::history_length(const std::string& user) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = users_.find(user);
  return it == users_.end() ? 0 : it->second.state.history.size();
}

std::size_t Recommender::users() const {
  std::lock_guard<std::mutex> lock(mu_);
  return users_.size();
}

}  // namespace driftrec::workflow
