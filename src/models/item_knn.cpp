#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>

#include "driftrec/core/error.h"
#include "driftrec/core/parallel.h"
#include "driftrec/models/classic.h"
#include "driftrec/models/weights_io.h"

namespace driftrec::models {

const ParamSet& ItemKnnModel::params() {
  static const ParamSet p(
      "itemknn",
      {
          int_param("neighbors", 100, "similar items kept per item", 1, 100000),
          int_param("window", 0, "count co-occurrence only within N positions of a user's sequence (0 = whole history)",
                    0),
          float_param("shrink", 10.0, "shrinkage added to the cosine denominator (damps rare co-occurrences)", 0.0),
          string_param("decay", "none", "weight of a past event by its age", {"none", "position", "time"}),
          float_param("half_life", 10.0, "decay half-life: events (position) or days (time)", 1e-6),
      });
  return p;
}

ItemKnnModel::ItemKnnModel(const nlohmann::json& config) : Model(params().resolve(config)) {}

namespace {

/// Each item's occurrences (log rows, so grouped by user: CSR by item) and its number of distinct users.
struct ItemOccurrences {
  std::vector<std::int64_t> offsets, rows;
  std::vector<float> users;
};

ItemOccurrences item_occurrences(const data::InteractionLog& log, std::size_t n) {
  ItemOccurrences o;
  o.offsets.assign(n + 1, 0);
  for (auto it : log.item) ++o.offsets[static_cast<std::size_t>(it) + 1];
  std::partial_sum(o.offsets.begin(), o.offsets.end(), o.offsets.begin());
  o.rows.resize(log.size());
  auto fill = o.offsets;
  for (std::size_t r = 0; r < log.size(); ++r)
    o.rows[static_cast<std::size_t>(fill[static_cast<std::size_t>(log.item[r])]++)] = static_cast<std::int64_t>(r);
  o.users.assign(n, 0.0f);
  for (std::size_t i = 1; i < n; ++i)
    for (auto q = o.offsets[i]; q < o.offsets[i + 1]; ++q)
      o.users[i] +=
          q == o.offsets[i] || log.user[static_cast<std::size_t>(o.rows[static_cast<std::size_t>(q)])] !=
                                   log.user[static_cast<std::size_t>(o.rows[static_cast<std::size_t>(q - 1)])];
  return o;
}

}  // namespace

void ItemKnnModel::fit(const data::Dataset& train, const FitOptions& options) {
  const auto& log = train.log;
  if (log.size() == 0) throw InvalidInput("itemknn: no training events");
  if (config_["decay"] == "time" && !train.has_clock)
    throw InvalidInput("itemknn: decay=time needs real timestamps; use decay=position for order-only data");
  const auto n = static_cast<std::size_t>(train.n_items());
  const auto n_users = static_cast<std::size_t>(train.n_users());
  const auto occurrences = item_occurrences(log, n);
  const auto& occ_off = occurrences.offsets;
  const auto& occ = occurrences.rows;
  const auto& users_of = occurrences.users;
  const auto window = static_cast<std::int64_t>(config_["window"].get<long long>());
  const auto k = static_cast<std::size_t>(config_["neighbors"].get<long long>());
  const auto shrink = static_cast<float>(config_["shrink"].get<double>());
  std::vector<std::vector<std::pair<std::int32_t, float>>> rows(n);
  const int threads = resolve_threads(options.threads);
  std::vector<std::vector<float>> acc(static_cast<std::size_t>(threads), std::vector<float>(n, 0.0f));
  std::vector<std::vector<std::int32_t>> stamp(static_cast<std::size_t>(threads), std::vector<std::int32_t>(n, 0));
  std::vector<std::vector<std::int32_t>> touched(static_cast<std::size_t>(threads));
  std::atomic<std::size_t> done{0};
  parallel_blocks(n, 256, threads, [&](std::size_t b, std::size_t e, int t) {
    auto& a = acc[static_cast<std::size_t>(t)];
    auto& st = stamp[static_cast<std::size_t>(t)];
    auto& tl = touched[static_cast<std::size_t>(t)];
    for (std::size_t i = std::max<std::size_t>(b, 1); i < e; ++i) {
      tl.clear();
      // co(i, j) = number of users in whose history j occurs within `window` positions of i
      // (anywhere when window = 0); each user counts once per pair.
      for (auto q = occ_off[i]; q < occ_off[i + 1]; ++q) {
        const auto r = occ[static_cast<std::size_t>(q)];
        const auto u = log.user[static_cast<std::size_t>(r)];
        const auto lo = window > 0 ? std::max(log.user_begin(u), r - window) : log.user_begin(u);
        const auto hi = window > 0 ? std::min(log.user_end(u), r + window + 1) : log.user_end(u);
        for (auto x = lo; x < hi; ++x) {
          const auto j = static_cast<std::size_t>(log.item[static_cast<std::size_t>(x)]);
          if (j == i || st[j] == u) continue;
          st[j] = u;
          if (a[j] == 0.0f) tl.push_back(static_cast<std::int32_t>(j));
          a[j] += 1.0f;
        }
      }
      for (auto j : tl) st[static_cast<std::size_t>(j)] = 0;
      const auto ni = users_of[i];
      auto& row = rows[i];
      row.reserve(tl.size());
      for (auto j : tl) {
        const auto nj = users_of[static_cast<std::size_t>(j)];
        row.emplace_back(j, a[static_cast<std::size_t>(j)] / (std::sqrt(ni * nj) + shrink));
        a[static_cast<std::size_t>(j)] = 0.0f;
      }
      auto better = [](const auto& x, const auto& y) {
        return x.second > y.second || (x.second == y.second && x.first < y.first);
      };
      if (row.size() > k) {
        std::nth_element(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(k), row.end(), better);
        row.resize(k);
      }
      std::sort(row.begin(), row.end(), better);
    }
    const auto d = done.fetch_add(e - b) + (e - b);
    if (options.progress && t == 0) options.progress({"train itemknn", d, n, ""});
  });
  n_items_ = static_cast<std::int32_t>(n);
  n_users_ = static_cast<std::int32_t>(n_users);
  offsets_.assign(n + 1, 0);
  neighbors_.clear();
  similarity_.clear();
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& [j, s] : rows[i]) {
      neighbors_.push_back(j);
      similarity_.push_back(s);
    }
    offsets_[i + 1] = static_cast<std::int64_t>(neighbors_.size());
  }
  if (options.progress) options.progress({"train itemknn", n, n, ""});
}

