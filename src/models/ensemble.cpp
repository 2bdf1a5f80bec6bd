#include "driftrec/models/ensemble.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <sstream>

#include "driftrec/core/error.h"
#include "driftrec/core/hash.h"
#include "driftrec/core/log.h"
#include "driftrec/models/registry.h"

namespace driftrec::models {

namespace fs = std::filesystem;

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
}  // namespace

const ParamSet& EnsembleModel::params() {
  static const ParamSet p(
      "ensemble",
      {
          string_param("method", "weighted", "how member scores are combined", {"weighted", "rrf"}),
          string_param("normalize", "zscore", "per-user score normalisation before the weighted sum (method=weighted)",
                       {"zscore", "minmax", "none"}),
          float_param("rrf_k", 60.0, "rank offset k of reciprocal rank fusion (method=rrf)", 0.0),
          int_param("rrf_depth", 1000, "ranks each member contributes (method=rrf)", 1),
          bool_param("fit_weights", true, "fit the weights on the validation split in fit()"),
          int_param("weight_passes", 2, "coordinate-ascent passes over the members when fitting weights", 1, 20),
          string_param("members", "",
                       "comma-separated model names to train with their defaults when fit() has no members (e.g. "
                       "itemknn,sasrec)"),
      });
  return p;
}

EnsembleModel::EnsembleModel(const nlohmann::json& config) : Model(params().resolve(config)) {}
EnsembleModel::~EnsembleModel() = default;

Capabilities EnsembleModel::capabilities() const {
  Capabilities c{false, false, false};
  for (const auto& m : members_) {
    const auto mc = m->capabilities();
    c.online_update = c.online_update || mc.online_update;
    c.explain = c.explain || mc.explain;
    c.remembers_users = c.remembers_users || mc.remembers_users;
  }
  return c;
}

void EnsembleModel::add_member(std::unique_ptr<Model> member, double weight) {
  if (!member) throw InvalidInput("ensemble: null member");
  if (member->name() == "ensemble") throw InvalidInput("ensemble: members cannot be ensembles");
  if (weight < 0 || !std::isfinite(weight)) throw InvalidInput("ensemble: member weights must be finite and >= 0");
  for (const auto& m : members_)
    if (m->fitted() && member->fitted() && m->n_items() != member->n_items())
      throw InvalidInput("ensemble: member " + member->name() + " knows " + std::to_string(member->n_items()) +
                         " items, " + m->name() + " knows " + std::to_string(m->n_items()) +
                         " (members must be trained on the same data)");
  members_.push_back(std::move(member));
  raw_weights_.push_back(weight);
  const double total = std::accumulate(raw_weights_.begin(), raw_weights_.end(), 0.0);
  weights_ = raw_weights_;
  if (total > 0)
    for (auto& w : weights_) w /= total;
  if (members_.back()->fitted()) {
    n_items_ = members_.back()->n_items();
    n_users_ = std::max(n_users_, members_.back()->n_users());
  }
}

void EnsembleModel::set_weights(std::vector<double> weights) {
  if (weights.size() != members_.size())
    throw InvalidInput("ensemble: " + std::to_string(weights.size()) + " weights for " +
                       std::to_string(members_.size()) + " members");
  double total = 0;
  for (const auto w : weights) {
    if (w < 0 || !std::isfinite(w)) throw InvalidInput("ensemble: weights must be finite and >= 0");
    total += w;
  }
  if (total <= 0) throw InvalidInput("ensemble: at least one weight must be positive");
  for (auto& w : weights) w /= total;
  weights_ = weights;
  raw_weights_ = std::move(weights);
}

