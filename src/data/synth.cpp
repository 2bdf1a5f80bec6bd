#include "driftrec/data/synth.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"
#include "driftrec/data/interest_dynamics.h"
#include "driftrec/data/readers.h"

namespace driftrec::data {

namespace {

std::size_t sample_discrete(Rng& rng, const std::vector<double>& w) {
  double total = 0;
  for (double x : w) total += x;
  double u = rng.uniform() * total;
  for (std::size_t i = 0; i < w.size(); ++i) {
    u -= w[i];
    if (u < 0) return i;
  }
  return w.size() - 1;
}

// Popularity sampler within one category (cumulative weights + binary search).
struct CategoryItems {
  std::vector<std::int32_t> items;  // 0-based item numbers
  std::vector<double> cumulative;
  std::int32_t sample(Rng& rng) const {
    const double u = rng.uniform() * cumulative.back();
    const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
    return items[static_cast<std::size_t>(
        std::min<std::ptrdiff_t>(it - cumulative.begin(), static_cast<std::ptrdiff_t>(items.size()) - 1))];
  }
};

}  // namespace

namespace {

void check_options(const SynthOptions& o) {
  if (o.preset != "ecommerce" && o.preset != "news" && o.preset != "crossdomain")
    throw InvalidInput("unknown synthetic preset '" + o.preset + "' (ecommerce, news, crossdomain)");
  if (o.users < 1 || o.items < 2) throw InvalidInput("synthetic data needs at least 1 user and 2 items");
  if (o.mean_events < 2) throw InvalidInput("mean_events must be >= 2");
  if (o.shift_rate < 0 || o.shift_rate > 1 || o.drift < 0 || o.drift > 1 || o.correlation < 0 || o.correlation > 1)
    throw InvalidInput("shift_rate, drift and correlation must lie in [0, 1]");
  if (o.days <= 0) throw InvalidInput("days must be > 0");
}

/// The generated catalogue: categories, items by category (popularity-weighted), and for news the
/// items of each category in publication order.
struct Catalogue {
  bool cross = false, news = false;
  int per_domain = 0, n_cat = 0;
  std::int64_t period = 0;
  std::vector<CategoryItems> cat_items;
  std::vector<std::int32_t> perm;  ///< popularity rank of each item
  std::vector<std::vector<std::int32_t>> by_time;
};

Catalogue make_catalogue(const SynthOptions& o, Rng& rng, SynthData& d) {
  Catalogue cat;
  cat.cross = o.preset == "crossdomain";
  cat.news = o.preset == "news";
  int per_domain = o.categories > 0 ? o.categories : std::min(60, std::max(8, o.items / 60));
  if (cat.cross) per_domain = std::max(2, o.categories > 0 ? o.categories / 2 : per_domain / 2);
  cat.per_domain = per_domain;
  cat.n_cat = cat.cross ? 2 * per_domain : per_domain;
  const int n_cat = cat.n_cat;
  if (n_cat > o.items) throw InvalidInput("more categories than items");
  for (int c = 0; c < n_cat; ++c)
    d.category_names.push_back(cat.cross ? (c < per_domain ? "shop" : "social") + std::string("_c") +
                                               std::to_string(c % per_domain)
                                         : "c" + std::to_string(c));
  cat.period = static_cast<std::int64_t>(o.days * 86400.0);
  // Items: category, domain, popularity rank, and (news) text and publication time.
  d.items.resize(static_cast<std::size_t>(o.items));
  cat.cat_items.resize(static_cast<std::size_t>(n_cat));
  cat.perm.resize(static_cast<std::size_t>(o.items));
  std::iota(cat.perm.begin(), cat.perm.end(), 0);
  for (std::size_t i = cat.perm.size(); i > 1; --i) std::swap(cat.perm[i - 1], cat.perm[rng.uniform_int(i)]);
  std::vector<std::string> common;
  for (int w = 0; w < 200; ++w) common.push_back("w" + std::to_string(w));
  for (std::int32_t i = 0; i < o.items; ++i) {
    auto& it = d.items[static_cast<std::size_t>(i)];
    // The first n_cat items cover every category once; the rest are random.
    it.category = i < n_cat ? i : static_cast<std::int32_t>(rng.uniform_int(static_cast<std::uint64_t>(n_cat)));
    it.domain = cat.cross ? (it.category < per_domain ? "shop" : "social") : "";
    it.published =
        cat.news ? o.start_time + static_cast<std::int64_t>(rng.uniform() * static_cast<double>(cat.period)) : 0;
    if (cat.news) {
      const int len = 6 + static_cast<int>(rng.uniform_int(5));
      for (int k = 0; k < len; ++k) {
        std::string tok = rng.bernoulli(0.6)
                              ? "t" + std::to_string(it.category) + "_" + std::to_string(rng.uniform_int(25))
                              : common[rng.uniform_int(common.size())];
        it.title += (k ? " " : "") + tok;
      }
    }
    auto& ci = cat.cat_items[static_cast<std::size_t>(it.category)];
    ci.items.push_back(i);
    const double w = 1.0 / std::pow(static_cast<double>(cat.perm[static_cast<std::size_t>(i)]) + 1.0, o.zipf);
    it.popularity = w;
    ci.cumulative.push_back((ci.cumulative.empty() ? 0.0 : ci.cumulative.back()) + w);
  }
  // News: items of a category sorted by publication time for the "live items" lookup.
  cat.by_time.resize(static_cast<std::size_t>(n_cat));
  if (cat.news) {
    for (int c = 0; c < n_cat; ++c) {
      auto v = cat.cat_items[static_cast<std::size_t>(c)].items;
      std::sort(v.begin(), v.end(), [&](std::int32_t a, std::int32_t b) {
        return d.items[static_cast<std::size_t>(a)].published < d.items[static_cast<std::size_t>(b)].published;
      });
      cat.by_time[static_cast<std::size_t>(c)] = std::move(v);
    }
  }
  return cat;
}

/// A live news item of category c at time t (published in the last two days, newer ones more
/// likely); -1 when none is live.
std::int32_t pick_news(const Catalogue& cat, const SynthData& d, const SynthOptions& o, Rng& r, int c, std::int64_t t) {
  constexpr std::int64_t kLifetime = 2 * 86400;
  std::vector<double> w;
  std::vector<std::int32_t> live;
  for (auto i : cat.by_time[static_cast<std::size_t>(c)]) {
    const auto age = t - d.items[static_cast<std::size_t>(i)].published;
    if (age < 0) break;
    if (age > kLifetime) continue;
    live.push_back(i);
    w.push_back(std::exp(-static_cast<double>(age) / (kLifetime / 3.0)) /
                std::pow(static_cast<double>(cat.perm[static_cast<std::size_t>(i)]) + 1.0, o.zipf * 0.5));
  }
  if (live.empty()) return -1;
  return live[sample_discrete(r, w)];
}

/// One user's interests over all categories now (both domains for crossdomain).
std::vector<double> full_interest(const Catalogue& cat, const SynthOptions& o, const std::vector<double>& base,
                                  const std::vector<double>& other, double shop_share) {
  std::vector<double> interest(static_cast<std::size_t>(cat.n_cat));
  for (int c = 0; c < cat.per_domain; ++c) {
    interest[static_cast<std::size_t>(c)] = base[static_cast<std::size_t>(c)] * shop_share;
    if (cat.cross)
      interest[static_cast<std::size_t>(cat.per_domain + c)] =
          (o.correlation * base[static_cast<std::size_t>(c)] +
           (1 - o.correlation) * other[static_cast<std::size_t>(c)]) *
          (1 - shop_share);
  }
  return interest;
}

/// The events of one user u (1-based id), appended to d.events, and their true interests to d.truth.
class UserSimulation {
 public:
  UserSimulation(const Catalogue& cat, const SynthOptions& o, SynthData& d, Rng rng, std::int32_t u)
      : cat_(cat), o_(o), d_(d), ur_(std::move(rng)), u_(u) {}

