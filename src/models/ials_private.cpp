// Private iALS by sufficient-statistics perturbation (after Chien et al., ICML 2021, "Private
// Alternating Least Squares"): user-level DP of the released item factors.
//
// Users solve their own factors exactly (they are never released: iALS folds users in from their
// history at serving time) and scale them to norm 1 (scaling up, not only clipping: the noise is
// set by the bound, so factors at the bound carry the most signal through it). Each user contributes at most
// dp_max_items items (a seeded random subset) with counts capped at dp_count_cap, so c <= c_max = 1 + alpha * cap. The
// item step needs, per iteration, the Gram matrix of all user factors and, per item, the confidence-weighted sums sum
// (c-1) x x^T and sum c x over its users. Adding or removing one user changes this whole collection by at most Delta =
// sqrt(1 + m ((c_max - 1)^2 + c_max^2)) in L2 (Frobenius for the matrices), so Gaussian noise of std sigma * Delta on
// every entry (upper triangles mirrored) makes each iteration a Gaussian mechanism with noise multiplier sigma; the
// iterations compose in RDP (q = 1). The noisy systems get a ridge of 2 sigma Delta sqrt(k) on top
// of reg (the noise's spectral norm is about that), which keeps them positive definite. No
// validation is used; the last iteration is released.
#include <algorithm>
#include <cmath>

#include "dense.h"
#include "driftrec/core/error.h"
#include "driftrec/core/parallel.h"
#include "driftrec/core/rng.h"
#include "driftrec/models/classic.h"
#include "driftrec/privacy/rdp_accountant.h"
#include "driftrec/train/epoch_loop.h"
#include "ials_rows.h"

