// User-level differentially private BPR: DP-SGD on the item side, each user's factor private to them.
//
// The unit of privacy is a user's whole history. Each step samples users independently with rate
// q = dp_batch_users / users (Poisson). A sampled user draws dp_pairs (positive, negative) pairs from
// their history, updates their own factor on them (it is never released: a private model keeps no
// user rows and folds users in from their history at serving time), and computes their gradient of
// the item factors and biases: sparse, only the rows of the items in their pairs. That gradient is
// clipped to L2 norm dp_clip, the clipped gradients are summed, and Gaussian noise of std
// dp_noise * dp_clip is added to every entry of the item matrix (dense, once per step: rows nobody
// touched must be as noisy as the others). Memory per user is proportional to the rows they touch;
// the one catalogue-sized buffer is the step's sum.
//
// The RDP accountant composes the planned steps; with dp_epsilon the noise multiplier is the
// smallest that spends at most it, with dp_noise the spent epsilon is computed and a fit that would
// exceed a given dp_epsilon is refused before it starts. No validation is used (model selection on
// validation data is outside the accounting): the last step's model is released.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "driftrec/core/error.h"
#include "driftrec/models/bpr_sampling.h"
#include "driftrec/models/classic.h"
#include "driftrec/privacy/dp_sgd_plan.h"
#include "driftrec/train/epoch_loop.h"

namespace driftrec::models {

namespace {
/// One user's sparse gradient of the item matrix: rows touched and their K values.
class SparseRows {
 public:
  explicit SparseRows(std::size_t k) : k_(k) {}
  void clear() {
    slot_.clear();
    rows_.clear();
    values_.clear();
  }
  /// values of `row` += scale * v[0..K)
  void add(std::int32_t row, float scale, const float* v) {
    auto [it, fresh] = slot_.try_emplace(row, rows_.size());
    if (fresh) {
      rows_.push_back(row);
      values_.resize(values_.size() + k_, 0.0f);
    }
    float* out = &values_[it->second * k_];
    for (std::size_t f = 0; f < k_; ++f) out[f] += scale * v[f];
  }
  /// Adds the rows, scaled to L2 norm at most `clip`, into the dense [rows, K] matrix `sum`.
  void add_clipped_to(std::vector<float>& sum, double clip) const {
    double sq = 0;
    for (float x : values_) sq += static_cast<double>(x) * x;
    const float scale = sq > clip * clip ? static_cast<float>(clip / std::sqrt(sq)) : 1.0f;
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      float* out = &sum[static_cast<std::size_t>(rows_[r]) * k_];
      const float* v = &values_[r * k_];
      for (std::size_t f = 0; f < k_; ++f) out[f] += scale * v[f];
    }
  }

 private:
  std::size_t k_;
  std::unordered_map<std::int32_t, std::size_t> slot_;
  std::vector<std::int32_t> rows_;
  std::vector<float> values_;
};

using Pairs = std::vector<std::pair<std::int32_t, std::int32_t>>;

inline float margin(const float* p, const float* qi, const float* qj, std::size_t K) {
  float x = 0;
  for (std::size_t f = 0; f < K; ++f) x += p[f] * (qi[f] - qj[f]);
  return x;
}

/// The user's own factor, three SGD passes over their drawn pairs (local: never released).
void local_user_update(float* p, const std::vector<float>& Q, const Pairs& drawn, std::size_t K, float lr, float reg) {
  for (int pass = 0; pass < 3; ++pass)
    for (const auto& [i, j] : drawn) {
      const float* qi = &Q[static_cast<std::size_t>(i) * K];
      const float* qj = &Q[static_cast<std::size_t>(j) * K];
      const float g = bpr::sigmoid(-margin(p, qi, qj, K));
      for (std::size_t f = 0; f + 1 < K; ++f) p[f] += lr * (g * (qi[f] - qj[f]) - reg * p[f]);
    }
}

/// The user's gradient of the item rows (ascent direction of the mean log-likelihood of their
/// pairs) into `grad`; returns the summed BPR loss of the pairs.
double user_gradient(const float* p, const std::vector<float>& Q, const Pairs& drawn, std::size_t K, SparseRows& grad) {
  grad.clear();
  double loss = 0;
  for (const auto& [i, j] : drawn) {
    const float x = margin(p, &Q[static_cast<std::size_t>(i) * K], &Q[static_cast<std::size_t>(j) * K], K);
    loss += std::log1p(std::exp(-static_cast<double>(x)));
    const float g = bpr::sigmoid(-x) / static_cast<float>(drawn.size());
    grad.add(i, g, p);
    grad.add(j, -g, p);
  }
  return loss;
}
}  // namespace

