#include "driftrec/models/ease.h"

#include <algorithm>

#include "driftrec/core/error.h"
#include "driftrec/core/parallel.h"
#include "driftrec/models/weights_io.h"
#include "linalg.h"

namespace driftrec::models {

const ParamSet& EaseModel::params() {
  static const ParamSet p(
      "ease", {
                  float_param("lambda", 500.0, "L2 regularisation added to the diagonal of the item Gram matrix", 1e-9),
                  int_param("max_items", 30000,
                            "refuse catalogues larger than this (the solve holds 8 n^2 bytes, 7.2 GB at 30,000)", 2),
              });
  return p;
}

EaseModel::EaseModel(const nlohmann::json& config) : Model(params().resolve(config)) {}

void EaseModel::fit(const data::Dataset& train, const FitOptions& options) {
  if (train.log.size() == 0) throw InvalidInput("ease: no training events");
  const auto n = static_cast<std::size_t>(train.n_items());
  const auto max_items = static_cast<std::size_t>(config_["max_items"].get<long long>());
  if (n > max_items)
    throw InvalidInput("ease: " + std::to_string(n) + " items exceed max_items " + std::to_string(max_items) +
                       " (the closed form needs " + std::to_string(8 * n * n / (1 << 20)) +
                       " MiB); raise max_items if the memory is there");
  const auto X = linalg::binary_matrix(train.log, static_cast<std::size_t>(train.n_users()), n);
  const auto Xt = linalg::transpose(X);
  // G = X^T X + lambda I, row i accumulated from the histories of i's users (rows are disjoint).
  std::vector<double> G(n * n, 0.0);
  const int threads = resolve_threads(options.threads);
  if (options.progress) options.progress({"train ease", 0, 2, "item Gram matrix"});
  parallel_blocks(n, 64, threads, [&](std::size_t b, std::size_t e, int) {
    for (std::size_t i = b; i < e; ++i)
      for (auto q = Xt.offsets[i]; q < Xt.offsets[i + 1]; ++q) {
        const auto u = static_cast<std::size_t>(Xt.index[static_cast<std::size_t>(q)]);
        for (auto p = X.offsets[u]; p < X.offsets[u + 1]; ++p)
          G[i * n + static_cast<std::size_t>(X.index[static_cast<std::size_t>(p)])] += 1.0;
      }
  });
  const double lambda = config_["lambda"].get<double>();
  for (std::size_t i = 0; i < n; ++i) G[i * n + i] += lambda;
  if (options.progress) options.progress({"train ease", 1, 2, "Cholesky inverse"});
  if (!linalg::spd_inverse(G, n)) throw Error("ease: the regularised Gram matrix is not positive definite");
  // B_ij = -P_ij / P_jj off the diagonal, 0 on it.
  B_.assign(n * n, 0.0f);
  for (std::size_t i = 1; i < n; ++i)
    for (std::size_t j = 1; j < n; ++j)
      if (i != j) B_[i * n + j] = static_cast<float>(-G[i * n + j] / G[j * n + j]);
  n_items_ = static_cast<std::int32_t>(n);
  n_users_ = train.n_users();
  if (options.progress) options.progress({"train ease", 2, 2, ""});
}

void EaseModel::score(const UserState& s, float* out) const {
  require_fitted();
  const auto n = static_cast<std::size_t>(n_items_);
  std::fill(out, out + n, 0.0f);
  for (const auto& [i, pos] : linalg::distinct_items(s.history, n_items_)) {
    (void)pos;
    const float* row = B_.data() + static_cast<std::size_t>(i) * n;
    for (std::size_t j = 0; j < n; ++j) out[j] += row[j];
  }
  mask_padding(out);
}

std::vector<Attribution> EaseModel::explain(const UserState& s, std::int32_t item) const {
  require_fitted();
  if (item <= 0 || item >= n_items_) throw InvalidInput("ease: item index out of range");
  const auto n = static_cast<std::size_t>(n_items_);
  std::vector<Attribution> out;
  for (const auto& [i, pos] : linalg::distinct_items(s.history, n_items_))
    out.push_back({pos, i, B_[static_cast<std::size_t>(i) * n + static_cast<std::size_t>(item)]});
  std::stable_sort(out.begin(), out.end(),
                   [](const Attribution& x, const Attribution& y) { return x.weight > y.weight; });
  return out;
}

void EaseModel::save_weights(const std::string& path) const {
  require_fitted();
  WeightsWriter w;
  const auto n = static_cast<std::uint64_t>(n_items_);
  w.add_f32("B", B_, {n, n});
  w.add_i64("n_users", {n_users_}, {1});
  w.write(path);
}

void EaseModel::load_weights(const std::string& path) {
  WeightsReader r(path);
  const auto shape = r.shape("B");
  if (shape.size() != 2 || shape[0] != shape[1] || shape[0] < 2) throw CorruptModel(path + ": 'B' must be [n, n]");
  B_ = r.f32("B", shape);
  n_items_ = static_cast<std::int32_t>(shape[0]);
  n_users_ = static_cast<std::int32_t>(r.i64("n_users", {1})[0]);
}

}  // namespace driftrec::models
