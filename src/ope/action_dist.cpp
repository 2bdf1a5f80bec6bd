#include "driftrec/ope/action_dist.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <numeric>

#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"
#include "driftrec/data/readers.h"

namespace driftrec::ope {

namespace {

void check_distributions(const std::vector<double>& table, std::int32_t n_actions, std::size_t blocks,
                         std::int32_t n_positions) {
  if (n_actions <= 0 || n_positions <= 0) throw InvalidInput("a policy needs at least one action and one position");
  if (table.size() != blocks * static_cast<std::size_t>(n_actions))
    throw InvalidInput("action table has " + std::to_string(table.size()) + " entries, expected " +
                       std::to_string(blocks * n_actions));
  for (std::size_t b = 0; b < blocks; ++b) {
    double sum = 0;
    for (std::int32_t a = 0; a < n_actions; ++a) {
      const double p = table[b * n_actions + a];
      if (!(p >= 0.0 && p <= 1.0 + 1e-12))
        throw InvalidInput("probability " + std::to_string(p) + " of action " + std::to_string(a) + " at row " +
                           std::to_string(b / n_positions) + " position " + std::to_string(b % n_positions + 1) +
                           " is outside [0, 1]");
      sum += p;
    }
    if (std::abs(sum - 1.0) > 1e-6)
      throw InvalidInput("probabilities at row " + std::to_string(b / n_positions) + " position " +
                         std::to_string(b % n_positions + 1) + " sum to " + std::to_string(sum) + ", not 1");
  }
}

}  // namespace

TableDistribution::TableDistribution(std::int32_t n_actions, std::int32_t n_positions, std::vector<double> table)
    : n_actions_(n_actions), n_positions_(n_positions), table_(std::move(table)) {
  check_distributions(table_, n_actions_, static_cast<std::size_t>(std::max(n_positions_, 0)), n_positions_);
}

RowDistribution::RowDistribution(std::int32_t n_actions, std::int32_t n_positions, std::size_t n_rows,
                                 std::vector<double> table)
    : n_actions_(n_actions), n_positions_(n_positions), table_(std::move(table)) {
  check_distributions(table_, n_actions_, n_rows * static_cast<std::size_t>(std::max(n_positions_, 0)), n_positions_);
}

std::unique_ptr<TableDistribution> uniform_distribution(std::int32_t n_actions, std::int32_t n_positions) {
  if (n_actions <= 0 || n_positions <= 0) throw InvalidInput("a policy needs at least one action and one position");
  return std::make_unique<TableDistribution>(
      n_actions, n_positions, std::vector<double>(static_cast<std::size_t>(n_actions) * n_positions, 1.0 / n_actions));
}

std::unique_ptr<TableDistribution> bernoulli_ts_distribution(const std::vector<double>& alpha,
                                                             const std::vector<double>& beta, std::int32_t n_positions,
                                                             std::int64_t simulations, std::uint64_t seed) {
  const auto n = static_cast<std::int32_t>(alpha.size());
  if (beta.size() != alpha.size() || n == 0) throw InvalidInput("alpha and beta need one entry per action each");
  if (n_positions <= 0 || n_positions > n)
    throw InvalidInput("Thompson sampling fills " + std::to_string(n_positions) + " positions from " +
                       std::to_string(n) + " actions");
  if (simulations <= 0) throw InvalidInput("simulations must be positive");
  for (std::int32_t a = 0; a < n; ++a)
    if (!(alpha[a] > 0 && beta[a] > 0 && std::isfinite(alpha[a]) && std::isfinite(beta[a])))
      throw InvalidInput("Beta parameters of action " + std::to_string(a) + " must be positive");
  Rng rng(seed);
  std::vector<double> counts(static_cast<std::size_t>(n) * n_positions, 0.0);
  std::vector<double> theta(n);
  std::vector<std::int32_t> order(n);
  for (std::int64_t s = 0; s < simulations; ++s) {
    for (std::int32_t a = 0; a < n; ++a) {
      const double x = rng.gamma(alpha[a]), y = rng.gamma(beta[a]);
      theta[a] = x / (x + y);
    }
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + n_positions, order.end(), [&](std::int32_t i, std::int32_t j) {
      return theta[i] > theta[j] || (theta[i] == theta[j] && i < j);
    });
    for (std::int32_t p = 0; p < n_positions; ++p) counts[static_cast<std::size_t>(p) * n + order[p]] += 1.0;
  }
  for (double& c : counts) c /= static_cast<double>(simulations);
  return std::make_unique<TableDistribution>(n, n_positions, std::move(counts));
}

