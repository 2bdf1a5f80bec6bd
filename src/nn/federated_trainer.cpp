#include "federated_trainer.h"

#include <chrono>
#include <cmath>

#include "driftrec/core/error.h"
#include "driftrec/core/log.h"

namespace driftrec::nn {

FederatedSettings FederatedSettings::from_config(const nlohmann::json& c, const std::string& who) {
  FederatedSettings s;
  s.rounds = c["fed_rounds"].get<int64_t>();
  s.client_rate = c["fed_client_rate"].get<double>();
  s.local_epochs = c["fed_local_epochs"].get<int64_t>();
  s.client_lr = c["fed_client_lr"].get<double>();
  s.prox_mu = c["fed_prox_mu"].get<double>();
  s.server = c["fed_server"].get<std::string>();
  s.server_lr = c["fed_server_lr"].get<double>();
  s.sparse = c["fed_sparse"].get<bool>();
  s.secure = c["fed_secure"].get<bool>();
  s.mask_neighbors = c["fed_mask_neighbors"].get<int64_t>();
  s.dropout = c["fed_dropout"].get<double>();
  // The rate and dropout bounds are the parameters' own (ParamSet); rounds 0 means a centralised fit.
  if (s.rounds < 1) throw InvalidInput(who + "fed_rounds must be >= 1 for a federated fit");
  return s;
}

double ClientChange::clip(double bound) {
  torch::NoGradGuard g;
  double sq = 0;
  for (const auto& d : dense)
    if (d.defined()) sq += d.pow(2).sum().item<double>();
  if (row_delta.defined()) sq += row_delta.pow(2).sum().item<double>();
  const double norm = std::sqrt(sq);
  if (norm <= bound) return norm;
  const double s = bound / norm;
  for (auto& d : dense)
    if (d.defined()) d.mul_(s);
  if (row_delta.defined()) row_delta.mul_(s);
  return norm;
}

FederatedTrainer::FederatedTrainer(SequentialModel::Impl& m, const nlohmann::json& c, TrainingSet set,
                                   std::uint64_t seed, const std::string& who)
    : m_(m),
      set_(std::move(set)),
      seed_(seed),
      rng_root_(seed ^ 0xFED5EC),
      s_(FederatedSettings::from_config(c, who)),
      params_(unique_parameters(*m.net)),
      sparse_lookup_(c["loss"] != "softmax") {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (params_[i].is_same(m.net->emb->items->weight)) item_index_ = i;
    flat_size_ += params_[i].numel();
  }
  if (privacy::wants_dp(c)) {
    auto dp = privacy::DpSgdSettings::from_config(c, static_cast<std::int64_t>(clients()));
    dp_ = privacy::plan_sampled_gaussian(s_.client_rate, s_.rounds, dp, who);
    log_info(who + "DP-FedAvg over " + std::to_string(dp_->users) + " clients: rate " + std::to_string(dp_->q) +
             ", noise multiplier " + std::to_string(dp_->sigma) + ", " + std::to_string(dp_->steps) +
             " rounds, epsilon " + std::to_string(dp_->spent.epsilon) + " at delta " + std::to_string(dp_->delta));
  }
  server_opt_ = std::make_unique<torch::optim::AdamW>(
      params_, torch::optim::AdamWOptions(c["lr"].get<double>()).weight_decay(c["weight_decay"].get<double>()));
  torch::NoGradGuard g;
  for (const auto& p : params_) {
    global_.push_back(p.detach().clone());
    sum_.push_back(torch::zeros_like(p));
  }
}