void BprModel::fit_private(const data::Dataset& train, const FitOptions& options) {
  train::refuse_time_budget(options.time_budget_s, "bpr");
  const auto& log = train.log;
  const auto& c = config_;
  n_items_ = train.n_items();
  n_users_ = train.n_users();
  const auto users = static_cast<std::int64_t>(n_users_) - 1;
  const auto plan = privacy::plan_dp_sgd(privacy::DpSgdSettings::from_config(c, users), "bpr: ");
  k_ = static_cast<int>(c["factors"].get<long long>());
  const auto K = static_cast<std::size_t>(k_) + 1;
  const float lr = static_cast<float>(c["lr"].get<double>());
  const float reg = static_cast<float>(c["reg"].get<double>());
  const double dp_lr = c["dp_lr"].get<double>(), weight_decay = c["dp_weight_decay"].get<double>();
  const int pairs = static_cast<int>(c["dp_pairs"].get<long long>());
  Rng rng(options.seed);
  const double std = c["init_std"].get<double>();
  P_.assign(static_cast<std::size_t>(n_users_) * K, 0.0f);
  Q_.assign(static_cast<std::size_t>(n_items_) * K, 0.0f);
  for (std::size_t u = 1; u < static_cast<std::size_t>(n_users_); ++u) P_[u * K + K - 1] = 1.0f;
  for (std::size_t i = 1; i < static_cast<std::size_t>(n_items_); ++i)
    for (std::size_t f = 0; f + 1 < K; ++f) Q_[i * K + f] = static_cast<float>(rng.normal() * std);
  const auto seen = bpr::seen_items(log, n_users_);
  std::vector<float> sum(Q_.size()), diff(K);
  Pairs drawn;
  SparseRows grad(K);
  const double expected_batch = plan.expected_batch();

  // One user's turn in a step: local update of their own factor, then their clipped item gradient.
  const auto user_turn = [&](std::int32_t u, double* loss, std::int64_t* n_pairs) {
    const auto len = log.user_length(u);
    if (len == 0) return;
    drawn.clear();
    for (int k = 0; k < pairs; ++k) {
      const auto r = log.user_begin(u) + static_cast<std::int64_t>(rng.uniform_int(static_cast<std::uint64_t>(len)));
      drawn.emplace_back(log.item[static_cast<std::size_t>(r)],
                         bpr::sample_negative(rng, n_items_, seen[static_cast<std::size_t>(u)]));
    }
    float* p = &P_[static_cast<std::size_t>(u) * K];
    local_user_update(p, Q_, drawn, K, lr, reg);
    *loss += user_gradient(p, Q_, drawn, K, grad);
    *n_pairs += pairs;
    grad.add_clipped_to(sum, plan.clip);
  };

  const auto step = [&](double* loss, std::int64_t* n_pairs) {
    std::fill(sum.begin(), sum.end(), 0.0f);
    for (std::int32_t u = 1; u < n_users_; ++u)
      if (rng.bernoulli(plan.q)) user_turn(u, loss, n_pairs);
    const double noise = plan.sigma * plan.clip;
    const float rate = static_cast<float>(dp_lr / expected_batch), decay = static_cast<float>(weight_decay);
    for (std::size_t e = K; e < sum.size(); ++e)  // row 0 is padding
      Q_[e] += rate * (sum[e] + static_cast<float>(rng.normal() * noise)) - decay * Q_[e];
  };

  train::EpochHooks hooks;
  hooks.train = [&](int) {
    double loss = 0;
    std::int64_t n_pairs = 0;
    for (std::int64_t s = 0; s < plan.steps_per_epoch; ++s) step(&loss, &n_pairs);
    return n_pairs > 0 ? loss / static_cast<double>(n_pairs) : train::EpochRecord::kNone;
  };
  const int epochs = static_cast<int>(c["epochs"].get<long long>());
  train::run_epochs({"train bpr (private)", epochs, 0, epochs + 1, {}}, hooks, options.on_epoch, options.progress);

  // Release: the item side only. No user slots at all: no user rows, no per-user event counts, and
  // the model directory gets no user list (model_dir.cpp).
  n_users_ = 1;
  P_.assign(K, 0.0f);
  trained_events_.assign(1, 0);
  config_["dp_noise"] = plan.sigma;
  report_ = plan.report();
}

}  // namespace driftrec::models
