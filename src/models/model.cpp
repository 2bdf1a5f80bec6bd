#include "driftrec/models/model.h"

#include <cmath>
#include <unordered_set>

#include "dense.h"
#include "driftrec/core/error.h"

namespace driftrec::models {

void Model::require_fitted() const {
  if (!fitted()) throw NotSupported(name() + ": model is not fitted (call fit or load a model directory)");
}

void Model::mask_padding(float* out) const { out[0] = -INFINITY; }

UserState Model::encode(std::int32_t user, const std::vector<data::Event>& history) const {
  require_fitted();
  UserState s;
  s.user = user >= 1 && user < n_users_ ? user : -1;
  s.history.reserve(history.size());
  for (const auto& e : history) {
    if (e.item < 0) throw InvalidInput(name() + ": negative item index in history");
    if (e.item >= 1 && e.item < n_items_) s.history.push_back(e);
  }
  return s;
}

std::vector<UserState> Model::encode_batch(const std::vector<std::int32_t>& users,
                                           const std::vector<std::vector<data::Event>>& histories) const {
  if (users.size() != histories.size()) throw InvalidInput(name() + ": encode_batch needs one history per user");
  std::vector<UserState> out;
  out.reserve(users.size());
  for (std::size_t i = 0; i < users.size(); ++i) out.push_back(encode(users[i], histories[i]));
  return out;
}

void Model::observe(UserState& state, const data::Event& event) const {
  require_fitted();
  if (event.item < 0) throw InvalidInput(name() + ": negative item index in event");
  if (event.item == 0 || event.item >= n_items_) return;
  state.history.push_back(event);
  ++state.version;
}

void Model::score_by_embeddings(const std::vector<const UserState*>& states, float* out) const {
  require_fitted();
  int dim = 0;
  const float* items = item_embeddings(&dim);
  if (!items) throw NotSupported(name() + ": no item embeddings to score with");
  score_by_matrix(states, items, dim, out);
}

void Model::score_by_matrix(const std::vector<const UserState*>& states, const float* items, int dim,
                            float* out) const {
  require_fitted();
  const auto d = static_cast<std::size_t>(dim);
  std::vector<float> U(states.size() * d);
  for (std::size_t b = 0; b < states.size(); ++b) {
    const auto q = query_vector(*states[b]);
    if (q.size() != d) throw InvalidInput(name() + ": user state was not made by this model");
    std::copy(q.begin(), q.end(), U.begin() + static_cast<std::ptrdiff_t>(b * d));
  }
  dense::scores(U.data(), states.size(), items, static_cast<std::size_t>(n_items_), d, out);
  for (std::size_t b = 0; b < states.size(); ++b) mask_padding(out + b * static_cast<std::size_t>(n_items_));
}

void Model::score_batch(const std::vector<const UserState*>& states, float* out) const {
  for (std::size_t b = 0; b < states.size(); ++b) score(*states[b], out + b * static_cast<std::size_t>(n_items_));
}

std::vector<TopK> Model::recommend(const std::vector<const UserState*>& states, std::size_t k,
                                   const RecommendOptions& opt) const {
  require_fitted();
  const auto n = static_cast<std::size_t>(n_items_);
  std::vector<float> scores(states.size() * n);
  score_batch(states, scores.data());
  std::vector<char> allowed;
  if (!opt.candidates.empty()) {
    allowed.assign(n, 0);
    for (auto c : opt.candidates) {
      if (c < 0) throw InvalidInput("negative candidate item index");
      if (c < n_items_) allowed[static_cast<std::size_t>(c)] = 1;
    }
  }
  std::vector<TopK> out;
  out.reserve(states.size());
  for (std::size_t b = 0; b < states.size(); ++b) {
    float* s = scores.data() + b * n;
    if (!allowed.empty())
      for (std::size_t i = 0; i < n; ++i)
        if (!allowed[i]) s[i] = -INFINITY;
    if (opt.exclude_seen)
      for (const auto& e : states[b]->history) s[static_cast<std::size_t>(e.item)] = -INFINITY;
    for (auto x : opt.exclude)
      if (x >= 0 && x < n_items_) s[static_cast<std::size_t>(x)] = -INFINITY;
    out.push_back(top_k(s, n, k));
  }
  return out;
}

TopK Model::recommend(const UserState& state, std::size_t k, const RecommendOptions& options) const {
  return recommend(std::vector<const UserState*>{&state}, k, options).front();
}

std::vector<Attribution> Model::explain(const UserState&, std::int32_t) const {
  throw NotSupported(name() + ": this model cannot explain its recommendations");
}

std::vector<std::vector<Attribution>> Model::explain_batch(const UserState& state,
                                                           const std::vector<std::int32_t>& items) const {
  std::vector<std::vector<Attribution>> out;
  out.reserve(items.size());
  for (const auto item : items) out.push_back(explain(state, item));
  return out;
}

std::vector<data::Event> user_history(const data::Dataset& ds, std::int32_t user) {
  return ds.log.events(ds.log.user_begin(user), ds.log.user_end(user));
}

}  // namespace driftrec::models