ClientChange FederatedTrainer::client_change(std::size_t client) {
  ClientChange out;
  const auto& items = params_[item_index_];
  std::vector<torch::Tensor> touched;
  bool all_rows = false;
  const std::vector<std::size_t> one{client};
  const auto lr = s_.client_lr, mu = s_.prox_mu;
  for (int64_t e = 0; e < s_.local_epochs; ++e) {
    for (auto& p : params_) p.mutable_grad() = torch::Tensor();
    int64_t n = 0;
    const auto l = set_.loss(one, &n);
    if (n == 0) break;  // nothing to learn from this client: no change
    l.backward();
    if (e == 0) {
      out.loss = l.item<double>() * static_cast<double>(n);
      out.positions = n;
    }
    torch::NoGradGuard g;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      auto& p = params_[i];
      if (!p.grad().defined()) continue;
      if (p.grad().is_sparse()) {  // the item table looked up sparsely: step only its rows
        const auto grad = p.grad().coalesce();
        const auto idx = grad._indices()[0];
        auto v = grad._values();
        if (mu > 0) v = v + mu * (p.index_select(0, idx) - global_[i].index_select(0, idx));
        p.index_add_(0, idx, v, -lr);
        touched.push_back(idx);
      } else {
        all_rows = all_rows || i == item_index_;
        auto grad = p.grad();
        if (mu > 0) grad = grad + mu * (p - global_[i]);
        p.add_(grad, -lr);
      }
    }
  }
  torch::NoGradGuard g;
  for (auto& p : params_) p.mutable_grad() = torch::Tensor();
  out.dense.resize(params_.size());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (i == item_index_) continue;
    out.dense[i] = params_[i] - global_[i];
    params_[i].copy_(global_[i]);
  }
  if (all_rows)
    out.rows = torch::arange(items.size(0), torch::kLong);
  else if (!touched.empty())
    out.rows = std::get<0>(torch::_unique(torch::cat(touched), /*sorted=*/true));
  else
    out.rows = torch::zeros({0}, torch::kLong);
  const auto base = global_[item_index_].index_select(0, out.rows);
  out.row_delta = items.index_select(0, out.rows) - base;
  items.index_copy_(0, out.rows, base);
  return out;
}

std::uint64_t FederatedTrainer::bytes_up(const ClientChange& c) const {
  // Secure aggregation masks every weight as an 8-byte fixed-point value; otherwise a client sends
  // back exactly what it downloaded the shape of.
  return s_.secure ? static_cast<std::uint64_t>(flat_size_) * sizeof(std::uint64_t) : bytes_down(c);
}

std::uint64_t FederatedTrainer::bytes_down(const ClientChange& c) const {
  if (s_.secure || !s_.sparse) return static_cast<std::uint64_t>(flat_size_) * sizeof(float);
  const auto encoder = static_cast<std::uint64_t>(flat_size_ - params_[item_index_].numel());
  return encoder * sizeof(float) + static_cast<std::uint64_t>(c.rows.numel()) *
                                       (sizeof(std::int64_t) + sizeof(float) * static_cast<std::uint64_t>(m_.d));
}

std::vector<float> FederatedTrainer::flatten(const ClientChange& c) const {
  std::vector<float> flat(static_cast<std::size_t>(flat_size_), 0.0f);
  std::size_t at = 0;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor full;
    if (i == item_index_)
      full = torch::zeros_like(params_[i]).index_copy_(0, c.rows, c.row_delta);
    else
      full = c.dense[i];
    full = full.contiguous();
    std::copy_n(full.data_ptr<float>(), full.numel(), flat.begin() + static_cast<std::ptrdiff_t>(at));
    at += static_cast<std::size_t>(full.numel());
  }
  return flat;
}

void FederatedTrainer::unflatten(const std::vector<float>& flat) {
  std::size_t at = 0;
  for (auto& s : sum_) {
    const auto n = s.numel();
    s.copy_(torch::from_blob(const_cast<float*>(flat.data() + at), s.sizes(), torch::kFloat));
    at += static_cast<std::size_t>(n);
  }
}

void FederatedTrainer::receive(const ClientChange& c, std::int32_t id, const fed::SecureAggregation* secure,
                               fed::SecureAggregation::Sum* acc) {
  if (secure) {
    secure->receive(*acc, id, secure->mask(id, flatten(c)));
    return;
  }
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (i != item_index_) sum_[i].add_(c.dense[i]);
  sum_[item_index_].index_add_(0, c.rows, c.row_delta);
}

void FederatedTrainer::server_step(double denominator) {
  torch::NoGradGuard g;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    auto mean = sum_[i];
    if (dp_) mean.add_(torch::randn_like(mean), dp_->sigma * dp_->clip);
    mean.div_(denominator);
    if (s_.server == "avg")
      params_[i].add_(mean, s_.server_lr);
    else
      params_[i].mutable_grad() = -mean;
  }
  if (s_.server != "avg") server_opt_->step();
  for (auto& p : params_) p.mutable_grad() = torch::Tensor();
  m_.zero_padding_rows();
}

