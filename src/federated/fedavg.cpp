#include "driftrec/federated/fedavg.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <string>
#include <unordered_map>

#include "driftrec/core/error.h"
#include "driftrec/core/parallel.h"
#include "driftrec/core/rng.h"
#include "driftrec/federated/secure_aggregation.h"
#include "driftrec/models/bpr_sampling.h"
#include "driftrec/models/registry.h"
#include "driftrec/models/weights_io.h"
#include "driftrec/privacy/dp_sgd_plan.h"

namespace driftrec::fed {

namespace {
using models::bpr::sigmoid;

std::uint64_t stream(std::uint64_t seed, std::uint64_t a, std::uint64_t b) {
  return seed ^ ((a + 1) * 0x9E3779B97F4A7C15ULL) ^ ((b + 1) * 0xC2B2AE3D27D4EB4FULL);
}

void check(const FedOptions& o) {
  if (o.factors < 1 || o.rounds < 1 || o.local_epochs < 1 || o.local_pairs < 1)
    throw InvalidInput("federated: factors, rounds, local_epochs and local_pairs must be >= 1");
  if (!(o.client_rate > 0 && o.client_rate <= 1)) throw InvalidInput("federated: client_rate must be in (0, 1]");
  if (!(o.dropout >= 0 && o.dropout < 1)) throw InvalidInput("federated: dropout must be in [0, 1)");
  if (!(o.lr > 0) || !(o.server_lr > 0)) throw InvalidInput("federated: lr and server_lr must be > 0");
  if (!(o.dp_clip > 0)) throw InvalidInput("federated: dp_clip must be > 0");
  if (o.dp_epsilon < 0 || o.dp_noise < 0 || o.prox_mu < 0 || o.reg < 0)
    throw InvalidInput("federated: dp_epsilon, dp_noise, prox_mu and reg must be >= 0");
}

/// Scales a client's change to L2 norm at most `clip`.
void clip_update(ClientUpdate& u, double clip) {
  double sq = 0;
  for (float x : u.delta) sq += static_cast<double>(x) * x;
  if (sq <= clip * clip) return;
  const auto s = static_cast<float>(clip / std::sqrt(sq));
  for (auto& x : u.delta) x *= s;
}

/// A bpr model holding `table` as its item factors, folding every user in when serving.
std::unique_ptr<models::Model> to_bpr(const std::vector<float>& table, std::int32_t n_items, std::int32_t n_users,
                                      const FedOptions& o) {
  const auto K = static_cast<std::uint64_t>(o.factors) + 1;
  auto m = models::create_model(
      "bpr", {{"factors", o.factors}, {"reg", o.reg}, {"fold_in_all", true}, {"fold_in_epochs", o.fold_in_epochs}});
  std::vector<float> users(static_cast<std::size_t>(n_users) * K, 0.0f);
  models::WeightsWriter w;
  w.add_f32("user_factors", users, {static_cast<std::uint64_t>(n_users), K});
  w.add_f32("item_factors", table, {static_cast<std::uint64_t>(n_items), K});
  w.add_i32("trained_events", std::vector<std::int32_t>(static_cast<std::size_t>(n_users), 0),
            {static_cast<std::uint64_t>(n_users)});
  const auto path = std::filesystem::temp_directory_path() /
                    ("driftrec_fed_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  w.write(path.string());
  try {
    m->load_weights(path.string());
  } catch (...) {
    std::filesystem::remove(path);
    throw;
  }
  std::filesystem::remove(path);
  return m;
}
}  // namespace

Client::Client(std::int32_t id, std::vector<std::int32_t> items, std::size_t dim, std::uint64_t seed, double init_std)
    : id_(id), items_(std::move(items)), dim_(dim), seed_(seed), user_(dim, 0.0f) {
  std::sort(items_.begin(), items_.end());
  items_.erase(std::unique(items_.begin(), items_.end()), items_.end());
  if (items_.empty()) throw InvalidInput("federated: client " + std::to_string(id) + " has no items");
  Rng rng(stream(seed_, static_cast<std::uint64_t>(id), 0xC11E47));
  for (std::size_t f = 0; f + 1 < dim_; ++f) user_[f] = static_cast<float>(rng.normal() * init_std);
  user_[dim_ - 1] = 1.0f;  // multiplies the item bias
}

std::vector<std::pair<std::int32_t, std::int32_t>> Client::pairs(std::int32_t n_items, int round, int epoch,
                                                                 int count) const {
  Rng rng(stream(seed_ ^ static_cast<std::uint64_t>(id_) << 20, static_cast<std::uint64_t>(round),
                 static_cast<std::uint64_t>(epoch)));
  std::vector<std::pair<std::int32_t, std::int32_t>> out;
  for (int k = 0; k < count; ++k) {
    const auto i = items_[rng.uniform_int(items_.size())];
    out.emplace_back(i, models::bpr::sample_negative(rng, n_items, items_));
  }
  return out;
}

ClientUpdate Client::train(const std::vector<float>& table, std::int32_t n_items, const FedOptions& o, int round) {
  const auto K = dim_;
  // The rows this round needs: every item of every drawn pair ("downloaded").
  std::vector<std::vector<std::pair<std::int32_t, std::int32_t>>> epochs;
  std::vector<std::int32_t> rows;
  for (int e = 0; e < o.local_epochs; ++e) {
    epochs.push_back(pairs(n_items, round, e, o.local_pairs));
    for (const auto& [i, j] : epochs.back()) {
      rows.push_back(i);
      rows.push_back(j);
    }
  }
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  std::unordered_map<std::int32_t, std::size_t> slot;
  std::vector<float> local(rows.size() * K), global(rows.size() * K);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    slot[rows[r]] = r;
    std::copy_n(&table[static_cast<std::size_t>(rows[r]) * K], K, &global[r * K]);
  }
  local = global;
  const auto lr = static_cast<float>(o.lr), reg = static_cast<float>(o.reg), mu = static_cast<float>(o.prox_mu);
  std::vector<float> gu(K), gq(local.size());
  for (const auto& drawn : epochs) {
    std::fill(gu.begin(), gu.end(), 0.0f);
    std::fill(gq.begin(), gq.end(), 0.0f);
    for (const auto& [i, j] : drawn) {
      float* qi = &local[slot[i] * K];
      float* qj = &local[slot[j] * K];
      float x = 0;
      for (std::size_t f = 0; f < K; ++f) x += user_[f] * (qi[f] - qj[f]);
      const float g = sigmoid(-x);  // ascent direction of log sigmoid(x)
      if (o.full_batch) {
        for (std::size_t f = 0; f < K; ++f) {
          gq[slot[i] * K + f] += g * user_[f];
          gq[slot[j] * K + f] -= g * user_[f];
          if (f + 1 < K) gu[f] += g * (qi[f] - qj[f]);
        }
        continue;
      }
      for (std::size_t f = 0; f < K; ++f) {
        const float pf = user_[f];
        if (f + 1 < K) user_[f] += lr * (g * (qi[f] - qj[f]) - reg * pf);
        const auto a = slot[i] * K + f, b = slot[j] * K + f;
        qi[f] += lr * (g * pf - reg * qi[f] - mu * (qi[f] - global[a]));
        qj[f] += lr * (-g * pf - reg * qj[f] - mu * (qj[f] - global[b]));
      }
    }
    if (o.full_batch) {  // one gradient step over all the pairs (users and rows from the same point)
      for (std::size_t e = 0; e < local.size(); ++e)
        local[e] += lr * (gq[e] - reg * local[e] - mu * (local[e] - global[e]));
      for (std::size_t f = 0; f + 1 < K; ++f) user_[f] += lr * (gu[f] - reg * user_[f]);
    }
  }
  ClientUpdate out;
  out.rows = rows;
  out.delta.resize(local.size());
  for (std::size_t e = 0; e < local.size(); ++e) out.delta[e] = local[e] - global[e];
  out.bytes_down = rows.size() * (sizeof(std::int32_t) + K * sizeof(float));
  return out;
}

void apply_round(std::vector<float>& table, const std::vector<float>& sum, double denominator, double server_lr) {
  if (sum.size() != table.size()) throw InvalidInput("federated: aggregate and table differ in size");
  const auto s = static_cast<float>(server_lr / denominator);
  for (std::size_t e = 0; e < table.size(); ++e) table[e] += s * sum[e];
}

namespace {
/// Every user with events, as a client.
std::vector<Client> make_clients(const data::Dataset& train, const FedOptions& o) {
  const auto& log = train.log;
  std::vector<Client> clients;
  for (std::int32_t u = 1; u < train.n_users(); ++u) {
    if (log.user_length(u) == 0) continue;
    std::vector<std::int32_t> items;
    for (auto r = log.user_begin(u); r < log.user_end(u); ++r) items.push_back(log.item[static_cast<std::size_t>(r)]);
    clients.emplace_back(u, std::move(items), static_cast<std::size_t>(o.factors) + 1, o.seed, o.init_std);
  }
  if (clients.empty()) throw InvalidInput("federated: no client has events");
  return clients;
}

/// DP-FedAvg's noise multiplier (0 when not private) and the epsilon it spends over the rounds;
/// refuses a given noise multiplier that would exceed a given budget.
double plan_noise(const FedOptions& o, std::size_t clients, privacy::Epsilon* spent) {
  if (o.dp_epsilon <= 0 && o.dp_noise <= 0) return 0;
  privacy::DpSgdSettings s;
  s.users = static_cast<std::int64_t>(clients);
  s.clip = o.dp_clip;
  s.delta = o.dp_delta;
  s.epsilon = o.dp_epsilon;
  s.noise = o.dp_noise;
  const auto plan = privacy::plan_sampled_gaussian(o.client_rate, o.rounds, s, "federated: ");
  *spent = plan.spent;
  return plan.sigma;
}

/// The sum of the arrived clients' changes over the whole table: through secure aggregation
/// (dense masked uploads) or added row by row. Counts the bytes up in `st`.
std::vector<float> aggregate(const std::vector<ClientUpdate>& updates, const std::vector<std::int32_t>& ids,
                             const std::vector<char>& dropped, std::size_t table_size, const FedOptions& o, int round,
                             RoundStats& st) {
  const auto K = static_cast<std::size_t>(o.factors) + 1;
  std::vector<float> sum(table_size, 0.0f);
  if (o.secure && !ids.empty()) {
    const SecureAggregation agg(ids, table_size, stream(o.seed, static_cast<std::uint64_t>(round), 0x5EC),
                                o.mask_neighbors);
    auto acc = agg.start();
    std::vector<float> dense(table_size);
    for (std::size_t k = 0; k < updates.size(); ++k) {
      if (dropped[k]) continue;
      std::fill(dense.begin(), dense.end(), 0.0f);
      for (std::size_t r = 0; r < updates[k].rows.size(); ++r)
        std::copy_n(&updates[k].delta[r * K], K, &dense[static_cast<std::size_t>(updates[k].rows[r]) * K]);
      agg.receive(acc, ids[k], agg.mask(ids[k], dense));
      st.bytes_up += table_size * sizeof(std::uint64_t);
    }
    return agg.finish(std::move(acc));
  }
  for (std::size_t k = 0; k < updates.size(); ++k) {
    if (dropped[k]) continue;
    const auto& u = updates[k];
    for (std::size_t r = 0; r < u.rows.size(); ++r)
      for (std::size_t f = 0; f < K; ++f) sum[static_cast<std::size_t>(u.rows[r]) * K + f] += u.delta[r * K + f];
    st.bytes_up += o.sparse ? u.rows.size() * (sizeof(std::int32_t) + K * sizeof(float)) : table_size * sizeof(float);
  }
  return sum;
}

nlohmann::json fed_report(const FedOptions& o, std::size_t clients, const std::vector<RoundStats>& rounds, double sigma,
                          const privacy::Epsilon& spent) {
  std::uint64_t up = 0, down = 0;
  for (const auto& r : rounds) {
    up += r.bytes_up;
    down += r.bytes_down;
  }
  nlohmann::json rep = {{"clients", clients},
                        {"rounds", o.rounds},
                        {"client_rate", o.client_rate},
                        {"bytes_up", up},
                        {"bytes_down", down},
                        {"secure_aggregation", o.secure},
                        {"sparse", o.sparse && !o.secure}};
  if (sigma > 0)
    rep["privacy"] = {
        {"unit", "user (client)"},  {"mechanism", "DP-FedAvg: per-client clipping, Gaussian noise on the sum"},
        {"epsilon", spent.epsilon}, {"delta", o.dp_delta},
        {"rdp_order", spent.order}, {"noise_multiplier", sigma},
        {"clip", o.dp_clip}};
  return rep;
}
}  // namespace

FedResult train_federated(const data::Dataset& train, const FedOptions& o, const ProgressCallback& progress) {
  check(o);
  const auto n_items = train.n_items();
  const auto K = static_cast<std::size_t>(o.factors) + 1;
  auto clients = make_clients(train, o);
  privacy::Epsilon spent;
  const double sigma = plan_noise(o, clients.size(), &spent);
  const bool dp = sigma > 0;
  std::vector<float> table(static_cast<std::size_t>(n_items) * K, 0.0f);
  Rng init(stream(o.seed, 0x7AB1E, 0));
  for (std::size_t e = K; e < table.size(); ++e)
    if ((e + 1) % K != 0) table[e] = static_cast<float>(init.normal() * o.init_std);
  const int threads = resolve_threads(o.threads);
  FedResult res;
  for (int round = 1; round <= o.rounds; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    Rng rng(stream(o.seed, static_cast<std::uint64_t>(round), 0x5A3D));
    std::vector<std::size_t> picked;
    for (std::size_t c = 0; c < clients.size(); ++c)
      if (o.client_rate >= 1 || rng.bernoulli(o.client_rate)) picked.push_back(c);
    std::vector<ClientUpdate> updates(picked.size());
    parallel_blocks(picked.size(), 8, threads, [&](std::size_t b, std::size_t e, int) {
      for (std::size_t k = b; k < e; ++k) {
        updates[k] = clients[picked[k]].train(table, n_items, o, round);
        if (dp) clip_update(updates[k], o.dp_clip);
      }
    });
    RoundStats st;
    st.round = round;
    st.clients = picked.size();
    std::vector<char> dropped(picked.size(), 0);
    std::vector<std::int32_t> ids;
    std::size_t arrived = 0;
    for (std::size_t k = 0; k < picked.size(); ++k) {
      dropped[k] = o.dropout > 0 && rng.bernoulli(o.dropout);
      ids.push_back(clients[picked[k]].id());
      st.dropped += dropped[k];
      arrived += !dropped[k];
      st.bytes_down += o.sparse && !o.secure ? updates[k].bytes_down : table.size() * sizeof(float);
    }
    auto sum = aggregate(updates, ids, dropped, table.size(), o, round, st);
    if (dp) {
      Rng noise(stream(o.seed, static_cast<std::uint64_t>(round), 0xD15E));
      for (std::size_t e = K; e < sum.size(); ++e) sum[e] += static_cast<float>(noise.normal() * sigma * o.dp_clip);
    }
    // DP: the mean over the expected number of clients (a data-independent denominator).
    const double denominator = dp ? o.client_rate * static_cast<double>(clients.size()) : static_cast<double>(arrived);
    if (denominator > 0) apply_round(table, sum, denominator, o.server_lr);
    st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    res.rounds.push_back(st);
    if (progress)
      progress({"federated rounds", static_cast<std::size_t>(round), static_cast<std::size_t>(o.rounds), ""});
  }
  res.model = to_bpr(table, n_items, 1, o);  // no user slots: the server never had user vectors
  res.report = fed_report(o, clients.size(), res.rounds, sigma, spent);
  return res;
}

}  // namespace driftrec::fed
