#include <algorithm>
#include <cmath>

#include "dense.h"
#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"
#include "driftrec/models/bpr_sampling.h"
#include "driftrec/models/classic.h"
#include "driftrec/models/weights_io.h"
#include "driftrec/privacy/dp_sgd_plan.h"
#include "driftrec/train/early_stopping.h"
#include "driftrec/train/epoch_loop.h"

namespace driftrec::models {

const ParamSet& BprModel::params() {
  static const ParamSet p(
      "bpr", {
                 int_param("factors", 64, "latent dimensions", 1, 4096),
                 int_param("epochs", 50, "maximum passes over the training events", 1, 100000),
                 float_param("lr", 0.05, "SGD learning rate", 1e-8, 10.0),
                 float_param("reg", 0.001, "L2 regularisation of factors and biases", 0.0),
                 float_param("init_std", 0.1, "standard deviation of the initial factors", 0.0),
                 int_param("eval_every", 5, "epochs between validation checks for early stopping (0 = never)", 0),
                 int_param("patience", 2, "validation checks without improvement before stopping", 1),
                 train::min_delta_param(),
                 int_param("fold_in_epochs", 10, "SGD passes over a new user's history in encode()", 1),
                 int_param("online_steps", 5, "SGD steps per observed event", 0),
                 bool_param("fold_in_all", false,
                            "fold every user in from their history (the model holds no user rows, e.g. federated)"),
                 float_param("dp_epsilon", 0.0, "user-level differential privacy budget (0 = not private)", 0.0),
                 float_param("dp_delta", 1e-5, "DP delta (at most 1 / number of users is customary)", 1e-12, 0.1),
                 float_param("dp_clip", 1.0, "per-user L2 bound of the item-factor gradient", 1e-6),
                 float_param("dp_noise", 0.0,
                             "noise multiplier (0 = the smallest that meets dp_epsilon over the planned steps)", 0.0),
                 int_param("dp_batch_users", 1024, "expected users per DP-SGD step (Poisson sampling)", 1),
                 int_param("dp_pairs", 32, "training pairs drawn from a sampled user's history per step", 1),
                 float_param("dp_lr", 20.0, "DP-SGD learning rate of the item factors", 1e-8, 1e6),
                 float_param("dp_weight_decay", 0.02, "DP-SGD: share of the item factors decayed per step", 0.0, 1.0),
             });
  return p;
}

BprModel::BprModel(const nlohmann::json& config) : Model(params().resolve(config)) {}

using bpr::sample_negative;
using bpr::sigmoid;
using bpr::sorted_items;

void BprModel::fit(const data::Dataset& train, const FitOptions& options) {
  const auto& log = train.log;
  if (log.size() == 0) throw InvalidInput("bpr: no training events");
  if (train.n_items() < 3) throw InvalidInput("bpr: needs at least 2 items");
  k_ = static_cast<int>(config_["factors"].get<long long>());
  const auto K = static_cast<std::size_t>(k_) + 1;  // + bias column
  const float lr = static_cast<float>(config_["lr"].get<double>());
  const float reg = static_cast<float>(config_["reg"].get<double>());
  const int epochs = static_cast<int>(config_["epochs"].get<long long>());
  const int eval_every = static_cast<int>(config_["eval_every"].get<long long>());
  const int patience = static_cast<int>(config_["patience"].get<long long>());
  if (privacy::wants_dp(config_)) return fit_private(train, options);
  report_ = nlohmann::json::object();
  n_items_ = train.n_items();
  n_users_ = train.n_users();
  Rng rng(options.seed);
  const double std = config_["init_std"].get<double>();
  P_.assign(static_cast<std::size_t>(n_users_) * K, 0.0f);
  Q_.assign(static_cast<std::size_t>(n_items_) * K, 0.0f);
  for (std::size_t u = 0; u < static_cast<std::size_t>(n_users_); ++u) {
    for (std::size_t f = 0; f < K - 1; ++f) P_[u * K + f] = static_cast<float>(rng.normal() * std);
    P_[u * K + K - 1] = 1.0f;
  }
  for (std::size_t i = 0; i < static_cast<std::size_t>(n_items_); ++i)
    for (std::size_t f = 0; f < K - 1; ++f) Q_[i * K + f] = static_cast<float>(rng.normal() * std);

  const auto seen = bpr::seen_items(log, n_users_);
  trained_events_.assign(static_cast<std::size_t>(n_users_), 0);
  for (std::int32_t u = 1; u < n_users_; ++u)
    trained_events_[static_cast<std::size_t>(u)] = static_cast<std::int32_t>(log.user_length(u));
  std::vector<std::size_t> order(log.size());
  for (std::size_t r = 0; r < order.size(); ++r) order[r] = r;
  std::vector<float> best_P, best_Q;
  std::vector<float> grad_u(K);
  train::EpochHooks hooks;
  hooks.train = [&](int) {
    for (std::size_t r = order.size(); r > 1; --r) std::swap(order[r - 1], order[rng.uniform_int(r)]);
    double loss = 0;
    for (auto r : order) {
      const auto u = static_cast<std::size_t>(log.user[r]);
      const auto i = static_cast<std::size_t>(log.item[r]);
      const auto j = static_cast<std::size_t>(sample_negative(rng, n_items_, seen[u]));
      float* p = &P_[u * K];
      float* qi = &Q_[i * K];
      float* qj = &Q_[j * K];
      float x = 0;
      for (std::size_t f = 0; f < K; ++f) x += p[f] * (qi[f] - qj[f]);
      const float g = sigmoid(-x);
      loss += std::log1p(std::exp(-static_cast<double>(x)));
      for (std::size_t f = 0; f + 1 < K; ++f) grad_u[f] = g * (qi[f] - qj[f]) - reg * p[f];
      for (std::size_t f = 0; f < K; ++f) {
        const float pf = p[f];
        qi[f] += lr * (g * pf - reg * qi[f]);
        qj[f] += lr * (-g * pf - reg * qj[f]);
      }
      for (std::size_t f = 0; f + 1 < K; ++f) p[f] += lr * grad_u[f];
    }
    return loss / static_cast<double>(order.size());
  };
  if (options.validate) hooks.validate = [&] { return options.validate(*this); };
  hooks.keep_best = [&] {
    best_P = P_;
    best_Q = Q_;
  };
  train::run_epochs(
      {"train bpr", epochs, eval_every, patience, {}, options.time_budget_s, config_["min_delta"].get<double>()}, hooks,
      options.on_epoch, options.progress);
  if (!best_P.empty()) {
    P_ = std::move(best_P);
    Q_ = std::move(best_Q);
  }
}

void BprModel::sgd_user(std::vector<float>& p, std::int32_t pos, const std::vector<std::int32_t>& seen_sorted,
                        std::uint64_t seed, int steps) const {
  const auto K = static_cast<std::size_t>(k_) + 1;
  const float lr = static_cast<float>(config_["lr"].get<double>());
  const float reg = static_cast<float>(config_["reg"].get<double>());
  Rng rng(seed);
  const float* qi = &Q_[static_cast<std::size_t>(pos) * K];
  for (int s = 0; s < steps; ++s) {
    const float* qj = &Q_[static_cast<std::size_t>(sample_negative(rng, n_items_, seen_sorted)) * K];
    float x = 0;
    for (std::size_t f = 0; f < K; ++f) x += p[f] * (qi[f] - qj[f]);
    const float g = sigmoid(-x);
    for (std::size_t f = 0; f + 1 < K; ++f) p[f] += lr * (g * (qi[f] - qj[f]) - reg * p[f]);
  }
}

UserState BprModel::encode(std::int32_t user, const std::vector<data::Event>& history) const {
  UserState s = Model::encode(user, history);
  const auto K = static_cast<std::size_t>(k_) + 1;
  if (s.user >= 1 && !private_users()) {
    // The trained factor, then online updates for the events that came after training.
    s.vector.assign(P_.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(s.user) * K),
                    P_.begin() + static_cast<std::ptrdiff_t>((static_cast<std::size_t>(s.user) + 1) * K));
    auto events = std::move(s.history);
    const auto trained =
        std::min(events.size(), static_cast<std::size_t>(trained_events_[static_cast<std::size_t>(s.user)]));
    s.history.assign(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(trained));
    for (std::size_t p = trained; p < events.size(); ++p) observe(s, events[p]);
    s.version = 0;
    return s;
  }
  s.vector.assign(K, 0.0f);
  s.vector[K - 1] = 1.0f;
  const auto seen = sorted_items(s.history);
  const int epochs = static_cast<int>(config_["fold_in_epochs"].get<long long>());
  for (int ep = 0; ep < epochs; ++ep)
    for (std::size_t p = 0; p < s.history.size(); ++p)
      sgd_user(s.vector, s.history[p].item, seen, (static_cast<std::uint64_t>(ep) << 32) ^ p, 1);
  return s;
}

