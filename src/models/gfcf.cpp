#include "driftrec/models/gfcf.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "driftrec/core/error.h"
#include "driftrec/core/parallel.h"
#include "driftrec/models/weights_io.h"
#include "linalg.h"

namespace driftrec::models {

const ParamSet& GfcfModel::params() {
  static const ParamSet p(
      "gfcf",
      {
          int_param("k", 256, "singular vectors of the ideal low-pass filter", 1, 100000),
          float_param("alpha", 0.3, "weight of the ideal low-pass filter (0 = linear filter only)", 0.0),
          int_param("oversample", 128, "randomized SVD: extra sketch columns beyond k", 0, 100000),
          int_param("power_iters", 16, "randomized SVD: power iterations (more = closer to the exact SVD)", 0, 100),
      });
  return p;
}

GfcfModel::GfcfModel(const nlohmann::json& config) : Model(params().resolve(config)) {}

void GfcfModel::fit(const data::Dataset& train, const FitOptions& options) {
  if (train.log.size() == 0) throw InvalidInput("gfcf: no training events");
  const auto t0 = std::chrono::steady_clock::now();
  const auto n_users = static_cast<std::size_t>(train.n_users());
  const auto n_items = static_cast<std::size_t>(train.n_items());
  auto R = linalg::binary_matrix(train.log, n_users, n_items);
  const auto item_degree = linalg::normalize_bipartite(R);  // R~ = Du^-1/2 R Di^-1/2
  const int threads = resolve_threads(options.threads);
  if (options.progress) options.progress({"train gfcf", 0, 2, "truncated SVD"});
  const auto k = static_cast<std::size_t>(config_["k"].get<long long>());
  const auto svd =
      linalg::randomized_svd(R, k, static_cast<std::size_t>(config_["oversample"].get<long long>()),
                             static_cast<int>(config_["power_iters"].get<long long>()), options.seed, threads);
  k_ = static_cast<int>(svd.k);
  query_side_.assign(n_items * svd.k, 0.0f);
  score_side_.assign(n_items * svd.k, 0.0f);
  for (std::size_t i = 1; i < n_items; ++i) {
    if (item_degree[i] == 0) continue;
    const double root = std::sqrt(item_degree[i]);
    for (std::size_t j = 0; j < svd.k; ++j) {
      query_side_[i * svd.k + j] = static_cast<float>(svd.V[i * svd.k + j] / root);
      score_side_[i * svd.k + j] = static_cast<float>(svd.V[i * svd.k + j] * root);
    }
  }
  user_offsets_ = std::move(R.offsets);
  user_items_ = std::move(R.index);
  user_values_.assign(R.value.begin(), R.value.end());
  n_users_ = static_cast<std::int32_t>(n_users);
  n_items_ = static_cast<std::int32_t>(n_items);
  index_items();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report_ = {{"filter",
              {{"singular_vectors", k_},
               {"top_singular_value", svd.sigma.empty() ? 0.0 : svd.sigma.front()},
               {"last_singular_value", svd.sigma.empty() ? 0.0 : svd.sigma.back()},
               {"seconds", seconds}}}};
  if (options.progress) options.progress({"train gfcf", 2, 2, ""});
}

void GfcfModel::index_items() {
  linalg::Csr R;
  R.rows = static_cast<std::size_t>(n_users_);
  R.cols = static_cast<std::size_t>(n_items_);
  R.offsets = user_offsets_;
  R.index = user_items_;
  R.value.assign(user_values_.begin(), user_values_.end());
  const auto T = linalg::transpose(R);
  item_offsets_ = T.offsets;
  item_users_ = T.index;
  item_values_.assign(T.value.begin(), T.value.end());
}

std::vector<float> GfcfModel::query_vector(const UserState& s) const {
  require_fitted();
  const auto k = static_cast<std::size_t>(k_);
  std::vector<float> q(k, 0.0f);
  const float alpha = static_cast<float>(config_["alpha"].get<double>());
  for (const auto& [i, pos] : linalg::distinct_items(s.history, n_items_)) {
    (void)pos;
    const float* row = query_side_.data() + static_cast<std::size_t>(i) * k;
    for (std::size_t j = 0; j < k; ++j) q[j] += alpha * row[j];
  }
  return q;
}

void GfcfModel::add_linear_filter(const UserState& s, float* out) const {
  // t = R~ r (a weight per training user), then out += t^T R~.
  std::vector<float> t(static_cast<std::size_t>(n_users_), 0.0f);
  std::vector<std::int32_t> touched;
  for (const auto& [i, pos] : linalg::distinct_items(s.history, n_items_)) {
    (void)pos;
    for (auto q = item_offsets_[static_cast<std::size_t>(i)]; q < item_offsets_[static_cast<std::size_t>(i) + 1]; ++q) {
      const auto v = static_cast<std::size_t>(item_users_[static_cast<std::size_t>(q)]);
      if (t[v] == 0.0f) touched.push_back(static_cast<std::int32_t>(v));
      t[v] += item_values_[static_cast<std::size_t>(q)];
    }
  }
  std::sort(touched.begin(), touched.end());
  for (auto vi : touched) {
    const auto v = static_cast<std::size_t>(vi);
    const float w = t[v];
    for (auto q = user_offsets_[v]; q < user_offsets_[v + 1]; ++q)
      out[user_items_[static_cast<std::size_t>(q)]] += w * user_values_[static_cast<std::size_t>(q)];
  }
}

void GfcfModel::score(const UserState& s, float* out) const { score_batch({&s}, out); }

void GfcfModel::score_batch(const std::vector<const UserState*>& states, float* out) const {
  score_by_matrix(states, score_side_.data(), k_, out);
  for (std::size_t b = 0; b < states.size(); ++b)
    add_linear_filter(*states[b], out + b * static_cast<std::size_t>(n_items_));
}

std::vector<Attribution> GfcfModel::explain(const UserState& s, std::int32_t item) const {
  require_fitted();
  if (item <= 0 || item >= n_items_) throw InvalidInput("gfcf: item index out of range");
  const auto k = static_cast<std::size_t>(k_);
  const float alpha = static_cast<float>(config_["alpha"].get<double>());
  const auto j = static_cast<std::size_t>(item);
  std::vector<Attribution> out;
  for (const auto& [i, pos] : linalg::distinct_items(s.history, n_items_)) {
    // (R~^T R~)_ij: the users of i and j, both lists sorted by user.
    const auto ui = static_cast<std::size_t>(i);
    auto a = item_offsets_[ui], b = item_offsets_[j];
    float linear = 0.0f;
    while (a < item_offsets_[ui + 1] && b < item_offsets_[j + 1]) {
      const auto va = item_users_[static_cast<std::size_t>(a)], vb = item_users_[static_cast<std::size_t>(b)];
      if (va == vb)
        linear += item_values_[static_cast<std::size_t>(a++)] * item_values_[static_cast<std::size_t>(b++)];
      else if (va < vb)
        ++a;
      else
        ++b;
    }
    float low = 0.0f;
    for (std::size_t c = 0; c < k; ++c) low += query_side_[ui * k + c] * score_side_[j * k + c];
    out.push_back({pos, i, linear + alpha * low});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Attribution& x, const Attribution& y) { return x.weight > y.weight; });
  return out;
}