std::vector<float> ItemKnnModel::event_weights(const UserState& s) const {
  const std::string decay = config_["decay"].get<std::string>();
  const double half_life = config_["half_life"].get<double>();
  std::vector<float> w(s.history.size(), 1.0f);
  if (s.history.empty() || decay == "none") return w;
  const auto n = s.history.size();
  const auto t_last = s.history.back().ts;
  for (std::size_t p = 0; p < n; ++p) {
    const double age =
        decay == "position" ? static_cast<double>(n - 1 - p) : static_cast<double>(t_last - s.history[p].ts) / 86400.0;
    w[p] = static_cast<float>(std::exp2(-std::max(0.0, age) / half_life));
  }
  return w;
}

void ItemKnnModel::score(const UserState& s, float* out) const {
  require_fitted();
  std::fill(out, out + n_items_, 0.0f);
  const auto w = event_weights(s);
  for (std::size_t p = 0; p < s.history.size(); ++p) {
    const auto i = static_cast<std::size_t>(s.history[p].item);
    for (auto q = offsets_[i]; q < offsets_[i + 1]; ++q)
      out[neighbors_[static_cast<std::size_t>(q)]] += w[p] * similarity_[static_cast<std::size_t>(q)];
  }
  mask_padding(out);
}

std::vector<Attribution> ItemKnnModel::explain(const UserState& s, std::int32_t item) const {
  require_fitted();
  if (item <= 0 || item >= n_items_) throw InvalidInput("itemknn: item index out of range");
  const auto w = event_weights(s);
  std::vector<Attribution> out;
  for (std::size_t p = 0; p < s.history.size(); ++p) {
    const auto i = static_cast<std::size_t>(s.history[p].item);
    for (auto q = offsets_[i]; q < offsets_[i + 1]; ++q)
      if (neighbors_[static_cast<std::size_t>(q)] == item) {
        out.push_back({p, s.history[p].item, w[p] * similarity_[static_cast<std::size_t>(q)]});
        break;
      }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Attribution& a, const Attribution& b) { return a.weight > b.weight; });
  return out;
}

void ItemKnnModel::save_weights(const std::string& path) const {
  require_fitted();
  WeightsWriter w;
  w.add_i64("offsets", offsets_, {offsets_.size()});
  w.add_i32("neighbors", neighbors_, {neighbors_.size()});
  w.add_f32("similarity", similarity_, {similarity_.size()});
  w.add_i64("n_users", {n_users_}, {1});
  w.write(path);
}

void ItemKnnModel::load_weights(const std::string& path) {
  WeightsReader r(path);
  const auto os = r.shape("offsets");
  if (os.size() != 1 || os[0] < 2) throw CorruptModel(path + ": 'offsets' must have at least 2 entries");
  auto offsets = r.i64("offsets", os);
  const auto nnz = static_cast<std::uint64_t>(offsets.back());
  auto neighbors = r.i32("neighbors", {nnz});
  auto similarity = r.f32("similarity", {nnz});
  const auto n = static_cast<std::int32_t>(os[0] - 1);
  for (std::size_t i = 0; i + 1 < offsets.size(); ++i)
    if (offsets[i] > offsets[i + 1] || offsets[0] != 0) throw CorruptModel(path + ": offsets are not monotone");
  for (auto j : neighbors)
    if (j <= 0 || j >= n) throw CorruptModel(path + ": neighbour index out of range");
  offsets_ = std::move(offsets);
  neighbors_ = std::move(neighbors);
  similarity_ = std::move(similarity);
  n_items_ = n;
  n_users_ = static_cast<std::int32_t>(r.i64("n_users", {1})[0]);
}

}  // namespace driftrec::models