void EnsembleModel::fit(const data::Dataset& train, const FitOptions& options) {
  if (members_.empty()) {
    std::stringstream names(config_["members"].get<std::string>());
    for (std::string name; std::getline(names, name, ',');)
      if (!name.empty()) add_member(create_model(name), 1.0);
  }
  if (members_.empty()) throw InvalidInput("ensemble: no members (add trained models, or set members=name,name)");
  for (auto& m : members_)
    if (!m->fitted()) m->fit(train, options);
  n_items_ = members_[0]->n_items();
  n_users_ = 0;
  for (const auto& m : members_) {
    if (m->n_items() != n_items_)
      throw InvalidInput("ensemble: members know different item counts (trained on other data?)");
    n_users_ = std::max(n_users_, m->n_users());
  }
  if (!config_["fit_weights"].get<bool>() || !options.validate || members_.size() < 2) return;
  // Coordinate ascent on the validation objective; each weight vector is evaluated once.
  std::map<std::vector<long>, double> seen;
  auto objective = [&](const std::vector<double>& w) {
    std::vector<long> key;
    for (const auto x : w) key.push_back(std::lround(x * 1000));
    if (auto it = seen.find(key); it != seen.end()) return it->second;
    set_weights(w);
    const double v = options.validate(*this);
    seen[key] = v;
    if (options.progress) {
      std::string msg = "weights=";
      for (std::size_t k = 0; k < w.size(); ++k) msg += (k ? "," : "") + std::to_string(weights_[k]).substr(0, 5);
      options.progress({"fit ensemble weights", seen.size(), 0, msg + " valid=" + std::to_string(v)});
    }
    return v;
  };
  std::vector<double> best = weights_;
  double best_v = objective(best);
  const int passes = static_cast<int>(config_["weight_passes"].get<int64_t>());
  for (int pass = 0; pass < passes; ++pass) {
    bool improved = false;
    // First pass: each member's share on a 0.1 grid; later passes: a 0.02 grid within 0.1 of it.
    for (std::size_t k = 0; k < members_.size(); ++k) {
      std::vector<double> shares;
      if (pass == 0) {
        for (int step = 0; step <= 10; ++step) shares.push_back(step / 10.0);
      } else {
        for (int step = -5; step <= 5; ++step) shares.push_back(std::clamp(best[k] + step * 0.02, 0.0, 1.0));
      }
      for (const double share : shares) {
        std::vector<double> w = best;
        double rest = 0;
        for (std::size_t j = 0; j < w.size(); ++j)
          if (j != k) rest += w[j];
        for (std::size_t j = 0; j < w.size(); ++j) {
          if (j == k)
            w[j] = share;
          else
            w[j] = rest > 0 ? w[j] / rest * (1 - share) : (1 - share) / static_cast<double>(w.size() - 1);
        }
        const double v = objective(w);
        if (v > best_v + 1e-12) {
          best_v = v;
          best = w;
          improved = true;
        }
      }
    }
    if (!improved) break;
  }
  set_weights(best);
  log_info("ensemble: weights fitted on validation (objective " + std::to_string(best_v) + ")");
}

void EnsembleModel::pack(UserState& s, const std::vector<UserState>& parts) {
  s.vector.clear();
  for (const auto& p : parts) s.vector.push_back(static_cast<float>(p.vector.size()));
  for (const auto& p : parts) s.vector.insert(s.vector.end(), p.vector.begin(), p.vector.end());
}

UserState EnsembleModel::member_state(const UserState& s, std::size_t k) const {
  const std::size_t m = members_.size();
  if (s.vector.size() < m) throw InvalidInput("ensemble: the state was not made by this ensemble");
  std::size_t off = m;
  for (std::size_t j = 0; j < k; ++j) off += static_cast<std::size_t>(s.vector[j]);
  const auto len = static_cast<std::size_t>(s.vector[k]);
  if (off + len > s.vector.size()) throw InvalidInput("ensemble: the state was not made by this ensemble");
  UserState out;
  out.user = s.user;
  out.history = s.history;
  out.version = s.version;
  out.now = s.now;
  out.vector.assign(s.vector.begin() + static_cast<std::ptrdiff_t>(off),
                    s.vector.begin() + static_cast<std::ptrdiff_t>(off + len));
  return out;
}

UserState EnsembleModel::encode(std::int32_t user, const std::vector<data::Event>& history) const {
  UserState s = Model::encode(user, history);
  std::vector<UserState> parts;
  for (const auto& m : members_) parts.push_back(m->encode(user, history));
  pack(s, parts);
  return s;
}