  void run() {
    // Activity: log-normal around mean_events, at least 3 events.
    const double activity = std::exp(0.8 * ur_.normal() - 0.32);
    n_events_ = std::max(3, static_cast<int>(std::lround(o_.mean_events * activity)));
    const auto domain_size = static_cast<std::size_t>(cat_.per_domain);
    std::vector<double> base = dirichlet(ur_, domain_size);
    std::vector<double> target = dirichlet(ur_, domain_size);
    const std::vector<double> other = dirichlet(ur_, domain_size);  // crossdomain: independent part
    const double shop_share = cat_.cross ? 0.35 + 0.4 * ur_.uniform() : 1.0;
    const auto period = static_cast<double>(cat_.period);
    t_ = o_.start_time + static_cast<std::int64_t>(ur_.uniform() * 0.2 * period);
    const double mean_gap = std::max(600.0, 0.8 * period / std::max(1.0, n_events_ / 4.0));
    while (emitted_ < n_events_) {
      if (cat_.news && t_ > o_.start_time + cat_.period) break;  // nothing left to read
      // Drift between sessions.
      if (ur_.bernoulli(o_.shift_rate)) {
        shift_interests(base, ur_);
        target = dirichlet(ur_, domain_size);
      } else {
        for (std::size_t c = 0; c < base.size(); ++c) base[c] = (1 - o_.drift) * base[c] + o_.drift * target[c];
      }
      const auto interest = full_interest(cat_, o_, base, other, shop_share);
      for (int c = 0; c < cat_.n_cat; ++c)
        if (interest[static_cast<std::size_t>(c)] >= 0.05)
          d_.truth.push_back({u_, t_, c, static_cast<float>(interest[static_cast<std::size_t>(c)])});
      session(interest);
      t_ += 60 + static_cast<std::int64_t>(ur_.exponential(1.0 / mean_gap));
    }
  }

