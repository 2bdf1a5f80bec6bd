#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>

#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"
#include "driftrec/tune/tune.h"

namespace driftrec::tune {

namespace {

nlohmann::json yaml_to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json j = nlohmann::json::object();
      for (const auto& kv : n) j[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& v : n) j.push_back(yaml_to_json(v));
      return j;
    }
    case YAML::NodeType::Scalar: {
      const auto s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted
      long long i = 0;
      double d = 0;
      bool b = false;
      if (YAML::convert<long long>::decode(n, i)) return i;
      if (YAML::convert<double>::decode(n, d)) return d;
      if (YAML::convert<bool>::decode(n, b)) return b;
      return s;
    }
    default:
      return nullptr;
  }
}

double rand01(Rng& rng) { return static_cast<double>(rng.uniform_int(1ULL << 53)) / static_cast<double>(1ULL << 53); }

double normal(Rng& rng) {
  const double u1 = std::max(1e-300, rand01(rng)), u2 = rand01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// Internal scale of a numeric parameter (log for log types).
double to_internal(const ParamRange& p, double v) { return p.is_log() ? std::log(v) : v; }
double from_internal(const ParamRange& p, double x) { return p.is_log() ? std::exp(x) : x; }

nlohmann::json numeric_value(const ParamRange& p, double internal) {
  const double lo = to_internal(p, p.low), hi = to_internal(p, p.high);
  double v = from_internal(p, std::clamp(internal, lo, hi));
  if (p.is_int())
    return static_cast<long long>(
        std::clamp(std::llround(v), static_cast<long long>(p.low), static_cast<long long>(p.high)));
  return std::clamp(v, p.low, p.high);
}

nlohmann::json random_value(const ParamRange& p, Rng& rng) {
  if (p.type == "choice") return p.values[rng.uniform_int(p.values.size())];
  const double lo = to_internal(p, p.is_int() ? p.low - 0.499 : p.low),
               hi = to_internal(p, p.is_int() ? p.high + 0.499 : p.high);
  return numeric_value(p, lo + (hi - lo) * rand01(rng));
}

// Parzen density over one numeric parameter (internal scale): Gaussian kernels at the
// observations plus a broad prior at the middle of the range.
struct Parzen {
  std::vector<double> mu, sigma;
  Parzen(const ParamRange& p, std::vector<double> obs) {
    lo = to_internal(p, p.low);
    hi = to_internal(p, p.high);
    const double width = std::max(hi - lo, 1e-12);
    std::sort(obs.begin(), obs.end());
    const double min_bw = width / std::min(100.0, static_cast<double>(obs.size()) + 1.0);
    for (std::size_t i = 0; i < obs.size(); ++i) {
      const double left = i == 0 ? obs[i] - lo : obs[i] - obs[i - 1];
      const double right = i + 1 == obs.size() ? hi - obs[i] : obs[i + 1] - obs[i];
      mu.push_back(obs[i]);
      sigma.push_back(std::clamp(std::max(left, right), min_bw, width));
    }
    mu.push_back((lo + hi) / 2);
    sigma.push_back(width);
  }
  double lo = 0, hi = 0;
  /// A draw from the mixture truncated to the range (redrawn, not clamped, so no mass piles up
  /// on the bounds).
  double sample(Rng& rng) const {
    for (int attempt = 0; attempt < 100; ++attempt) {
      const auto k = rng.uniform_int(mu.size());
      const double x = mu[k] + sigma[k] * normal(rng);
      if (x >= lo && x <= hi) return x;
    }
    return lo + (hi - lo) * rand01(rng);
  }
  double density(double x) const {
    double s = 0;
    for (std::size_t k = 0; k < mu.size(); ++k) {
      const double z = (x - mu[k]) / sigma[k];
      s += std::exp(-0.5 * z * z) / (sigma[k] * 2.5066282746310002);
    }
    return s / static_cast<double>(mu.size());
  }
};

std::size_t choice_index(const ParamRange& p, const nlohmann::json& v) {
  for (std::size_t i = 0; i < p.values.size(); ++i)
    if (p.values[i] == v) return i;
  return p.values.size();
}

}  // namespace

