#include <algorithm>
#include <cmath>
#include <numeric>

#include "dense.h"
#include "driftrec/core/error.h"
#include "driftrec/core/parallel.h"
#include "driftrec/core/rng.h"
#include "driftrec/models/classic.h"
#include "driftrec/models/weights_io.h"
#include "driftrec/privacy/dp_sgd_plan.h"
#include "driftrec/train/early_stopping.h"
#include "driftrec/train/epoch_loop.h"
#include "ials_rows.h"

namespace driftrec::models {

using ials::CountRows;
using ials::solve_row;

const ParamSet& IalsModel::params() {
  static const ParamSet p("ials",
                          {
                              int_param("factors", 64, "latent dimensions", 1, 1024),
                              int_param("iterations", 15, "maximum alternating sweeps (users then items)", 1, 10000),
                              float_param("reg", 0.1, "L2 regularisation (lambda)", 1e-9),
                              float_param("alpha", 2.0, "confidence slope: c = 1 + alpha * count", 0.0),
                              float_param("init_std", 0.01, "standard deviation of the initial item factors", 0.0),
                              int_param("patience", 2, "validation checks without improvement before stopping", 1),
                              train::min_delta_param(),
                              float_param("dp_epsilon", 0.0, "user-level DP budget (0 = not private)", 0.0),
                              float_param("dp_delta", 1e-5, "DP delta", 1e-12, 0.1),
                              float_param("dp_noise", 0.0, "noise multiplier (0 = calibrated to dp_epsilon)", 0.0),
                              int_param("dp_max_items", 32, "DP: items a user contributes at most (random subset)", 1),
                              float_param("dp_count_cap", 1.0, "DP: a user-item count is capped at this", 1e-6),
                          });
  return p;
}

IalsModel::IalsModel(const nlohmann::json& config) : Model(params().resolve(config)) {}

void IalsModel::fit(const data::Dataset& train, const FitOptions& options) {
  const auto& log = train.log;
  if (log.size() == 0) throw InvalidInput("ials: no training events");
  if (privacy::wants_dp(config_)) return fit_private(train, options);
  report_ = nlohmann::json::object();
  k_ = static_cast<int>(config_["factors"].get<long long>());
  const auto k = static_cast<std::size_t>(k_);
  const double reg = config_["reg"].get<double>(), alpha = config_["alpha"].get<double>();
  const int iterations = static_cast<int>(config_["iterations"].get<long long>());
  const int patience = static_cast<int>(config_["patience"].get<long long>());
  const auto nu = static_cast<std::size_t>(train.n_users()), ni = static_cast<std::size_t>(train.n_items());
  // User rows: distinct items with counts. Item rows: the transpose.
  const CountRows ur = ials::user_rows(log, nu), ir = ials::transpose(ur, ni);
  n_items_ = static_cast<std::int32_t>(ni);
  n_users_ = static_cast<std::int32_t>(nu);
  Rng rng(options.seed);
  const double std = config_["init_std"].get<double>();
  Y_.assign(ni * k, 0.0f);
  for (std::size_t i = 1; i < ni; ++i)
    for (std::size_t f = 0; f < k; ++f) Y_[i * k + f] = static_cast<float>(rng.normal() * std);
  std::vector<float> X(nu * k, 0.0f);
  const int threads = resolve_threads(options.threads);
  auto sweep = [&](const CountRows& rows, const std::vector<float>& F, std::vector<float>& out, std::size_t n) {
    const auto FtF = dense::gram(F.data(), F.size() / k, k);
    std::vector<std::vector<double>> As(static_cast<std::size_t>(threads), std::vector<double>(k * k)),
        bs(static_cast<std::size_t>(threads), std::vector<double>(k));
    parallel_blocks(n, 64, threads, [&](std::size_t b, std::size_t e, int t) {
      for (std::size_t r = std::max<std::size_t>(b, 1); r < e; ++r)
        solve_row(rows, r, F, FtF, k, reg, alpha, As[static_cast<std::size_t>(t)], bs[static_cast<std::size_t>(t)],
                  &out[r * k]);
    });
  };
  std::vector<float> best_Y;
  train::EpochHooks hooks;
  hooks.train = [&](int) {
    sweep(ur, Y_, X, nu);
    sweep(ir, X, Y_, ni);
    YtY_ = dense::gram(Y_.data(), ni, k);
    return train::EpochRecord::kNone;  // alternating least squares: no sampled loss to report
  };
  if (options.validate) hooks.validate = [&] { return options.validate(*this); };
  hooks.keep_best = [&] { best_Y = Y_; };
  train::run_epochs(
      {"train ials", iterations, 1, patience, {}, options.time_budget_s, config_["min_delta"].get<double>()}, hooks,
      options.on_epoch, options.progress);
  if (!best_Y.empty()) {
    Y_ = std::move(best_Y);
    YtY_ = dense::gram(Y_.data(), ni, k);
  }
}

void IalsModel::normal_equations(const std::vector<data::Event>& history, std::vector<double>& A,
                                 std::vector<double>& b, std::vector<std::pair<std::int32_t, double>>* conf) const {
  const auto k = static_cast<std::size_t>(k_);
  const double reg = config_["reg"].get<double>(), alpha = config_["alpha"].get<double>();
  std::vector<std::int32_t> items;
  items.reserve(history.size());
  for (const auto& e : history) items.push_back(e.item);
  std::sort(items.begin(), items.end());
  A = YtY_;
  b.assign(k, 0.0);
  for (std::size_t d = 0; d < k; ++d) A[d * k + d] += reg;
  for (std::size_t q = 0; q < items.size();) {
    std::size_t e = q;
    while (e < items.size() && items[e] == items[q]) ++e;
    const double c = 1.0 + alpha * static_cast<double>(e - q);
    const float* y = &Y_[static_cast<std::size_t>(items[q]) * k];
    for (std::size_t a = 0; a < k; ++a) {
      const double ya = (c - 1.0) * y[a];
      for (std::size_t d = 0; d <= a; ++d) A[a * k + d] += ya * y[d];
      b[a] += c * y[a];
    }
    if (conf) conf->emplace_back(items[q], c);
    q = e;
  }
  for (std::size_t a = 0; a < k; ++a)
    for (std::size_t d = a + 1; d < k; ++d) A[a * k + d] = A[d * k + a];
}

std::vector<float> IalsModel::fold_in(const std::vector<data::Event>& history) const {
  const auto k = static_cast<std::size_t>(k_);
  std::vector<float> x(k, 0.0f);
  if (history.empty()) return x;
  std::vector<double> A, b;
  normal_equations(history, A, b, nullptr);
  if (!dense::cholesky_solve(A, b, k)) throw Error("ials: fold-in system is not positive definite");
  for (std::size_t a = 0; a < k; ++a) x[a] = static_cast<float>(b[a]);
  return x;
}

UserState IalsModel::encode(std::int32_t user, const std::vector<data::Event>& history) const {
  UserState s = Model::encode(user, history);
  s.vector = fold_in(s.history);
  return s;
}

void IalsModel::observe(UserState& s, const data::Event& e) const {
  const auto before = s.version;
  Model::observe(s, e);
  if (s.version != before) s.vector = fold_in(s.history);
}

void IalsModel::score(const UserState& s, float* out) const { score_by_embeddings({&s}, out); }

void IalsModel::score_batch(const std::vector<const UserState*>& states, float* out) const {
  score_by_embeddings(states, out);
}

std::vector<Attribution> IalsModel::explain(const UserState& s, std::int32_t item) const {
  require_fitted();
  if (item <= 0 || item >= n_items_) throw InvalidInput("ials: item index out of range");
  const auto k = static_cast<std::size_t>(k_);
  if (s.history.empty()) return {};
  std::vector<double> A, b;
  std::vector<std::pair<std::int32_t, double>> conf;
  normal_equations(s.history, A, b, &conf);
  // w = A^-1 y_item, then each distinct past item j contributes c_j * w . y_j (sums to the score).
  std::vector<double> w(k);
  for (std::size_t a = 0; a < k; ++a) w[a] = Y_[static_cast<std::size_t>(item) * k + a];
  if (!dense::cholesky_solve(A, w, k)) throw Error("ials: explanation system is not positive definite");
  std::vector<Attribution> out;
  for (const auto& [j, c] : conf) {
    double dot = 0;
    for (std::size_t a = 0; a < k; ++a) dot += w[a] * Y_[static_cast<std::size_t>(j) * k + a];
    std::size_t pos = 0;  // the most recent occurrence carries the item's share
    for (std::size_t p = 0; p < s.history.size(); ++p)
      if (s.history[p].item == j) pos = p;
    out.push_back({pos, j, static_cast<float>(c * dot)});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Attribution& a, const Attribution& b) { return a.weight > b.weight; });
  return out;
}

void IalsModel::save_weights(const std::string& path) const {
  require_fitted();
  WeightsWriter w;
  w.add_f32("item_factors", Y_, {static_cast<std::uint64_t>(n_items_), static_cast<std::uint64_t>(k_)});
  w.add_i64("n_users", {n_users_}, {1});
  w.write(path);
}

void IalsModel::load_weights(const std::string& path) {
  WeightsReader r(path);
  const auto shape = r.shape("item_factors");
  const auto k = static_cast<std::uint64_t>(config_["factors"].get<long long>());
  if (shape.size() != 2 || shape[1] != k || shape[0] < 2)
    throw CorruptModel(path + ": item factors do not match factors=" + std::to_string(k) + " in the config");
  Y_ = r.f32("item_factors", shape);
  k_ = static_cast<int>(k);
  n_items_ = static_cast<std::int32_t>(shape[0]);
  n_users_ = static_cast<std::int32_t>(r.i64("n_users", {1})[0]);
  YtY_ = dense::gram(Y_.data(), static_cast<std::size_t>(n_items_), k);
}

}  // namespace driftrec::models
