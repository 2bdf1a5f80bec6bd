#include "driftrec/models/ease.h"

#include <algorithm>
#include <type_traits>

#include "driftrec/core/error.h"
#include "driftrec/core/parallel.h"
#include "driftrec/models/weights_io.h"
#include "linalg.h"

namespace driftrec::models {

const ParamSet& EaseModel::params() {
  static const ParamSet p(
      "ease",
      {
          float_param("lambda", 500.0, "L2 regularisation added to the diagonal of the item Gram matrix", 1e-9),
          string_param("precision", "auto",
                       "the solve's arithmetic: double (8 n^2 bytes), float (4 n^2 bytes, computed in the "
                       "weights' own buffer) or auto (double up to 20,000 items, float above)",
                       {"auto", "double", "float"}),
          int_param("max_items", 60000,
                    "refuse catalogues larger than this (the float solve holds 4 n^2 bytes, 14.4 GB at 60,000)", 2),
      });
  return p;
}

EaseModel::EaseModel(const nlohmann::json& config) : Model(params().resolve(config)) {}

namespace {

constexpr std::size_t kDoubleUpTo = 20000;  // precision auto: 3.2 GB in double

// G = X^T X + lambda I in T, row i accumulated from the histories of i's users (rows are disjoint).
template <typename T>
std::vector<T> gram(const linalg::Csr& X, const linalg::Csr& Xt, std::size_t n, double lambda, int threads) {
  std::vector<T> G(n * n, T(0));
  parallel_blocks(n, 64, threads, [&](std::size_t b, std::size_t e, int) {
    for (std::size_t i = b; i < e; ++i)
      for (auto q = Xt.offsets[i]; q < Xt.offsets[i + 1]; ++q) {
        const auto u = static_cast<std::size_t>(Xt.index[static_cast<std::size_t>(q)]);
        for (auto p = X.offsets[u]; p < X.offsets[u + 1]; ++p)
          G[i * n + static_cast<std::size_t>(X.index[static_cast<std::size_t>(p)])] += T(1);
      }
  });
  for (std::size_t i = 0; i < n; ++i) G[i * n + i] += static_cast<T>(lambda);
  return G;
}

// B_ij = -P_ij / P_jj off the diagonal, 0 on it and for the padding item 0. With T = float the
// weights are written over P in place (one n x n buffer in all).
template <typename T>
std::vector<float> weights_from_inverse(std::vector<T> P, std::size_t n, int threads) {
  std::vector<T> diag(n);
  for (std::size_t j = 0; j < n; ++j) diag[j] = P[j * n + j];
  std::vector<float> B;
  if constexpr (!std::is_same_v<T, float>) B.assign(n * n, 0.0f);
  parallel_blocks(n, 64, threads, [&](std::size_t b, std::size_t e, int) {
    for (std::size_t i = b; i < e; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        const auto w = (i == 0 || j == 0 || i == j) ? 0.0f : static_cast<float>(-P[i * n + j] / diag[j]);
        if constexpr (std::is_same_v<T, float>)
          P[i * n + j] = w;
        else
          B[i * n + j] = w;
      }
  });
  if constexpr (std::is_same_v<T, float>)
    return P;
  else
    return B;
}

template <typename T>
std::vector<float> solve(const linalg::Csr& X, std::size_t n, double lambda, const FitOptions& options) {
  const int threads = resolve_threads(options.threads);
  if (options.progress) options.progress({"train ease", 0, 2, "item Gram matrix"});
  auto G = gram<T>(X, linalg::transpose(X), n, lambda, threads);
  if (options.progress) options.progress({"train ease", 1, 2, "Cholesky inverse"});
  if (!linalg::spd_inverse(G, n)) throw Error("ease: the regularised Gram matrix is not positive definite");
  return weights_from_inverse(std::move(G), n, threads);
}

}  // namespace

void EaseModel::fit(const data::Dataset& train, const FitOptions& options) {
  if (train.log.size() == 0) throw InvalidInput("ease: no training events");
  const auto n = static_cast<std::size_t>(train.n_items());
  const auto precision = config_["precision"].get<std::string>();
  const bool in_double = precision == "double" || (precision == "auto" && n <= kDoubleUpTo);
  const auto max_items = static_cast<std::size_t>(config_["max_items"].get<long long>());
  if (n > max_items)
    throw InvalidInput("ease: " + std::to_string(n) + " items exceed max_items " + std::to_string(max_items) +
                       " (the closed form needs " + std::to_string((in_double ? 8 : 4) * n * n / (1 << 20)) +
                       " MiB); raise max_items if the memory is there");
  const auto X = linalg::binary_matrix(train.log, static_cast<std::size_t>(train.n_users()), n);
  const double lambda = config_["lambda"].get<double>();
  B_ = in_double ? solve<double>(X, n, lambda, options) : solve<float>(X, n, lambda, options);
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
  w.add_f32_view("B", B_, {n, n});
  w.add_i64("n_users", {n_users_}, {1});
  w.write(path);
}

void EaseModel::load_weights(const std::string& path) {
  WeightsReader r(path);
  const auto shape = r.shape("B");
  if (shape.size() != 2 || shape[0] != shape[1] || shape[0] < 2) throw CorruptModel(path + ": 'B' must be [n, n]");
  B_ = r.take_f32("B", shape);
  n_items_ = static_cast<std::int32_t>(shape[0]);
  n_users_ = static_cast<std::int32_t>(r.i64("n_users", {1})[0]);
}

}  // namespace driftrec::models