std::vector<UserState> EnsembleModel::encode_batch(const std::vector<std::int32_t>& users,
                                                   const std::vector<std::vector<data::Event>>& histories) const {
  auto out = Model::encode_batch(users, histories);  // validates sizes; fills user/history
  std::vector<std::vector<UserState>> per_member;
  for (const auto& m : members_) per_member.push_back(m->encode_batch(users, histories));
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::vector<UserState> parts;
    for (auto& pm : per_member) parts.push_back(std::move(pm[i]));
    pack(out[i], parts);
  }
  return out;
}

void EnsembleModel::observe(UserState& s, const data::Event& e) const {
  std::vector<UserState> parts;
  for (std::size_t k = 0; k < members_.size(); ++k) parts.push_back(member_state(s, k));
  const auto before = s.version;
  Model::observe(s, e);
  if (s.version == before) return;
  for (std::size_t k = 0; k < members_.size(); ++k) members_[k]->observe(parts[k], e);
  pack(s, parts);
}

void EnsembleModel::combine(const std::vector<std::vector<float>>& member_scores, std::size_t n_states,
                            float* out) const {
  const auto n = static_cast<std::size_t>(n_items_);
  const bool rrf = config_["method"] == "rrf";
  const std::string norm = config_["normalize"];
  const double rrf_k = config_["rrf_k"].get<double>();
  const auto depth = static_cast<std::size_t>(config_["rrf_depth"].get<int64_t>());
  std::fill(out, out + n_states * n, 0.0f);
  std::vector<std::int32_t> idx;
  for (std::size_t k = 0; k < members_.size(); ++k) {
    const auto w = static_cast<float>(weights_[k]);
    for (std::size_t b = 0; b < n_states; ++b) {
      const float* s = member_scores[k].data() + b * n;
      float* o = out + b * n;
      for (std::size_t i = 0; i < n; ++i)
        if (!std::isfinite(s[i])) o[i] = kNegInf;
      if (w == 0.0f) continue;
      if (rrf) {
        idx.clear();
        for (std::size_t i = 1; i < n; ++i)
          if (std::isfinite(s[i])) idx.push_back(static_cast<std::int32_t>(i));
        const auto top = std::min(depth, idx.size());
        std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(top), idx.end(),
                          [s](auto a, auto c) { return s[a] > s[c] || (s[a] == s[c] && a < c); });
        for (std::size_t r = 0; r < top; ++r) o[idx[r]] += w / static_cast<float>(rrf_k + static_cast<double>(r + 1));
        continue;
      }
      double mean = 0, sq = 0, lo = std::numeric_limits<double>::infinity(), hi = -lo;
      std::size_t cnt = 0;
      for (std::size_t i = 1; i < n; ++i)
        if (std::isfinite(s[i])) {
          mean += s[i];
          sq += static_cast<double>(s[i]) * s[i];
          lo = std::min<double>(lo, s[i]);
          hi = std::max<double>(hi, s[i]);
          ++cnt;
        }
      double shift = 0, scale = 1;
      if (cnt > 0 && norm == "zscore") {
        mean /= static_cast<double>(cnt);
        const double var = std::max(0.0, sq / static_cast<double>(cnt) - mean * mean);
        shift = mean;
        scale = var > 0 ? 1.0 / std::sqrt(var) : 0.0;
      } else if (cnt > 0 && norm == "minmax") {
        shift = lo;
        scale = hi > lo ? 1.0 / (hi - lo) : 0.0;
      }
      for (std::size_t i = 1; i < n; ++i)
        if (std::isfinite(s[i])) o[i] += w * static_cast<float>((s[i] - shift) * scale);
    }
  }
  for (std::size_t b = 0; b < n_states; ++b) out[b * n] = kNegInf;
}

void EnsembleModel::score(const UserState& s, float* out) const { score_batch({&s}, out); }

void EnsembleModel::score_batch(const std::vector<const UserState*>& states, float* out) const {
  require_fitted();
  const auto n = static_cast<std::size_t>(n_items_);
  std::vector<std::vector<float>> member_scores(members_.size());
  for (std::size_t k = 0; k < members_.size(); ++k) {
    std::vector<UserState> parts;
    parts.reserve(states.size());
    for (const auto* s : states) parts.push_back(member_state(*s, k));
    std::vector<const UserState*> ptrs;
    for (const auto& p : parts) ptrs.push_back(&p);
    member_scores[k].resize(states.size() * n);
    members_[k]->score_batch(ptrs, member_scores[k].data());
  }
  combine(member_scores, states.size(), out);
}

