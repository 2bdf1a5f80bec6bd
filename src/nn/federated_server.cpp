#include "driftrec/nn/federated_server.h"

#include <algorithm>

#include "driftrec/core/error.h"
#include "federated_internal.h"

namespace driftrec::nn {

FederatedServer::State::State(SequentialModel::Impl& model, const nlohmann::json& c, std::size_t n_clients,
                              std::uint64_t s_seed, const std::string& who)
    : m(model),
      layout(model),
      s(FederatedSettings::from_config(c, who)),
      clients(n_clients),
      seed(s_seed),
      rng_root(s_seed ^ 0xFED5EC) {
  if (clients == 0) throw InvalidInput(who + "a federation needs at least one client");
  if (privacy::wants_dp(c)) {
    const auto settings = privacy::DpSgdSettings::from_config(c, static_cast<std::int64_t>(clients));
    dp = privacy::plan_sampled_gaussian(s.client_rate, s.rounds, settings, who);
  }
  opt = std::make_unique<torch::optim::AdamW>(
      layout.params(), torch::optim::AdamWOptions(c["lr"].get<double>()).weight_decay(c["weight_decay"].get<double>()));
  for (const auto& p : layout.params()) sum.push_back(torch::zeros_like(p));
}

void FederatedServer::State::step(double denominator) {
  torch::NoGradGuard g;
  const auto& params = layout.params();
  for (std::size_t i = 0; i < params.size(); ++i) {
    auto mean = sum[i];
    if (dp) mean.add_(torch::randn_like(mean), dp->sigma * dp->clip);
    mean.div_(denominator);
    auto p = params[i];
    if (s.server == "avg")
      p.add_(mean, s.server_lr);
    else
      p.mutable_grad() = -mean;
  }
  if (s.server != "avg") opt->step();
  for (auto p : params) p.mutable_grad() = torch::Tensor();
  m.zero_padding_rows();
}

FederatedServer::FederatedServer(SequentialModel& model, std::size_t clients, std::uint64_t seed) {
  if (!model.impl_->net) throw InvalidInput("federated server: the model is not built (fit, prepare or load it first)");
  state_ = std::make_unique<State>(*model.impl_, model.config(), clients, seed, "federated server: ");
}

FederatedServer::FederatedServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

FederatedServer::~FederatedServer() = default;

std::size_t FederatedServer::clients() const { return state_->clients; }

FederatedRound FederatedServer::open_round(std::int64_t round) {
  auto& st = *state_;
  if (st.open)
    throw InvalidInput("federated server: round " + std::to_string(st.round.round) + " is still open (close it first)");
  if (round < 1) throw InvalidInput("federated server: rounds are numbered from 1");
  // Each round's sample depends only on (seed, round), so a resumed run repeats it exactly.
  Rng rng = st.rng_root.fork(static_cast<std::uint64_t>(round));
  FederatedRound r;
  r.round = round;
  for (std::size_t c = 0; c < st.clients; ++c)
    if (st.s.client_rate >= 1 || rng.bernoulli(st.s.client_rate)) r.clients.push_back(static_cast<std::int32_t>(c));
  st.acc.reset();
  if (st.s.secure && !r.clients.empty()) {
    r.secure =
        std::make_shared<fed::SecureAggregation>(r.clients, static_cast<std::size_t>(st.layout.flat_size()),
                                                 st.seed ^ (static_cast<std::uint64_t>(round) * 0x9E3779B97F4A7C15ULL),
                                                 static_cast<std::size_t>(st.s.mask_neighbors));
    st.acc = r.secure->start();
  }
  {
    torch::NoGradGuard g;
    for (auto& s : st.sum) s.zero_();
  }
  st.arrived.assign(r.clients.size(), 0);
  st.n_arrived = 0;
  st.round = r;
  st.open = true;
  return r;
}

void FederatedServer::receive(const FederatedUpdate& u) {
  auto& st = *state_;
  const std::string who = "federated server: ";
  if (!st.open) throw InvalidInput(who + "no round is open");
  if (u.round != st.round.round)
    throw InvalidInput(who + "an update for round " + std::to_string(u.round) + " in round " +
                       std::to_string(st.round.round));
  const auto& ids = st.round.clients;
  const auto it = std::lower_bound(ids.begin(), ids.end(), u.client);
  if (it == ids.end() || *it != u.client)
    throw InvalidInput(who + "client " + std::to_string(u.client) + " was not sampled in round " +
                       std::to_string(u.round));
  const auto pos = static_cast<std::size_t>(it - ids.begin());
  if (st.arrived[pos])
    throw InvalidInput(who + "client " + std::to_string(u.client) + " already sent its update for round " +
                       std::to_string(u.round));
  if (u.is_masked() != static_cast<bool>(st.round.secure))
    throw InvalidInput(
        who + "client " + std::to_string(u.client) +
        (st.round.secure ? " sent a plain update in a secure round" : " sent a masked update in a plain round"));
  st.layout.check(u, who);
  if (st.round.secure)
    st.round.secure->receive(*st.acc, u.client, u.masked);
  else
    st.layout.add(u, st.sum);
  st.arrived[pos] = 1;
  ++st.n_arrived;
}

std::size_t FederatedServer::close_round() {
  auto& st = *state_;
  if (!st.open) throw InvalidInput("federated server: no round is open");
  st.open = false;
  if (st.round.secure && st.n_arrived > 0) st.layout.unflatten(st.round.secure->finish(std::move(*st.acc)), st.sum);
  st.acc.reset();
  // DP: the mean over the expected number of clients (a denominator that does not depend on the data).
  const double denominator =
      st.dp ? st.s.client_rate * static_cast<double>(st.clients) : static_cast<double>(st.n_arrived);
  if (denominator > 0) st.step(denominator);
  st.m.net->eval();
  st.m.snapshot_items();
  return st.n_arrived;
}

nlohmann::json FederatedServer::privacy_report() const {
  const auto& st = *state_;
  if (!st.dp) return nlohmann::json::object();
  nlohmann::json out = {{"privacy", st.dp->report().at("privacy")}};
  auto& p = out["privacy"];
  p["unit"] = "user (client)";
  p["mechanism"] =
      "DP-FedAvg: Poisson-sampled clients, each client's change clipped over all weights, Gaussian noise on the sum";
  p["rounds"] = st.dp->steps;
  return out;
}

}  // namespace driftrec::nn