nlohmann::json load_yaml(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError(path + ": cannot open");
  try {
    return yaml_to_json(YAML::Load(in));
  } catch (const YAML::Exception& e) {
    throw InvalidInput(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

SearchSpace SearchSpace::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw InvalidInput("search space: expected a mapping with `params`");
  SearchSpace s;
  for (const auto& [k, v] : j.items())
    if (k != "model" && k != "objective" && k != "request_at" && k != "fixed" && k != "params")
      throw InvalidInput("search space: unknown key '" + k + "' (known: model, objective, request_at, fixed, params)");
  if (j.contains("model")) s.model = j.at("model").get<std::string>();
  if (j.contains("objective")) s.objective = j.at("objective").get<std::string>();
  if (j.contains("request_at")) {
    if (!j.at("request_at").is_string()) throw InvalidInput("search space: `request_at` must be a string");
    s.request_at = j.at("request_at").get<std::string>();
  }
  if (j.contains("fixed")) {
    if (!j.at("fixed").is_object()) throw InvalidInput("search space: `fixed` must be a mapping");
    s.fixed = j.at("fixed");
  }
  if (!j.contains("params") || !j.at("params").is_object() || j.at("params").empty())
    throw InvalidInput("search space: `params` must map at least one parameter to a range");
  for (const auto& [name, spec] : j.at("params").items()) {
    const std::string where = "search space: parameter '" + name + "': ";
    if (!spec.is_object() || !spec.contains("type")) throw InvalidInput(where + "needs a `type`");
    ParamRange p;
    p.name = name;
    p.type = spec.at("type").get<std::string>();
    if (p.type == "choice") {
      if (!spec.contains("values") || !spec.at("values").is_array() || spec.at("values").empty())
        throw InvalidInput(where + "a choice needs a non-empty `values` list");
      for (const auto& v : spec.at("values")) p.values.push_back(v);
    } else if (p.type == "uniform" || p.type == "loguniform" || p.type == "int" || p.type == "logint") {
      if (!spec.contains("low") || !spec.contains("high") || !spec.at("low").is_number() ||
          !spec.at("high").is_number())
        throw InvalidInput(where + "needs numeric `low` and `high`");
      p.low = spec.at("low").get<double>();
      p.high = spec.at("high").get<double>();
      if (!(p.low <= p.high)) throw InvalidInput(where + "`low` must be <= `high`");
      if (p.is_log() && p.low <= 0) throw InvalidInput(where + "a log scale needs `low` > 0");
      if (p.is_int() && (p.low != std::floor(p.low) || p.high != std::floor(p.high)))
        throw InvalidInput(where + "integer ranges need integer bounds");
    } else {
      throw InvalidInput(where + "unknown type '" + p.type + "' (uniform, loguniform, int, logint, choice)");
    }
    if (s.fixed.contains(name)) throw InvalidInput(where + "is both fixed and searched");
    s.params.push_back(std::move(p));
  }
  return s;
}

SearchSpace SearchSpace::from_file(const std::string& path) {
  try {
    return from_json(load_yaml(path));  // YAML is a superset of JSON
  } catch (const nlohmann::json::exception& e) {
    throw InvalidInput(path + ": " + e.what());
  } catch (const InvalidInput& e) {
    const std::string msg = e.what();
    if (msg.rfind(path, 0) == 0) throw;
    throw InvalidInput(path + ": " + msg);
  }
}

nlohmann::json SearchSpace::to_json() const {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& p : this->params) {
    if (p.type == "choice")
      params[p.name] = {{"type", p.type}, {"values", p.values}};
    else
      params[p.name] = {{"type", p.type}, {"low", p.low}, {"high", p.high}};
  }
  nlohmann::json out = {{"model", model}, {"objective", objective}, {"fixed", fixed}, {"params", params}};
  if (request_at != "none") out["request_at"] = request_at;  // a store made before the key resumes
  return out;
}

namespace {

/// Grid: the index-th combination in mixed-radix order (nothing once every one was tried).
std::optional<nlohmann::json> grid_suggestion(const SearchSpace& space, const SamplerOptions& o, std::int64_t index) {
  std::vector<std::vector<nlohmann::json>> axes;
  for (const auto& p : space.params) {
    std::vector<nlohmann::json> vals;
    if (p.type == "choice") {
      vals = p.values;
    } else {
      const double lo = to_internal(p, p.low), hi = to_internal(p, p.high);
      const int n = std::max(1, o.grid_points);
      for (int i = 0; i < n; ++i) {
        const auto v = numeric_value(p, n == 1 ? (lo + hi) / 2 : lo + (hi - lo) * i / (n - 1));
        if (std::find(vals.begin(), vals.end(), v) == vals.end()) vals.push_back(v);
      }
    }
    axes.push_back(std::move(vals));
  }
  nlohmann::json out = nlohmann::json::object();
  auto rest = index;
  for (std::size_t a = axes.size(); a-- > 0;) {
    const auto n = static_cast<std::int64_t>(axes[a].size());
    out[space.params[a].name] = axes[a][static_cast<std::size_t>(rest % n)];
    rest /= n;
  }
  if (rest > 0) return std::nullopt;
  return out;
}

/// TPE for a choice: the candidate (drawn from the good trials' smoothed counts) with the best
/// good/bad probability ratio.
nlohmann::json tpe_choice(const ParamRange& p, const std::vector<nlohmann::json>& gv,
                          const std::vector<nlohmann::json>& bv, int candidates, Rng& rng) {
  std::vector<double> l(p.values.size(), 1.0), g(p.values.size(), 1.0);
  for (const auto& v : gv)
    if (auto i = choice_index(p, v); i < l.size()) l[i] += 1;
  for (const auto& v : bv)
    if (auto i = choice_index(p, v); i < g.size()) g[i] += 1;
  double lt = 0, gt = 0;
  for (std::size_t i = 0; i < l.size(); ++i) lt += l[i], gt += g[i];
  double best = -1;
  std::size_t pick = 0;
  for (int c = 0; c < candidates; ++c) {
    double u = rand01(rng) * lt;  // a draw from l
    std::size_t i = 0;
    while (i + 1 < l.size() && u >= l[i]) u -= l[i++];
    const double ratio = (l[i] / lt) / (g[i] / gt);
    if (ratio > best) best = ratio, pick = i;
  }
  return p.values[pick];
}

/// TPE for a numeric range: the candidate (drawn from the good trials' Parzen estimator) with the
/// best log density ratio of good over bad.
nlohmann::json tpe_numeric(const ParamRange& p, const std::vector<nlohmann::json>& gv,
                           const std::vector<nlohmann::json>& bv, int candidates, Rng& rng) {
  auto internal = [&](const std::vector<nlohmann::json>& v) {
    std::vector<double> x;
    for (const auto& e : v)
      if (e.is_number()) x.push_back(to_internal(p, e.get<double>()));
    return x;
  };
  const Parzen l(p, internal(gv)), g(p, internal(bv));
  double best = -std::numeric_limits<double>::infinity();
  nlohmann::json pick;
  for (int c = 0; c < candidates; ++c) {
    const auto v = numeric_value(p, l.sample(rng));
    const double x = to_internal(p, v.get<double>());
    const double score = std::log(l.density(x) + 1e-300) - std::log(g.density(x) + 1e-300);
    if (score > best) best = score, pick = v;
  }
  return pick;
}

std::vector<nlohmann::json> observed(const std::vector<const Trial*>& group, const std::string& name) {
  std::vector<nlohmann::json> v;
  for (const auto* t : group)
    if (t->params.contains(name)) v.push_back(t->params.at(name));
  return v;
}

}  // namespace

std::optional<nlohmann::json> suggest(const SearchSpace& space, const SamplerOptions& o,
                                      const std::vector<Trial>& history, std::int64_t index, std::uint64_t seed) {
  if (o.strategy == "grid") return grid_suggestion(space, o, index);
  Rng rng = Rng(seed).fork(static_cast<std::uint64_t>(index));
  nlohmann::json out = nlohmann::json::object();
  std::vector<const Trial*> done;
  for (const auto& t : history)
    if ((t.status == TrialStatus::kComplete || t.status == TrialStatus::kAbandoned) && t.value) done.push_back(&t);
  if (o.strategy == "random" || static_cast<int>(done.size()) < std::max(o.startup, 2)) {
    if (o.strategy != "random" && o.strategy != "tpe")
      throw InvalidInput("unknown search strategy '" + o.strategy + "' (grid, random, tpe)");
    for (const auto& p : space.params) out[p.name] = random_value(p, rng);
    return out;
  }
  // TPE: good = the best ceil(gamma * n) trials.
  std::stable_sort(done.begin(), done.end(), [](const Trial* a, const Trial* b) { return *a->value > *b->value; });
  const auto n_good =
      std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(o.gamma * static_cast<double>(done.size()))));
  const std::vector<const Trial*> good(done.begin(), done.begin() + static_cast<std::ptrdiff_t>(n_good)),
      bad(done.begin() + static_cast<std::ptrdiff_t>(n_good), done.end());
  for (const auto& p : space.params) {
    const auto gv = observed(good, p.name), bv = observed(bad, p.name);
    out[p.name] =
        p.type == "choice" ? tpe_choice(p, gv, bv, o.candidates, rng) : tpe_numeric(p, gv, bv, o.candidates, rng);
  }
  // Never repeat a finished trial: fall back to a random draw.
  for (const auto* t : done)
    if (t->params == out) {
      for (const auto& p : space.params) out[p.name] = random_value(p, rng);
      break;
    }
  return out;
}