std::vector<Attribution> EnsembleModel::explain(const UserState& s, std::int32_t item) const {
  return explain_batch(s, {item}).front();
}

// Each explaining member's attributions, scaled to sum |w| = 1 and weighted like its scores, summed
// per past event.
std::vector<std::vector<Attribution>> EnsembleModel::explain_batch(const UserState& s,
                                                                   const std::vector<std::int32_t>& items) const {
  if (!capabilities().explain) return Model::explain_batch(s, items);  // throws NotSupported
  std::vector<std::map<std::size_t, Attribution>> by_pos(items.size());
  for (std::size_t k = 0; k < members_.size(); ++k) {
    if (!members_[k]->capabilities().explain || weights_[k] == 0) continue;
    const auto attrs = members_[k]->explain_batch(member_state(s, k), items);
    for (std::size_t i = 0; i < items.size(); ++i) {
      double total = 0;
      for (const auto& a : attrs[i]) total += std::abs(a.weight);
      if (total <= 0) continue;
      for (const auto& a : attrs[i]) {
        auto& slot = by_pos[i][a.position];
        slot.position = a.position;
        slot.item = a.item;
        slot.weight += static_cast<float>(weights_[k] * a.weight / total);
      }
    }
  }
  std::vector<std::vector<Attribution>> out(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    for (const auto& [pos, a] : by_pos[i]) out[i].push_back(a);
    std::stable_sort(out[i].begin(), out[i].end(), [](const auto& a, const auto& b) { return a.weight > b.weight; });
  }
  return out;
}

void EnsembleModel::save_weights(const std::string& path) const {
  require_fitted();
  const fs::path dir = fs::path(path).parent_path();
  nlohmann::json members = nlohmann::json::array();
  for (std::size_t k = 0; k < members_.size(); ++k) {
    const std::string file = "member" + std::to_string(k) + "." + members_[k]->weights_file();
    members_[k]->save_weights((dir / file).string());
    members.push_back({{"name", members_[k]->name()},
                       {"config", members_[k]->config()},
                       {"weight", weights_[k]},
                       {"file", file},
                       {"checksum", file_fingerprint((dir / file).string())}});
  }
  std::ofstream out(path);
  out << nlohmann::json{{"format", 1}, {"n_items", n_items_}, {"n_users", n_users_}, {"members", members}}.dump(2)
      << "\n";
  if (!out) throw IoError(path + ": cannot write");
}

void EnsembleModel::load_weights(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw NotFound(path + ": no ensemble weights");
  const fs::path dir = fs::path(path).parent_path();
  try {
    const auto j = nlohmann::json::parse(in);
    members_.clear();
    weights_.clear();
    raw_weights_.clear();
    std::vector<double> w;
    for (const auto& m : j.at("members")) {
      const auto file = m.at("file").get<std::string>();
      if (file.find('/') != std::string::npos) throw CorruptModel(path + ": member file must be a plain name");
      if (file_fingerprint((dir / file).string()) != m.at("checksum").get<std::string>())
        throw CorruptModel((dir / file).string() + ": checksum differs from ensemble.json (truncated or modified)");
      auto model = create_model(m.at("name").get<std::string>(), m.at("config"));
      model->load_weights((dir / file).string());
      w.push_back(m.at("weight").get<double>());
      add_member(std::move(model), 1.0);
    }
    if (members_.empty()) throw CorruptModel(path + ": no members");
    set_weights(w);
    n_items_ = j.at("n_items").get<std::int32_t>();
    n_users_ = j.at("n_users").get<std::int32_t>();
    for (const auto& m : members_)
      if (m->n_items() != n_items_) throw CorruptModel(path + ": a member's item count differs from the ensemble's");
  } catch (const nlohmann::json::exception& e) {
    throw CorruptModel(path + ": " + e.what());
  } catch (const NotFound& e) {
    throw CorruptModel(path + ": " + e.what());
  }
}

}  // namespace driftrec::models