bool BprModel::private_users() const { return config_["fold_in_all"].get<bool>() || privacy::wants_dp(config_); }

void BprModel::observe(UserState& s, const data::Event& e) const {
  const auto before = s.version;
  Model::observe(s, e);
  if (s.version == before) return;  // unknown item: ignored
  sgd_user(s.vector, e.item, sorted_items(s.history),
           0x5EED0000ULL ^ s.version ^ (static_cast<std::uint64_t>(e.item) << 20),
           static_cast<int>(config_["online_steps"].get<long long>()));
}

void BprModel::score(const UserState& s, float* out) const { score_by_embeddings({&s}, out); }

void BprModel::score_batch(const std::vector<const UserState*>& states, float* out) const {
  score_by_embeddings(states, out);
}

void BprModel::save_weights(const std::string& path) const {
  require_fitted();
  const auto K = static_cast<std::uint64_t>(k_) + 1;
  WeightsWriter w;
  w.add_f32("user_factors", P_, {static_cast<std::uint64_t>(n_users_), K});
  w.add_f32("item_factors", Q_, {static_cast<std::uint64_t>(n_items_), K});
  w.add_i32("trained_events", trained_events_, {static_cast<std::uint64_t>(n_users_)});
  w.write(path);
}

void BprModel::load_weights(const std::string& path) {
  WeightsReader r(path);
  const auto us = r.shape("user_factors"), is = r.shape("item_factors");
  const auto K = static_cast<std::uint64_t>(config_["factors"].get<long long>()) + 1;
  if (us.size() != 2 || is.size() != 2 || us[1] != K || is[1] != K)
    throw CorruptModel(path + ": factor shapes do not match factors=" + std::to_string(K - 1) + " in the config");
  P_ = r.f32("user_factors", us);
  Q_ = r.f32("item_factors", is);
  trained_events_ = r.i32("trained_events", {us[0]});
  k_ = static_cast<int>(K - 1);
  n_users_ = static_cast<std::int32_t>(us[0]);
  n_items_ = static_cast<std::int32_t>(is[0]);
}

}  // namespace driftrec::models