bool should_abandon(const std::vector<double>& values, const std::vector<Trial>& finished, int min_trials) {
  if (values.size() < 2) return false;  // grace: one check is too noisy to judge on
  const auto j = values.size();
  const double mine = *std::max_element(values.begin(), values.end());
  std::vector<double> others;
  for (const auto& t : finished) {
    if (t.status != TrialStatus::kComplete || t.intermediate.size() < j) continue;
    others.push_back(
        *std::max_element(t.intermediate.begin(), t.intermediate.begin() + static_cast<std::ptrdiff_t>(j)));
  }
  if (static_cast<int>(others.size()) < std::max(1, min_trials)) return false;
  std::sort(others.begin(), others.end());
  const auto m = others.size();
  const double median = m % 2 ? others[m / 2] : (others[m / 2 - 1] + others[m / 2]) / 2;
  return mine < median;
}

std::optional<Trial> best_trial(const std::vector<Trial>& trials) {
  std::optional<Trial> best;
  for (const auto& t : trials)
    if (t.status == TrialStatus::kComplete && t.value && (!best || *t.value > *best->value)) best = t;
  return best;
}

std::string to_string(TrialStatus s) {
  switch (s) {
    case TrialStatus::kRunning:
      return "running";
    case TrialStatus::kComplete:
      return "complete";
    case TrialStatus::kAbandoned:
      return "abandoned";
    case TrialStatus::kFailed:
      return "failed";
  }
  return "?";
}

}  // namespace driftrec::tune
