#include "driftrec/nn/federated_client.h"

#include "driftrec/core/error.h"
#include "federated_internal.h"
#include "side_tables.h"

namespace driftrec::nn {

FederatedUpdate FederatedClient::Local::change(const FederatedRound& round, const WeightLayout& layout,
                                               const std::vector<torch::Tensor>& global) {
  // Sparse lookups make the loss's gradient reach only the rows it used (none under the full
  // softmax, whose gradient reaches every item and so every attribute).
  const SparseItemGrad sparse_scope(*m.net->emb, config["loss"] != "softmax", /*attributes=*/true);
  const bool was_training = m.net->is_training();
  m.net->train();
  const auto& params = layout.params();
  const auto& tables = layout.tables();
  std::vector<std::vector<torch::Tensor>> touched(tables.size());
  std::vector<char> all_rows(tables.size(), s.sparse ? 0 : 1);
  const auto table_index = [&](std::size_t i) {
    const auto* t = layout.table_of(i);
    return t ? static_cast<std::size_t>(t - tables.data()) : tables.size();
  };
  const std::vector<std::size_t> one{seq};
  const auto lr = s.client_lr, mu = s.prox_mu;
  loss = 0;
  positions = 0;
  for (int64_t e = 0; e < s.local_epochs; ++e) {
    for (auto p : params) p.mutable_grad() = torch::Tensor();
    int64_t n = 0;
    const auto l = set->loss(one, &n);
    if (n == 0) break;  // nothing to learn from this client: no change
    l.backward();
    if (e == 0) {
      loss = l.item<double>() * static_cast<double>(n);
      positions = n;
    }
    torch::NoGradGuard g;
    for (std::size_t i = 0; i < params.size(); ++i) {
      auto p = params[i];
      if (!p.grad().defined()) continue;
      const auto k = table_index(i);
      if (p.grad().is_sparse()) {  // a row table looked up sparsely: step only its rows
        const auto grad = p.grad().coalesce();
        const auto idx = grad._indices()[0];
        auto v = grad._values();
        if (mu > 0) v = v + mu * (p.index_select(0, idx) - global[i].index_select(0, idx));
        p.index_add_(0, idx, v, -lr);
        if (k < tables.size()) touched[k].push_back(idx);
      } else {
        if (k < tables.size()) all_rows[k] = 1;
        auto grad = p.grad();
        if (mu > 0) grad = grad + mu * (p - global[i]);
        p.add_(grad, -lr);
      }
    }
  }
  torch::NoGradGuard g;
  for (auto p : params) p.mutable_grad() = torch::Tensor();
  FederatedUpdate u;
  u.round = round.round;
  u.client = id;
  u.dense.reserve(static_cast<std::size_t>(layout.dense_size()));
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (layout.table_of(i)) continue;
    const auto d = (params[i] - global[i]).contiguous();
    u.dense.insert(u.dense.end(), d.data_ptr<float>(), d.data_ptr<float>() + d.numel());
    params[i].copy_(global[i]);
  }
  for (std::size_t k = 0; k < tables.size(); ++k) {
    auto w = params[tables[k].param];
    torch::Tensor rows;
    if (all_rows[k])
      rows = torch::arange(w.size(0), torch::kLong);
    else if (!touched[k].empty())
      rows = std::get<0>(torch::_unique(torch::cat(touched[k]), /*sorted=*/true));
    else
      continue;
    const auto base = global[tables[k].param].index_select(0, rows);
    const auto delta = (w.index_select(0, rows) - base).contiguous();
    w.index_copy_(0, rows, base);
    const auto r = (rows + tables[k].offset).contiguous();
    u.rows.insert(u.rows.end(), r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel());
    u.row_values.insert(u.row_values.end(), delta.data_ptr<float>(), delta.data_ptr<float>() + delta.numel());
  }
  m.net->train(was_training);
  if (clip) clip_update(u, *clip);
  return u;
}

FederatedClient::FederatedClient(std::unique_ptr<Local> local) : local_(std::move(local)) {}

FederatedClient::FederatedClient(SequentialModel& model, const data::Dataset& local, std::int32_t user,
                                 std::int32_t id) {
  const std::string who = "federated client " + std::to_string(id) + ": ";
  const auto& c = model.config();
  auto& m = *model.impl_;
  if (!m.net) throw InvalidInput(who + "the model is not built (fit, prepare or load it first)");
  const auto s = FederatedSettings::from_config(c, who);
  if (local.n_items() != m.net->emb->items->weight.size(0))
    throw InvalidInput(who + "the local data has " + std::to_string(local.n_items() - 1) + " items, the model " +
                       std::to_string(m.net->emb->items->weight.size(0) - 1) +
                       ": index its events with the model's item map (data::align_ids) and drop unknown items");
  if (user < 1 || user >= local.n_users() || local.log.user_length(user) < 2)
    throw InvalidInput(who + "user " + std::to_string(user) + " has fewer than two events to learn from");
  auto seqs = training_sequences(local.log, local.n_users(), m.max_len, 1, who);
  const auto from = local.log.user_begin(user);
  std::size_t seq = 0;
  while (seq < seqs.seqs.size() && seqs.seqs[seq].end <= from) ++seq;
  auto owned =
      std::make_unique<TrainingSet>(m, c, local, std::move(seqs), target_behaviors(local, c["target_behaviors"], who));
  local_ = std::make_unique<Local>(Local{m, c, std::move(owned), nullptr, seq, id, s, std::nullopt, 0, 0});
  local_->set = local_->owned.get();
  if (privacy::wants_dp(c)) local_->clip = c["dp_clip"].get<double>();
}

FederatedClient::~FederatedClient() = default;
FederatedClient::FederatedClient(FederatedClient&&) noexcept = default;
FederatedClient& FederatedClient::operator=(FederatedClient&&) noexcept = default;

std::int32_t FederatedClient::id() const { return local_->id; }

FederatedUpdate FederatedClient::train(const FederatedRound& round) {
  if (!round.takes_part(local_->id))
    throw InvalidInput("federated client " + std::to_string(local_->id) + ": not among round " +
                       std::to_string(round.round) + "'s clients");
  // The network may have been rebuilt since (load_weights): its weights as they are now.
  const WeightLayout layout(local_->m);
  std::vector<torch::Tensor> global;
  {
    torch::NoGradGuard g;
    for (const auto& p : layout.params()) global.push_back(p.detach().clone());
  }
  auto u = local_->change(round, layout, global);
  return round.secure ? mask_update(u, *round.secure, layout) : u;
}

double FederatedClient::last_loss() const { return local_->loss; }
std::int64_t FederatedClient::last_positions() const { return local_->positions; }

}  // namespace driftrec::nn
