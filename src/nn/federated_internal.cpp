#include "federated_internal.h"

#include <cmath>

#include "driftrec/core/error.h"

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

WeightLayout::WeightLayout(SequentialModel::Impl& m) : params_(unique_parameters(*m.net)) {
  const auto& emb = *m.net->emb;
  std::vector<const torch::Tensor*> row_tables{&emb.items->weight};
  if (emb.attributes) row_tables.push_back(&emb.attributes->weight);
  width_ = emb.items->weight.size(1);
  for (const auto* w : row_tables)
    for (std::size_t i = 0; i < params_.size(); ++i)
      if (params_[i].is_same(*w)) {
        tables_.push_back({i, rows_});
        rows_ += w->size(0);
      }
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (!table_of(i)) dense_size_ += params_[i].numel();
}

const WeightLayout::RowTable* WeightLayout::table_of(std::size_t i) const {
  for (const auto& t : tables_)
    if (t.param == i) return &t;
  return nullptr;
}

void WeightLayout::check(const FederatedUpdate& u, const std::string& who) const {
  const auto bad = [&](const std::string& what) {
    throw InvalidInput(who + "update of client " + std::to_string(u.client) + " for round " + std::to_string(u.round) +
                       ": " + what);
  };
  if (u.is_masked()) {
    if (static_cast<int64_t>(u.masked.size()) != flat_size())
      bad(std::to_string(u.masked.size()) + " masked weights, the model has " + std::to_string(flat_size()));
    return;
  }
  if (static_cast<int64_t>(u.dense.size()) != dense_size_)
    bad(std::to_string(u.dense.size()) + " dense weights, the model has " + std::to_string(dense_size_));
  if (u.row_values.size() != u.rows.size() * static_cast<std::size_t>(width_))
    bad(std::to_string(u.row_values.size()) + " row values for " + std::to_string(u.rows.size()) + " rows of width " +
        std::to_string(width_));
  for (std::size_t k = 0; k < u.rows.size(); ++k) {
    if (u.rows[k] < 0 || u.rows[k] >= rows_)
      bad("row " + std::to_string(u.rows[k]) + " outside the " + std::to_string(rows_) + " table rows");
    if (k > 0 && u.rows[k] <= u.rows[k - 1]) bad("rows not strictly ascending at position " + std::to_string(k));
  }
  for (const auto* v : {&u.dense, &u.row_values})
    for (const float x : *v)
      if (!std::isfinite(x)) bad("a non-finite value");
}

void WeightLayout::add(const FederatedUpdate& u, std::vector<torch::Tensor>& sum) const {
  torch::NoGradGuard g;
  int64_t at = 0;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (table_of(i)) continue;
    const auto n = params_[i].numel();
    sum[i].add_(torch::from_blob(const_cast<float*>(u.dense.data() + at), params_[i].sizes(), torch::kFloat));
    at += n;
  }
  if (u.rows.empty()) return;
  const auto rows =
      torch::from_blob(const_cast<std::int64_t*>(u.rows.data()), {static_cast<int64_t>(u.rows.size())}, torch::kLong);
  const auto values = torch::from_blob(const_cast<float*>(u.row_values.data()),
                                       {static_cast<int64_t>(u.rows.size()), width_}, torch::kFloat);
  for (const auto& t : tables_) {
    const auto n = params_[t.param].size(0);
    const auto in = rows.ge(t.offset).logical_and(rows.lt(t.offset + n)).nonzero().squeeze(1);
    if (in.numel() > 0) sum[t.param].index_add_(0, rows.index_select(0, in) - t.offset, values.index_select(0, in));
  }
}

std::vector<float> WeightLayout::flatten(const FederatedUpdate& u) const {
  std::vector<float> flat(static_cast<std::size_t>(flat_size()), 0.0f);
  // The flat order is params() in order, row tables whole: where each parameter starts.
  std::vector<int64_t> start(params_.size(), 0);
  for (std::size_t i = 1; i < params_.size(); ++i) start[i] = start[i - 1] + params_[i - 1].numel();
  std::size_t at = 0;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (table_of(i)) continue;
    const auto n = static_cast<std::size_t>(params_[i].numel());
    std::copy_n(u.dense.begin() + static_cast<std::ptrdiff_t>(at), n,
                flat.begin() + static_cast<std::ptrdiff_t>(start[i]));
    at += n;
  }
  const auto w = static_cast<std::size_t>(width_);
  for (std::size_t k = 0; k < u.rows.size(); ++k)
    for (const auto& t : tables_) {
      const auto r = u.rows[k] - t.offset;
      if (r < 0 || r >= params_[t.param].size(0)) continue;
      std::copy_n(u.row_values.begin() + static_cast<std::ptrdiff_t>(k * w), w,
                  flat.begin() + static_cast<std::ptrdiff_t>(start[t.param] + r * width_));
    }
  return flat;
}

void WeightLayout::unflatten(const std::vector<float>& flat, std::vector<torch::Tensor>& sum) const {
  torch::NoGradGuard g;
  std::size_t at = 0;
  for (auto& s : sum) {
    s.copy_(torch::from_blob(const_cast<float*>(flat.data() + at), s.sizes(), torch::kFloat));
    at += static_cast<std::size_t>(s.numel());
  }
}

FederatedUpdate mask_update(const FederatedUpdate& u, const fed::SecureAggregation& secure,
                            const WeightLayout& layout) {
  FederatedUpdate masked;
  masked.round = u.round;
  masked.client = u.client;
  masked.masked = secure.mask(u.client, layout.flatten(u));
  return masked;
}

double clip_update(FederatedUpdate& u, double bound) {
  double sq = 0;
  for (const auto* v : {&u.dense, &u.row_values})
    for (const float x : *v) sq += static_cast<double>(x) * static_cast<double>(x);
  const double norm = std::sqrt(sq);
  if (norm <= bound) return norm;
  const auto s = static_cast<float>(bound / norm);
  for (auto* v : {&u.dense, &u.row_values})
    for (float& x : *v) x *= s;
  return norm;
}

}  // namespace driftrec::nn
