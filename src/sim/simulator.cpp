#include "driftrec/sim/simulator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>
#include <unordered_map>

#include "../models/dense.h"
#include "driftrec/core/error.h"
#include "driftrec/core/parallel.h"
#include "driftrec/data/interest_dynamics.h"

namespace driftrec::sim {

namespace {

void normalise(std::vector<double>& w) {
  double s = 0;
  for (double x : w) s += x;
  if (s > 0)
    for (double& x : w) x /= s;
}

double examination(int j, double decay) { return 1.0 / std::pow(1.0 + j, decay); }

/// Appends one step to a recorded session: the state's history, the slate, the policy's
/// probability of drawing each shown item first (position 0's exact distribution, from its own
/// random stream so that recording does not change the episode) and the clicks.
void record_step(const policy::SlateContext& ctx, const models::UserState& state, const policy::Policy& policy,
                 const policy::Slate& slate, const std::vector<float>& rewards, rl::LoggedSession& session) {
  session.user = state.user;
  rl::LoggedStep st;
  st.history = state.history;
  st.items = slate.items;
  st.clicks = rewards;
  Rng own(0x51A7E5ULL);
  std::unordered_map<std::int32_t, double> first;
  for (const auto& [item, p] : policy.distribution(ctx, 0, own)) first[item] = p;
  for (auto item : slate.items) {
    const auto it = first.find(item);
    st.beta.push_back(it == first.end() ? 0.0 : it->second);
  }
  session.steps.push_back(std::move(st));
}

}  // namespace

Simulator::Simulator(const data::SynthData& world, const data::Dataset& ds, SimOptions options) : o_(options) {
  const auto& r = o_.response;
  if (o_.k < 1 || o_.episodes < 1 || r.max_steps < 1)
    throw InvalidInput("simulate: k, episodes and max_steps must be positive");
  for (double p : {r.base_click, r.pop_weight, r.buy_rate, r.satiation, r.recovery, r.leave_no_click, r.leave_click})
    if (!(p >= 0 && p <= 1)) throw InvalidInput("simulate: response probabilities must lie in [0, 1]");
  if (!(r.discovery >= 0) || !(r.position_decay >= 0))
    throw InvalidInput("simulate: discovery and position_decay must be >= 0");
  n_items_ = ds.n_items();
  n_categories_ = static_cast<std::int32_t>(world.category_names.size());
  category_.assign(n_items_, -1);
  pop_.assign(n_items_, 0.0);
  std::vector<double> top(n_categories_, 0.0);
  for (const auto& it : world.items) top[it.category] = std::max(top[it.category], it.popularity);
  std::int32_t known = 0;
  for (std::size_t i = 0; i < world.items.size(); ++i) {
    const auto idx = ds.items.find("i" + std::to_string(i + 1));
    if (idx <= 0) continue;  // never generated as an event: not in the dataset
    const auto& it = world.items[i];
    category_[idx] = it.category;
    pop_[idx] = top[it.category] > 0 ? it.popularity / top[it.category] : 1.0;
    ++known;
  }
  if (known + 1 != n_items_) throw InvalidInput("simulate: the dataset's items are not the generated world's");
  // Each user's last true interest snapshot.
  std::unordered_map<std::int32_t, std::pair<std::int64_t, std::vector<double>>> last;
  for (const auto& t : world.truth) {
    auto& slot = last[t.user];
    if (slot.second.empty() || t.ts > slot.first) slot = {t.ts, std::vector<double>(n_categories_, 0.0)};
    if (t.ts == slot.first) slot.second[t.category] = t.weight;
  }
  for (std::int32_t u = 1; u < ds.n_users(); ++u) {
    const std::string& id = ds.users.name(u);
    const auto it = last.find(std::stoi(id.substr(1)));
    if (it == last.end()) continue;
    UserStart s{u, models::user_history(ds, u), it->second.second};
    normalise(s.interest);
    users_.push_back(std::move(s));
  }
  if (users_.empty()) throw InvalidInput("simulate: no user of the dataset has true interests in the world");
}

std::vector<double> Simulator::relevance(const std::vector<double>& w, const std::vector<double>& s) const {
  const auto& r = o_.response;
  const double wmax = std::max(1e-12, *std::max_element(w.begin(), w.end()));
  std::vector<double> rel(n_items_, 0.0);
  for (std::int32_t i = 1; i < n_items_; ++i) {
    const auto c = category_[i];
    rel[i] =
        std::min(0.95, r.base_click * w[c] * (1.0 - s[c]) / wmax * ((1.0 - r.pop_weight) + r.pop_weight * pop_[i]));
  }
  return rel;
}

double Simulator::expected_clicks(const std::vector<std::int32_t>& slate, const std::vector<double>& rel) const {
  double none = 1.0, sum = 0.0;
  for (std::size_t j = 0; j < slate.size(); ++j) {
    const double p = examination(static_cast<int>(j), o_.response.position_decay) * rel[slate[j]];
    none *= 1.0 - p;
    sum += p;
  }
  return o_.response.cascade ? 1.0 - none : sum;
}

policy::SlateContext Simulator::context(const models::Model& model, const models::UserState& state,
                                        const std::vector<std::int32_t>& exclude, std::vector<float>& scores,
                                        std::vector<float>& query) const {
  scores.resize(model.n_items());
  model.score(state, scores.data());
  const float no = -std::numeric_limits<float>::infinity();
  for (const auto& e : state.history)
    if (e.item > 0 && e.item < model.n_items()) scores[e.item] = no;
  for (auto i : exclude) scores[i] = no;
  policy::SlateContext ctx;
  ctx.scores = scores.data();
  ctx.n_items = model.n_items();
  ctx.k = o_.k;
  int dim = 0;
  if (const float* items = model.item_embeddings(&dim)) {
    query = model.query_vector(state);
    ctx.query = query.data();
    ctx.item_matrix = items;
    ctx.dim = dim;
  }
  return ctx;
}

Episode Simulator::run_episode(const models::Model& model, policy::Policy& policy, const UserStart& u, Rng& rng,
                               std::vector<char>& shown, SimReport* logged, const policy::Policy* target,
                               rl::LoggedSession* session) const {
  const auto& r = o_.response;
  Episode ep;
  ep.user = u.user;
  auto state = model.encode(u.user, u.history);
  std::vector<double> w = u.interest, s(n_categories_, 0.0);
  // Latent interests: a Dirichlet draw over the categories the user does not currently care about.
  std::vector<double> latent = data::dirichlet(rng, static_cast<std::size_t>(n_categories_));
  for (std::int32_t c = 0; c < n_categories_; ++c)
    if (w[c] >= 0.05) latent[c] = 0.0;
  std::vector<float> scores, query;
  std::int64_t ts = u.history.empty() ? 0 : u.history.back().ts;
  std::vector<std::int32_t> clicked_items;
  for (int step = 0; step < r.max_steps; ++step) {
    if (step == r.shift_step) {
      data::shift_interests(w, rng);
    }
    auto ctx = context(model, state, clicked_items, scores, query);
    ctx.propensities = logged != nullptr;
    const auto slate = policy.choose(ctx, rng);
    const auto rel = relevance(w, s);
    // Oracle: the k most relevant items the policy was allowed to show, most relevant first.
    std::vector<float> truth(rel.begin(), rel.end());
    for (std::int32_t i = 0; i < n_items_; ++i)
      if (i == 0 || std::isinf(scores[i])) truth[i] = -std::numeric_limits<float>::infinity();
    const auto oracle = policy::top_candidates(truth.data(), n_items_, o_.k);
    ep.expected_clicks += expected_clicks(slate.items, rel);
    ep.oracle_expected_clicks += expected_clicks(oracle, rel);
    // The user's response.
    std::vector<float> rewards(slate.items.size(), 0.0f);
    int first_click = -1;
    for (std::size_t j = 0; j < slate.items.size(); ++j) {
      const auto item = slate.items[j];
      shown[item] = 1;
      const double exam = examination(static_cast<int>(j), r.position_decay);
      w[category_[item]] += r.discovery * latent[category_[item]] * exam;
      if ((first_click < 0 || !r.cascade) && rng.uniform() < exam && rng.uniform() < rel[item]) {
        if (first_click < 0) first_click = static_cast<int>(j);
        rewards[j] = 1.0f;
      }
    }
    normalise(w);
    if (session) record_step(ctx, state, policy, slate, rewards, *session);
    if (logged) {
      for (std::size_t j = 0; j < slate.items.size(); ++j) {
        logged->log.add(slate.items[j], static_cast<std::int32_t>(j), rewards[j], slate.propensity[j]);
        if (target) logged->target.push_back(target->distribution(ctx, j, rng));
      }
    }
    policy.update(ctx, slate, rewards);
    for (double& x : s) x *= 1.0 - r.recovery;
    ++ep.steps;
    ts += 30;
    int step_clicks = 0;
    for (std::size_t j = 0; j < slate.items.size(); ++j) {
      if (rewards[j] == 0.0f) continue;
      const auto item = slate.items[j];
      ++step_clicks;
      ep.buys += rng.uniform() < r.buy_rate;
      auto& sc = s[category_[item]];
      sc += r.satiation * (1.0 - sc);
      clicked_items.push_back(item);  // not shown again this session
      data::Event e;
      e.user = u.user;
      e.item = item;
      e.ts = ts;
      if (o_.online) model.observe(state, e);
    }
    ep.clicks += step_clicks;
    if (step_clicks > 0) ep.click_steps.push_back(step);
    if (rng.uniform() < (step_clicks > 0 ? r.leave_click : r.leave_no_click)) break;
  }
  return ep;
}

double Simulator::policy_value(const models::Model& model, const policy::Policy& policy) const {
  if (o_.response.cascade)
    throw InvalidInput("simulate: exact policy values need the position-based response (cascade off)");
  Rng rng(o_.seed ^ 0x5DEECE66DULL);
  std::vector<float> scores, query;
  double total = 0;
  for (const auto& u : users_) {
    const auto state = model.encode(u.user, u.history);
    const auto ctx = context(model, state, {}, scores, query);
    const auto rel = relevance(u.interest, std::vector<double>(n_categories_, 0.0));
    for (std::size_t j = 0; j < o_.k; ++j) {
      const double exam = examination(static_cast<int>(j), o_.response.position_decay);
      for (const auto& [item, p] : policy.distribution(ctx, j, rng)) total += exam * p * rel[item];
    }
  }
  return total / static_cast<double>(users_.size());
}

SimReport Simulator::run(const models::Model& model, policy::Policy& policy, const policy::Policy* target) const {
  if (model.n_items() != n_items_) throw InvalidInput("simulate: the model's items are not the dataset's");
  if (target && !o_.log) throw InvalidInput("simulate: recording a target policy needs logging on");
  SimReport rep;
  rep.policy = policy.name();
  if (o_.record_sessions) rep.sessions.resize(static_cast<std::size_t>(o_.episodes));
  Rng rng(o_.seed);
  std::vector<std::size_t> order(users_.size());
  std::iota(order.begin(), order.end(), 0);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.uniform_int(i)]);
  std::vector<char> shown(n_items_, 0);
  if (o_.log) {
    rep.log.n_actions = n_items_;
    rep.log.n_positions = static_cast<std::int32_t>(o_.k);
  }
  const auto t0 = std::chrono::steady_clock::now();
  const auto episodes = static_cast<std::size_t>(o_.episodes);
  // Each episode draws from its own stream, so a policy that does not learn across episodes can run
  // them on several threads with results identical to one thread (contiguous blocks, merged in
  // order).
  const int threads = policy.learns() ? 1 : std::max(1, std::min(resolve_threads(o_.threads), o_.episodes));
  // As in the evaluator: inside the workers BLAS and LibTorch run one thread per worker (set on the
  // worker's own OpenMP count, never OpenBLAS's global one: two workers toggling that around
  // dense::scores crashed OpenBLAS with "precompiled NUM_THREADS exceeded", then a segfault).
  std::vector<SimReport> part(static_cast<std::size_t>(threads));
  std::vector<std::vector<char>> seen(static_cast<std::size_t>(threads), std::vector<char>(n_items_, 0));
  rep.episodes.resize(episodes);
  parallel_for(episodes, threads, [&](std::size_t begin, std::size_t end, int t) {
    std::optional<models::dense::OneThreadHere> one;
    if (threads > 1) one.emplace();
    auto& mine = part[static_cast<std::size_t>(t)];
    for (std::size_t e = begin; e < end; ++e) {
      Rng er = rng.fork(static_cast<std::uint64_t>(e));
      rep.episodes[e] =
          run_episode(model, policy, users_[order[e % order.size()]], er, seen[static_cast<std::size_t>(t)],
                      o_.log ? &mine : nullptr, target, o_.record_sessions ? &rep.sessions[e] : nullptr);
    }
  });
  for (std::size_t t = 0; t < part.size(); ++t) {
    for (std::int32_t i = 0; i < n_items_; ++i) shown[i] = shown[i] || seen[t][static_cast<std::size_t>(i)];
    const auto& l = part[t].log;
    for (std::size_t r = 0; r < l.size(); ++r) rep.log.add(l.action[r], l.position[r], l.reward[r], l.pscore[r]);
    rep.target.insert(rep.target.end(), part[t].target.begin(), part[t].target.end());
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double clicks = 0, clicks2 = 0, steps = 0, buys = 0, regret = 0;
  for (const auto& ep : rep.episodes) {
    clicks += ep.clicks;
    clicks2 += static_cast<double>(ep.clicks) * ep.clicks;
    steps += ep.steps;
    buys += ep.buys;
    regret += ep.oracle_expected_clicks - ep.expected_clicks;
  }
  const double n = static_cast<double>(rep.episodes.size());
  rep.clicks_mean = clicks / n;
  const double var = n > 1 ? (clicks2 - n * rep.clicks_mean * rep.clicks_mean) / (n - 1) : 0.0;
  rep.clicks_ci = 1.96 * std::sqrt(std::max(0.0, var) / n);
  rep.buys_mean = buys / n;
  rep.steps_mean = steps / n;
  rep.ctr = steps > 0 ? clicks / steps : 0.0;
  rep.regret_mean = regret / n;
  rep.coverage = static_cast<double>(std::count(shown.begin() + 1, shown.end(), 1)) / std::max(1, n_items_ - 1);
  rep.episodes_per_second = secs > 0 ? n / secs : 0.0;
  return rep;
}

std::vector<double> SimReport::ctr_by_step() const {
  std::vector<double> clicks, active;
  for (const auto& ep : episodes) {
    if (active.size() < static_cast<std::size_t>(ep.steps)) {
      active.resize(ep.steps, 0.0);
      clicks.resize(ep.steps, 0.0);
    }
    for (int t = 0; t < ep.steps; ++t) active[t] += 1.0;
    for (int t : ep.click_steps) clicks[t] += 1.0;
  }
  for (std::size_t t = 0; t < active.size(); ++t) clicks[t] /= active[t];
  return clicks;
}

nlohmann::json SimReport::to_json() const {
  return {{"policy", policy},
          {"episodes", episodes.size()},
          {"clicks_mean", clicks_mean},
          {"clicks_ci95", clicks_ci},
          {"buys_mean", buys_mean},
          {"steps_mean", steps_mean},
          {"ctr", ctr},
          {"regret_mean", regret_mean},
          {"coverage", coverage},
          {"episodes_per_second", episodes_per_second},
          {"ctr_by_step", ctr_by_step()}};
}

}  // namespace driftrec::sim