 private:
  void session(const std::vector<double>& interest) {
    const int session_cat = static_cast<int>(sample_discrete(ur_, interest));
    const int session_len = 1 + static_cast<int>(ur_.exponential(1.0 / 3.0));
    bool first = true;
    for (int k = 0; k < session_len && emitted_ < n_events_; ++k) {
      const int c = ur_.bernoulli(0.85) ? session_cat : static_cast<int>(sample_discrete(ur_, interest));
      std::int32_t item;
      if (!recent_.empty() && ur_.bernoulli(cat_.news ? 0.0 : 0.08)) {
        item = recent_[ur_.uniform_int(recent_.size())];  // re-visit
      } else if (cat_.news) {
        item = pick_news(cat_, d_, o_, ur_, c, t_);
        if (item < 0) {
          t_ += 60;
          continue;
        }
      } else {
        item = cat_.cat_items[static_cast<std::size_t>(c)].sample(ur_);
      }
      interact(item, first);
      first = false;
      recent_.push_back(item);
      if (recent_.size() > 20) recent_.erase(recent_.begin());
    }
  }

  // The behaviours one look at `item` produces (view, maybe search before, cart/buy after; a news
  // click with dwell; likes/shares in the social domain).
  void interact(std::int32_t item, bool first) {
    const auto& info = d_.items[static_cast<std::size_t>(item)];
    auto emit = [&](const std::string& behavior, float value) {
      d_.events.push_back({u_, item + 1, t_, behavior, value, info.domain});
      ++emitted_;
      t_ += 5 + static_cast<std::int64_t>(ur_.exponential(1.0 / 40.0));
    };
    const bool cross = cat_.cross;
    if (cat_.news) {
      emit("click", static_cast<float>(std::round(10 + ur_.exponential(1.0 / 60.0))));
    } else if (cross && info.domain == "social") {
      emit(ur_.bernoulli(0.8) ? "like" : "share", 1.0f);
    } else {
      if (first && !cross && ur_.bernoulli(0.25)) emit("search", 1.0f);
      emit("view", 1.0f);
      if (ur_.bernoulli(cross ? 0.04 : 0.075)) {
        if (!cross) emit("cart", 1.0f);
        if (ur_.bernoulli(cross ? 1.0 : 0.4)) emit("buy", 1.0f);
      }
    }
  }