void read_beta_prior(const std::string& path, const std::string& campaign, std::vector<double>* alpha,
                     std::vector<double>* beta) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw IoError("cannot read " + path);
  } catch (const YAML::Exception& e) {
    throw InvalidInput(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  const auto node = root[campaign];
  if (!node) throw NotFound(path + ": no campaign '" + campaign + "'");
  auto read = [&](const char* key, std::vector<double>* out) {
    const auto list = node[key];
    if (!list || !list.IsSequence())
      throw InvalidInput(path + ": campaign '" + campaign + "' has no list '" + key + "'");
    out->clear();
    for (const auto& v : list) {
      try {
        out->push_back(v.as<double>());
      } catch (const YAML::Exception&) {
        throw InvalidInput(path + ":" + std::to_string(v.Mark().line + 1) + ": '" + key + "' entry is not a number");
      }
    }
  };
  read("alpha", alpha);
  read("beta", beta);
  if (alpha->size() != beta->size())
    throw InvalidInput(path + ": campaign '" + campaign + "' has " + std::to_string(alpha->size()) + " alphas and " +
                       std::to_string(beta->size()) + " betas");
}

std::unique_ptr<ActionDistribution> read_action_distribution(const std::string& path, std::int32_t n_actions,
                                                             std::int32_t n_positions, std::size_t n_rows) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read " + path);
  std::string line;
  if (!std::getline(in, line)) throw ParseError(path, 1, "header", "the file is empty");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  bool per_row;
  if (line == "action,position,probability")
    per_row = false;
  else if (line == "row,action,position,probability")
    per_row = true;
  else
    throw ParseError(path, 1, "header", "expected action,position,probability or row,action,position,probability");
  const std::size_t blocks = (per_row ? n_rows : 1) * static_cast<std::size_t>(n_positions);
  std::vector<double> table(blocks * n_actions, 0.0);
  const char* names[] = {"row", "action", "position", "probability"};
  std::int64_t line_no = 1;
  bool unterminated = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    if (line.back() == '\r') line.pop_back();
    const auto f = data::split_delimited(line, ',', false, &unterminated);
    const std::size_t want = per_row ? 4 : 3;
    if (f.size() != want)
      throw ParseError(path, line_no, "row",
                       "expected " + std::to_string(want) + " fields, found " + std::to_string(f.size()));
    std::int64_t v[3] = {0, 0, 0};
    const std::size_t off = per_row ? 0 : 1;
    const std::int64_t limit[3] = {static_cast<std::int64_t>(n_rows), n_actions, n_positions + 1};
    for (std::size_t k = 0; k + 1 < want; ++k) {
      const auto& t = f[k];
      const auto r = std::from_chars(t.data(), t.data() + t.size(), v[k + off]);
      const std::int64_t lo = k + off == 2 ? 1 : 0;
      if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size() || v[k + off] < lo ||
          v[k + off] >= limit[k + off])
        throw ParseError(
            path, line_no, names[k + off],
            "not an integer in [" + std::to_string(lo) + ", " + std::to_string(limit[k + off]) + "): '" + t + "'");
    }
    double p = 0;
    const auto& t = f.back();
    const auto r = std::from_chars(t.data(), t.data() + t.size(), p);
    if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size() || !(p >= 0.0 && p <= 1.0))
      throw ParseError(path, line_no, "probability", "not a probability in [0, 1]: '" + t + "'");
    const std::size_t block = static_cast<std::size_t>(v[0]) * n_positions + static_cast<std::size_t>(v[2] - 1);
    table[block * n_actions + static_cast<std::size_t>(v[1])] = p;
  }
  if (per_row) return std::make_unique<RowDistribution>(n_actions, n_positions, n_rows, std::move(table));
  return std::make_unique<TableDistribution>(n_actions, n_positions, std::move(table));
}

}  // namespace driftrec::ope