namespace driftrec::models {

namespace {
/// Keeps at most `m` items per user (a seeded random subset) with counts capped at `cap`.
ials::CountRows bounded(const ials::CountRows& ur, std::size_t m, float cap, std::uint64_t seed) {
  ials::CountRows out;
  const auto nu = ur.offsets.size() - 1;
  out.offsets.assign(nu + 1, 0);
  std::vector<std::size_t> idx;
  for (std::size_t u = 0; u < nu; ++u) {
    idx.clear();
    for (auto q = ur.offsets[u]; q < ur.offsets[u + 1]; ++q) idx.push_back(static_cast<std::size_t>(q));
    if (idx.size() > m) {
      Rng rng(seed ^ ((u + 1) * 0x9E3779B97F4A7C15ULL));
      for (std::size_t a = 0; a < m; ++a) std::swap(idx[a], idx[a + rng.uniform_int(idx.size() - a)]);
      idx.resize(m);
      std::sort(idx.begin(), idx.end());
    }
    for (auto q : idx) {
      out.cols.push_back(ur.cols[q]);
      out.counts.push_back(std::min(ur.counts[q], cap));
    }
    out.offsets[u + 1] = static_cast<std::int64_t>(out.cols.size());
  }
  return out;
}

/// Adds symmetric Gaussian noise (upper triangle drawn, mirrored) of std `s` to the k x k matrix A.
void add_symmetric_noise(std::vector<double>& A, std::size_t k, double s, Rng& rng) {
  for (std::size_t a = 0; a < k; ++a)
    for (std::size_t d = a; d < k; ++d) {
      const double z = rng.normal() * s;
      A[a * k + d] += z;
      if (d != a) A[d * k + a] += z;
    }
}

struct ItemSolve {
  std::size_t k;
  double alpha, ridge, noise_std;
};

/// One item's factor from its noisy sufficient statistics: (G + ridge I + sum (c-1) x x^T + N) y =
/// sum c x + n over the item's (bounded) users, N symmetric and n Gaussian of std noise_std. A
/// system the noise left indefinite gives y = 0.
void noisy_item_solve(const ials::CountRows& items, std::size_t i, const std::vector<float>& X,
                      const std::vector<double>& G, const ItemSolve& p, Rng& rng, std::vector<double>& A,
                      std::vector<double>& rhs, float* y) {
  const auto k = p.k;
  A = G;
  std::fill(rhs.begin(), rhs.end(), 0.0);
  for (std::size_t a = 0; a < k; ++a) A[a * k + a] += p.ridge;
  for (auto q = items.offsets[i]; q < items.offsets[i + 1]; ++q) {
    const float* x = &X[static_cast<std::size_t>(items.cols[static_cast<std::size_t>(q)]) * k];
    const double conf = 1.0 + p.alpha * items.counts[static_cast<std::size_t>(q)];
    for (std::size_t a = 0; a < k; ++a) {
      for (std::size_t d = 0; d < k; ++d) A[a * k + d] += (conf - 1.0) * x[a] * x[d];
      rhs[a] += conf * x[a];
    }
  }
  add_symmetric_noise(A, k, p.noise_std, rng);
  for (auto& v : rhs) v += rng.normal() * p.noise_std;
  if (!dense::cholesky_solve(A, rhs, k)) {
    std::fill(y, y + k, 0.0f);
    return;
  }
  for (std::size_t a = 0; a < k; ++a) y[a] = static_cast<float>(rhs[a]);
}
}  // namespace

namespace {
/// The parameters of a private fit that model.json records beside the spent budget.
struct PrivateFit {
  double sigma, sensitivity, delta, epsilon_target, count_cap;
  std::size_t max_items;
  int iterations;
  std::size_t users;
};

nlohmann::json privacy_report(const privacy::Epsilon& spent, const PrivateFit& f) {
  return {{"privacy",
           {{"unit", "user"},
            {"mechanism", "sufficient-statistics perturbation (Gaussian), contribution bounding"},
            {"accountant", "RDP of the Gaussian mechanism over the iterations, Balle et al. 2020 conversion"},
            {"epsilon", spent.epsilon},
            {"delta", f.delta},
            {"rdp_order", spent.order},
            {"noise_multiplier", f.sigma},
            {"sensitivity", f.sensitivity},
            {"max_items_per_user", f.max_items},
            {"count_cap", f.count_cap},
            {"iterations", f.iterations},
            {"users", static_cast<std::int64_t>(f.users)},
            {"epsilon_target", f.epsilon_target}}}};
}
}  // namespace

void IalsModel::fit_private(const data::Dataset& train, const FitOptions& options) {
  train::refuse_time_budget(options.time_budget_s, "ials");
  const auto& c = config_;
  k_ = static_cast<int>(c["factors"].get<long long>());
  const auto k = static_cast<std::size_t>(k_);
  const double reg = c["reg"].get<double>(), alpha = c["alpha"].get<double>();
  const int iterations = static_cast<int>(c["iterations"].get<long long>());
  const auto nu = static_cast<std::size_t>(train.n_users()), ni = static_cast<std::size_t>(train.n_items());
  const auto m = static_cast<std::size_t>(c["dp_max_items"].get<long long>());
  const double cap = c["dp_count_cap"].get<double>(), delta = c["dp_delta"].get<double>();
  const double target = c["dp_epsilon"].get<double>();
  double sigma = c["dp_noise"].get<double>();
  if (sigma <= 0) sigma = privacy::calibrate_noise_multiplier(1.0, iterations, target, delta);
  const auto spent = privacy::dp_sgd_epsilon(1.0, sigma, iterations, delta);
  if (target > 0 && spent.epsilon > target)
    throw InvalidInput("ials: dp_noise=" + std::to_string(sigma) + " over " + std::to_string(iterations) +
                       " iterations spends epsilon=" + std::to_string(spent.epsilon) +
                       " > dp_epsilon=" + std::to_string(target) + "; training refused");
  const double c_max = 1.0 + alpha * cap;
  const double sensitivity = std::sqrt(1.0 + static_cast<double>(m) * ((c_max - 1) * (c_max - 1) + c_max * c_max));
  const double s = sigma * sensitivity, ridge = reg + 2.0 * s * std::sqrt(static_cast<double>(k));

  const auto ur = bounded(ials::user_rows(train.log, nu), m, static_cast<float>(cap), options.seed);
  const auto ir = ials::transpose(ur, ni);
  n_items_ = static_cast<std::int32_t>(ni);
  n_users_ = static_cast<std::int32_t>(nu);
  Rng init(options.seed);
  Y_.assign(ni * k, 0.0f);
  for (std::size_t i = 1; i < ni; ++i)
    for (std::size_t f = 0; f < k; ++f) Y_[i * k + f] = static_cast<float>(init.normal() * c["init_std"].get<double>());
  std::vector<float> X(nu * k, 0.0f);
  const int threads = resolve_threads(options.threads);

  const auto iteration = [&](int it) {
    // Users: exact local solves against the public item factors, clipped to norm 1.
    const auto YtY = dense::gram(Y_.data(), ni, k);
    parallel_blocks(nu, 64, threads, [&](std::size_t b, std::size_t e, int) {
      std::vector<double> A(k * k), rhs(k);
      for (std::size_t u = std::max<std::size_t>(b, 1); u < e; ++u) {
        float* x = &X[u * k];
        ials::solve_row(ur, u, Y_, YtY, k, reg, alpha, A, rhs, x);
        double n2 = 0;
        for (std::size_t f = 0; f < k; ++f) n2 += static_cast<double>(x[f]) * x[f];
        if (n2 > 0.0)
          for (std::size_t f = 0; f < k; ++f) x[f] = static_cast<float>(x[f] / std::sqrt(n2));
      }
    });
    // Items: noisy sufficient statistics. Each item's noise comes from its own seeded stream, so
    // the result does not depend on the number of threads.
    const auto seed = [&](std::size_t i) {
      return options.seed ^ ((i + 1) * 0x9E3779B97F4A7C15ULL) ^ (std::uint64_t(it) << 48);
    };
    auto G = dense::gram(X.data(), nu, k);
    Rng g_rng(seed(0));
    add_symmetric_noise(G, k, s, g_rng);
    parallel_blocks(ni, 64, threads, [&](std::size_t b, std::size_t e, int) {
      std::vector<double> A(k * k), rhs(k);
      for (std::size_t i = std::max<std::size_t>(b, 1); i < e; ++i) {
        Rng rng(seed(i));
        noisy_item_solve(ir, i, X, G, {k, alpha, ridge, s}, rng, A, rhs, &Y_[i * k]);
      }
    });
  };
  train::EpochHooks hooks;
  hooks.train = [&](int epoch) {
    iteration(epoch);
    return train::EpochRecord::kNone;
  };
  train::run_epochs({"train ials (private)", iterations, 0, iterations + 1, {}}, hooks, options.on_epoch,
                    options.progress);
  YtY_ = dense::gram(Y_.data(), ni, k);
  n_users_ = 1;  // no user slots: users are folded in, and the model directory lists no users
  config_["dp_noise"] = sigma;
  report_ = privacy_report(spent, {sigma, sensitivity, delta, target, cap, m, iterations, nu - 1});
}

}  // namespace driftrec::models