void GfcfModel::save_weights(const std::string& path) const {
  require_fitted();
  WeightsWriter w;
  const auto k = static_cast<std::uint64_t>(k_);
  const auto n = static_cast<std::uint64_t>(n_items_);
  w.add_i64("user_offsets", user_offsets_, {user_offsets_.size()});
  w.add_i32("user_items", user_items_, {user_items_.size()});
  w.add_f32("user_values", user_values_, {user_values_.size()});
  w.add_f32("query_side", query_side_, {n, k});
  w.add_f32("score_side", score_side_, {n, k});
  w.write(path);
}

void GfcfModel::load_weights(const std::string& path) {
  WeightsReader r(path);
  const auto qs = r.shape("query_side");
  if (qs.size() != 2 || qs[0] < 2 || qs[1] < 1) throw CorruptModel(path + ": 'query_side' must be [n_items, k]");
  const auto os = r.shape("user_offsets");
  if (os.size() != 1 || os[0] < 1) throw CorruptModel(path + ": 'user_offsets' must have at least 1 entry");
  auto offsets = r.i64("user_offsets", os);
  const auto nnz = static_cast<std::uint64_t>(offsets.back());
  auto items = r.i32("user_items", {nnz});
  auto values = r.f32("user_values", {nnz});
  for (std::size_t u = 0; u + 1 < offsets.size(); ++u)
    if (offsets[0] != 0 || offsets[u] > offsets[u + 1]) throw CorruptModel(path + ": user offsets are not monotone");
  for (auto i : items)
    if (i <= 0 || static_cast<std::uint64_t>(i) >= qs[0]) throw CorruptModel(path + ": item index out of range");
  query_side_ = r.f32("query_side", qs);
  score_side_ = r.f32("score_side", qs);
  user_offsets_ = std::move(offsets);
  user_items_ = std::move(items);
  user_values_ = std::move(values);
  n_items_ = static_cast<std::int32_t>(qs[0]);
  n_users_ = static_cast<std::int32_t>(os[0] - 1);
  k_ = static_cast<int>(qs[1]);
  index_items();
}

}  // namespace driftrec::models