double FederatedTrainer::run(int round) {
  const auto t0 = std::chrono::steady_clock::now();
  const SparseItemGrad sparse_scope(*m_.net->emb, sparse_lookup_);
  m_.net->train();
  // Each round's randomness depends only on (seed, round), so a resumed run repeats it exactly.
  torch::manual_seed(seed_ + static_cast<std::uint64_t>(round) * 7919);
  Rng rng = rng_root_.fork(static_cast<std::uint64_t>(round));
  std::vector<std::size_t> picked;
  for (std::size_t c = 0; c < clients(); ++c)
    if (s_.client_rate >= 1 || rng.bernoulli(s_.client_rate)) picked.push_back(c);
  std::vector<std::int32_t> ids(picked.begin(), picked.end());
  {
    torch::NoGradGuard g;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      global_[i].copy_(params_[i]);
      sum_[i].zero_();
    }
  }
  std::optional<fed::SecureAggregation> secure;
  fed::SecureAggregation::Sum acc;
  if (s_.secure && !ids.empty()) {
    secure.emplace(ids, static_cast<std::size_t>(flat_size_),
                   seed_ ^ (static_cast<std::uint64_t>(round) * 0x9E3779B97F4A7C15ULL),
                   static_cast<std::size_t>(s_.mask_neighbors));
    acc = secure->start();
  }
  double loss = 0;
  int64_t positions = 0, arrived = 0;
  for (std::size_t k = 0; k < picked.size(); ++k) {
    auto change = client_change(picked[k]);
    loss += change.loss;
    positions += change.positions;
    if (dp_) change.clip(dp_->clip);
    down_ += bytes_down(change);
    if (s_.dropout > 0 && rng.bernoulli(s_.dropout)) {  // trained, masked, never arrived
      ++dropped_;
      continue;
    }
    up_ += bytes_up(change);
    receive(change, ids[k], secure ? &*secure : nullptr, &acc);
    ++arrived;
  }
  if (secure) unflatten(secure->finish(std::move(acc)));
  participations_ += picked.size();
  // DP: the mean over the expected number of clients (a denominator that does not depend on the data).
  const double denominator = dp_ ? s_.client_rate * static_cast<double>(clients()) : static_cast<double>(arrived);
  if (denominator > 0) server_step(denominator);
  round_ = round;
  m_.net->eval();
  m_.snapshot_items();
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return loss / static_cast<double>(std::max<int64_t>(1, positions));
}

void FederatedTrainer::save(Checkpoint& ckpt, const std::vector<torch::Tensor>& best, const train::EpochState& st) {
  ckpt.save(*m_.net, *server_opt_, best, {st.epoch, st.best, st.bad, round_, st.stopped}, nullptr);
}

train::EpochState FederatedTrainer::load(Checkpoint& ckpt, std::vector<torch::Tensor>& best) {
  const auto st = ckpt.load(*m_.net, *server_opt_, best, nullptr);
  round_ = st.step;
  counted_from_ = round_ + 1;
  return {st.epoch, st.best, st.bad, st.stopped};
}

nlohmann::json FederatedTrainer::report() const {
  nlohmann::json fed = {{"clients", clients()},
                        {"rounds", round_},
                        {"client_rate", s_.client_rate},
                        {"local_epochs", s_.local_epochs},
                        {"client_lr", s_.client_lr},
                        {"prox_mu", s_.prox_mu},
                        {"server", s_.server},
                        {"participations", participations_},
                        {"dropped", dropped_},
                        {"bytes_up", up_},
                        {"bytes_down", down_},
                        {"bytes_counted_from_round", counted_from_},
                        {"secure_aggregation", s_.secure},
                        {"sparse", s_.sparse && !s_.secure},
                        {"seconds", seconds_}};
  nlohmann::json out = {{"federated", fed}};
  if (dp_) {
    out["privacy"] = dp_->report().at("privacy");
    out["privacy"]["unit"] = "user (client)";
    out["privacy"]["mechanism"] =
        "DP-FedAvg: Poisson-sampled clients, each client's change clipped over all weights, Gaussian noise on the sum";
    out["privacy"]["rounds"] = dp_->steps;
  }
  return out;
}

}  // namespace driftrec::nn