  const Catalogue& cat_;
  const SynthOptions& o_;
  SynthData& d_;
  Rng ur_;
  std::int32_t u_;
  int n_events_ = 0, emitted_ = 0;
  std::int64_t t_ = 0;
  std::vector<std::int32_t> recent_;
};

// Keeps a user inside the simulated period: compresses their clock linearly if it overran (order
// and relative gaps are kept; news users stop at the end instead).
void squeeze_into_period(SynthData& d, std::size_t first_event, std::size_t first_truth, std::int64_t end_time) {
  if (d.events.size() <= first_event || d.events.back().ts <= end_time) return;
  const std::int64_t t0 = d.events[first_event].ts;
  const double scale = static_cast<double>(end_time - t0) / static_cast<double>(d.events.back().ts - t0);
  auto squeeze = [&](std::int64_t x) { return t0 + static_cast<std::int64_t>(static_cast<double>(x - t0) * scale); };
  for (std::size_t k = first_event; k < d.events.size(); ++k) d.events[k].ts = squeeze(d.events[k].ts);
  for (std::size_t k = first_truth; k < d.truth.size(); ++k) d.truth[k].ts = squeeze(d.truth[k].ts);
}

}  // namespace

SynthData generate_synthetic(const SynthOptions& o) {
  check_options(o);
  Rng rng(o.seed);
  SynthData d;
  d.options = o;
  const auto cat = make_catalogue(o, rng, d);
  for (std::int32_t u = 0; u < o.users; ++u) {
    const std::size_t first_event = d.events.size(), first_truth = d.truth.size();
    UserSimulation(cat, o, d, rng.fork(static_cast<std::uint64_t>(u)), u + 1).run();
    if (!cat.news) squeeze_into_period(d, first_event, first_truth, o.start_time + cat.period);
  }
  return d;
}

Dataset to_dataset(const SynthData& d) {
  DatasetBuilder b;
  b.dataset().name = "synth:" + d.options.preset;
  for (const auto& e : d.events)
    b.add("u" + std::to_string(e.user), "i" + std::to_string(e.item), e.ts, e.behavior, e.value, e.domain);
  for (std::size_t i = 0; i < d.items.size(); ++i) {
    const std::string id = "i" + std::to_string(i + 1);
    if (!b.dataset().items.contains(id)) continue;  // as load_dataset: table rows without events are ignored
    const auto& it = d.items[i];
    b.set_item_info(id, {d.category_names[static_cast<std::size_t>(it.category)]}, tokenize(it.title), it.title);
  }
  return b.finish();
}

void write_synthetic(const SynthData& d, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError(dir + ": cannot create directory: " + ec.message());
  auto open = [&](const std::string& name) {
    const std::string p = (std::filesystem::path(dir) / name).string();
    std::ofstream f(p, std::ios::binary);
    if (!f) throw IoError(p + ": cannot open for writing");
    return f;
  };
  {
    auto f = open("events.csv");
    f << "user_id,item_id,timestamp,behavior,value,domain\n";
    for (const auto& e : d.events)
      f << 'u' << e.user << ",i" << e.item << ',' << e.ts << ',' << e.behavior << ',' << e.value << ',' << e.domain
        << '\n';
    if (!f.flush()) throw IoError(dir + "/events.csv: write failed");
  }
  {
    auto f = open("items.csv");
    f << "item_id,category,domain,title\n";
    for (std::size_t i = 0; i < d.items.size(); ++i) {
      const auto& it = d.items[i];
      f << 'i' << i + 1 << ',' << d.category_names[static_cast<std::size_t>(it.category)] << ',' << it.domain << ','
        << it.title << '\n';
    }
    if (!f.flush()) throw IoError(dir + "/items.csv: write failed");
  }
  {
    auto f = open("interests.csv");
    f << "user_id,timestamp,category,weight\n";
    for (const auto& r : d.truth)
      f << 'u' << r.user << ',' << r.ts << ',' << d.category_names[static_cast<std::size_t>(r.category)] << ','
        << r.weight << '\n';
    if (!f.flush()) throw IoError(dir + "/interests.csv: write failed");
  }
}

}  // namespace driftrec::data
