#include "federated_trainer.h"

#include <chrono>

#include "driftrec/core/log.h"

namespace driftrec::nn {

FederatedTrainer::FederatedTrainer(SequentialModel::Impl& m, const nlohmann::json& c, TrainingSet set,
                                   std::uint64_t seed, const std::string& who)
    : m_(m),
      c_(c),
      set_(std::move(set)),
      seed_(seed),
      dropout_root_(seed ^ 0xD80F),
      server_(std::make_unique<FederatedServer::State>(m, c, set_.sequences().seqs.size(), seed, who)),
      s_(server_.state_->s),
      layout_(server_.state_->layout) {
  if (const auto& dp = server_.state_->dp)
    log_info(who + "DP-FedAvg over " + std::to_string(dp->users) + " clients: rate " + std::to_string(dp->q) +
             ", noise multiplier " + std::to_string(dp->sigma) + ", " + std::to_string(dp->steps) +
             " rounds, epsilon " + std::to_string(dp->spent.epsilon) + " at delta " + std::to_string(dp->delta));
  torch::NoGradGuard g;
  for (const auto& p : layout_.params()) global_.push_back(p.detach().clone());
}

FederatedClient FederatedTrainer::client(std::int32_t id) {
  auto local = std::make_unique<FederatedClient::Local>(
      FederatedClient::Local{m_, c_, nullptr, &set_, static_cast<std::size_t>(id), id, s_, std::nullopt, 0, 0});
  if (const auto& dp = server_.state_->dp) local->clip = dp->clip;
  return FederatedClient(std::move(local));
}

FederatedUpdate FederatedTrainer::client_update(std::size_t id) {
  snapshot_global();
  auto c = client(static_cast<std::int32_t>(id));
  c.local_->clip.reset();
  FederatedRound plain;
  plain.clients = {static_cast<std::int32_t>(id)};
  return c.local_->change(plain, layout_, global_);
}

void FederatedTrainer::snapshot_global() {
  torch::NoGradGuard g;
  for (std::size_t i = 0; i < global_.size(); ++i) global_[i].copy_(layout_.params()[i]);
}

std::uint64_t FederatedTrainer::bytes_down(const FederatedUpdate& u) const {
  if (s_.secure || !s_.sparse) return static_cast<std::uint64_t>(layout_.flat_size()) * sizeof(float);
  return static_cast<std::uint64_t>(layout_.dense_size()) * sizeof(float) +
         static_cast<std::uint64_t>(u.rows.size()) *
             (sizeof(std::int64_t) + sizeof(float) * static_cast<std::uint64_t>(layout_.width()));
}

double FederatedTrainer::run(int round) {
  const auto t0 = std::chrono::steady_clock::now();
  // Each round's randomness depends only on (seed, round), so a resumed run repeats it exactly.
  torch::manual_seed(seed_ + static_cast<std::uint64_t>(round) * 7919);
  Rng dropout = dropout_root_.fork(static_cast<std::uint64_t>(round));
  const auto r = server_.open_round(round);
  snapshot_global();
  double loss = 0;
  int64_t positions = 0;
  for (const auto id : r.clients) {
    auto c = client(id);
    // The plain update first (for the bytes a client fetches), masked as the client masks it.
    auto u = c.local_->change(r, layout_, global_);
    loss += c.last_loss();
    positions += c.last_positions();
    down_ += bytes_down(u);
    if (s_.dropout > 0 && dropout.bernoulli(s_.dropout)) {  // trained, masked, never arrived
      ++dropped_;
      continue;
    }
    if (r.secure) u = mask_update(u, *r.secure, layout_);
    up_ += u.wire_size();
    server_.receive(u);
  }
  server_.close_round();
  participations_ += r.clients.size();
  round_ = round;
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return loss / static_cast<double>(std::max<int64_t>(1, positions));
}

void FederatedTrainer::save(Checkpoint& ckpt, const std::vector<torch::Tensor>& best, const train::EpochState& st) {
  ckpt.save(*m_.net, *server_.state_->opt, best, {st.epoch, st.best, st.bad, round_, st.stopped}, nullptr);
}

train::EpochState FederatedTrainer::load(Checkpoint& ckpt, std::vector<torch::Tensor>& best) {
  const auto st = ckpt.load(*m_.net, *server_.state_->opt, best, nullptr);
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
  const auto priv = server_.privacy_report();
  if (priv.contains("privacy")) out["privacy"] = priv["privacy"];
  return out;
}

}  // namespace driftrec::nn
