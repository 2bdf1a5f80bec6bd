#include "driftrec/ope/reward_model.h"

#include <cmath>
#include <numeric>

#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"

namespace driftrec::ope {

namespace {

std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Feature id of (kind, a, b) in a table of 2^bits weights.
std::uint32_t feature(std::uint64_t kind, std::uint64_t a, std::uint64_t b, int bits) {
  return static_cast<std::uint32_t>(mix(mix(kind * 0x9E3779B97F4A7C15ULL + a) ^ (b + 0x632BE59BD9B4E019ULL)) >>
                                    (64 - bits));
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

}  // namespace

void TabularRewardModel::fit(const BanditLog& log, const std::vector<std::size_t>& rows) {
  n_actions_ = log.n_actions;
  const std::size_t cells = static_cast<std::size_t>(log.n_positions) * n_actions_;
  std::vector<double> clicks(cells, 0.0), shown(cells, 0.0), pos_clicks(log.n_positions, 0.0),
      pos_shown(log.n_positions, 0.0);
  for (std::size_t i : rows) {
    const std::size_t c = static_cast<std::size_t>(log.position[i]) * n_actions_ + log.action[i];
    clicks[c] += log.reward[i];
    shown[c] += 1.0;
    pos_clicks[log.position[i]] += log.reward[i];
    pos_shown[log.position[i]] += 1.0;
  }
  table_.assign(cells, 0.0f);
  for (std::int32_t p = 0; p < log.n_positions; ++p) {
    const double mean = pos_shown[p] > 0 ? pos_clicks[p] / pos_shown[p] : 0.0;
    for (std::int32_t a = 0; a < n_actions_; ++a) {
      const std::size_t c = static_cast<std::size_t>(p) * n_actions_ + a;
      table_[c] = static_cast<float>((clicks[c] + strength_ * mean) / (shown[c] + strength_));
    }
  }
}

void TabularRewardModel::predict(const BanditLog& log, std::size_t row, float* out) const {
  const float* t = table_.data() + static_cast<std::size_t>(log.position[row]) * n_actions_;
  std::copy(t, t + n_actions_, out);
}

double LogisticRewardModel::logit(const BanditLog& log, std::size_t row, std::int32_t action,
                                  std::vector<std::uint32_t>* features) const {
  const int bits = o_.hash_bits;
  const auto pos = static_cast<std::uint64_t>(log.position[row]);
  features->clear();
  features->push_back(feature(1, 0, 0, bits));  // bias
  features->push_back(feature(2, action, 0, bits));
  features->push_back(feature(3, pos, 0, bits));
  features->push_back(feature(4, action, pos, bits));
  for (std::size_t c = 0; c < log.categorical.size(); ++c)
    features->push_back(feature(100 + c, static_cast<std::uint64_t>(log.categorical[c][row]), action, bits));
  double z = 0;
  for (auto f : *features) z += w_[f];
  // Numeric columns: one weight per (column, action), times the value (stored after the features).
  for (std::size_t c = 0; c < log.numeric.size(); ++c) {
    const float x = log.numeric[c][row];
    if (x != 0.0f) z += w_[feature(10000 + c, action, 0, bits)] * x;
  }
  return z;
}

void LogisticRewardModel::fit(const BanditLog& log, const std::vector<std::size_t>& rows) {
  const std::size_t dim = std::size_t{1} << o_.hash_bits;
  w_.assign(dim, 0.0f);
  g2_.assign(dim, 1e-6f);
  std::vector<std::size_t> order(rows);
  Rng rng(o_.seed);
  std::vector<std::uint32_t> feats;
  auto step = [&](std::uint32_t f, double g) {
    g += o_.l2 * w_[f];
    g2_[f] += static_cast<float>(g * g);
    w_[f] -= static_cast<float>(o_.lr * g / std::sqrt(g2_[f]));
  };
  for (int e = 0; e < o_.epochs; ++e) {
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.uniform_int(i)]);
    for (std::size_t i : order) {
      const std::int32_t a = log.action[i];
      const double g = sigmoid(logit(log, i, a, &feats)) - log.reward[i];
      for (auto f : feats) step(f, g);
      for (std::size_t c = 0; c < log.numeric.size(); ++c) {
        const float x = log.numeric[c][i];
        if (x != 0.0f) step(feature(10000 + c, a, 0, o_.hash_bits), g * x);
      }
    }
  }
}

void LogisticRewardModel::predict(const BanditLog& log, std::size_t row, float* out) const {
  std::vector<std::uint32_t> feats;
  for (std::int32_t a = 0; a < log.n_actions; ++a) out[a] = static_cast<float>(sigmoid(logit(log, row, a, &feats)));
}

RewardEstimates RewardEstimates::cross_fit(const BanditLog& log,
                                           const std::function<std::unique_ptr<RewardModel>()>& make, int folds,
                                           std::uint64_t seed) {
  if (folds < 1) throw InvalidInput("reward-model folds must be at least 1");
  const std::size_t n = log.size();
  if (n < static_cast<std::size_t>(folds)) throw InvalidInput("fewer logged rows than reward-model folds");
  std::vector<std::uint8_t> fold(n, 0);
  if (folds > 1) {
    std::vector<std::size_t> perm(n);
    std::iota(perm.begin(), perm.end(), 0);
    Rng rng(seed);
    for (std::size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[rng.uniform_int(i)]);
    for (std::size_t k = 0; k < n; ++k) fold[perm[k]] = static_cast<std::uint8_t>(k % folds);
  }
  RewardEstimates out;
  out.n_actions_ = log.n_actions;
  out.block_.resize(n);
  for (int f = 0; f < folds; ++f) {
    std::vector<std::size_t> train, held;
    for (std::size_t i = 0; i < n; ++i) (folds == 1 || fold[i] != f ? train : held).push_back(i);
    if (folds == 1) held = train;
    auto model = make();
    model->fit(log, train);
    if (model->context_free()) {
      // One block per position for this fold.
      const std::size_t base = out.blocks();
      out.values_.resize((base + log.n_positions) * out.n_actions_);
      std::vector<bool> filled(log.n_positions, false);
      for (std::size_t i : held) {
        const auto p = log.position[i];
        if (!filled[p]) {
          model->predict(log, i, out.values_.data() + (base + p) * out.n_actions_);
          filled[p] = true;
        }
        out.block_[i] = static_cast<std::uint32_t>(base + p);
      }
    } else {
      for (std::size_t i : held) {
        const std::size_t b = out.blocks();
        out.values_.resize((b + 1) * out.n_actions_);
        model->predict(log, i, out.values_.data() + b * out.n_actions_);
        out.block_[i] = static_cast<std::uint32_t>(b);
      }
    }
  }
  return out;
}

std::unique_ptr<RewardModel> make_reward_model(const std::string& name, std::uint64_t seed) {
  if (name == "tabular") return std::make_unique<TabularRewardModel>();
  if (name == "logistic") {
    LogisticRewardModel::Options o;
    o.seed = seed;
    return std::make_unique<LogisticRewardModel>(o);
  }
  throw InvalidInput("unknown reward model '" + name + "' (tabular, logistic)");
}

}  // namespace driftrec::ope
