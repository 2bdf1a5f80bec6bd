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

SynthData generate_synthetic(const SynthOptions& o) {
  if (o.preset != "ecommerce" && o.preset != "news" && o.preset != "crossdomain")
    throw InvalidInput("unknown synthetic preset '" + o.preset + "' (ecommerce, news, crossdomain)");
  if (o.users < 1 || o.items < 2) throw InvalidInput("synthetic data needs at least 1 user and 2 items");
  if (o.mean_events < 2) throw InvalidInput("mean_events must be >= 2");
  if (o.shift_rate < 0 || o.shift_rate > 1 || o.drift < 0 || o.drift > 1 || o.correlation < 0 || o.correlation > 1)
    throw InvalidInput("shift_rate, drift and correlation must lie in [0, 1]");
  if (o.days <= 0) throw InvalidInput("days must be > 0");
  const bool cross = o.preset == "crossdomain";
  const bool news = o.preset == "news";
  int per_domain = o.categories > 0 ? o.categories : std::min(60, std::max(8, o.items / 60));
  if (cross) per_domain = std::max(2, o.categories > 0 ? o.categories / 2 : per_domain / 2);
  const int n_cat = cross ? 2 * per_domain : per_domain;
  if (n_cat > o.items) throw InvalidInput("more categories than items");

  Rng rng(o.seed);
  SynthData d;
  d.options = o;
  for (int c = 0; c < n_cat; ++c)
    d.category_names.push_back(cross ? (c < per_domain ? "shop" : "social") + std::string("_c") +
                                           std::to_string(c % per_domain)
                                     : "c" + std::to_string(c));
  const std::int64_t period = static_cast<std::int64_t>(o.days * 86400.0);

  // Items: category, domain, popularity rank, and (news) text and publication time.
  d.items.resize(static_cast<std::size_t>(o.items));
  std::vector<CategoryItems> cat_items(static_cast<std::size_t>(n_cat));
  std::vector<std::int32_t> perm(static_cast<std::size_t>(o.items));
  std::iota(perm.begin(), perm.end(), 0);
  for (std::size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng.uniform_int(i)]);
  std::vector<std::string> common;
  for (int w = 0; w < 200; ++w) common.push_back("w" + std::to_string(w));
  for (std::int32_t i = 0; i < o.items; ++i) {
    auto& it = d.items[static_cast<std::size_t>(i)];
    // The first n_cat items cover every category once; the rest are random.
    it.category = i < n_cat ? i : static_cast<std::int32_t>(rng.uniform_int(static_cast<std::uint64_t>(n_cat)));
    it.domain = cross ? (it.category < per_domain ? "shop" : "social") : "";
    it.published = news ? o.start_time + static_cast<std::int64_t>(rng.uniform() * static_cast<double>(period)) : 0;
    if (news) {
      const int len = 6 + static_cast<int>(rng.uniform_int(5));
      for (int k = 0; k < len; ++k) {
        std::string tok = rng.bernoulli(0.6)
                              ? "t" + std::to_string(it.category) + "_" + std::to_string(rng.uniform_int(25))
                              : common[rng.uniform_int(common.size())];
        it.title += (k ? " " : "") + tok;
      }
    }
    auto& ci = cat_items[static_cast<std::size_t>(it.category)];
    ci.items.push_back(i);
    const double w = 1.0 / std::pow(static_cast<double>(perm[static_cast<std::size_t>(i)]) + 1.0, o.zipf);
    it.popularity = w;
    ci.cumulative.push_back((ci.cumulative.empty() ? 0.0 : ci.cumulative.back()) + w);
  }
  // News: items of a category sorted by publication time for the "live items" lookup.
  std::vector<std::vector<std::int32_t>> by_time(static_cast<std::size_t>(n_cat));
  if (news) {
    for (int c = 0; c < n_cat; ++c) {
      auto v = cat_items[static_cast<std::size_t>(c)].items;
      std::sort(v.begin(), v.end(), [&](std::int32_t a, std::int32_t b) {
        return d.items[static_cast<std::size_t>(a)].published < d.items[static_cast<std::size_t>(b)].published;
      });
      by_time[static_cast<std::size_t>(c)] = std::move(v);
    }
  }
  const std::int64_t lifetime = 2 * 86400;
  auto pick_news = [&](Rng& r, int c, std::int64_t t) -> std::int32_t {
    const auto& v = by_time[static_cast<std::size_t>(c)];
    // Live items: published in (t - lifetime, t]; newer ones are more likely.
    std::vector<double> w;
    std::vector<std::int32_t> live;
    for (auto i : v) {
      const auto age = t - d.items[static_cast<std::size_t>(i)].published;
      if (age < 0) break;
      if (age > lifetime) continue;
      live.push_back(i);
      w.push_back(std::exp(-static_cast<double>(age) / (lifetime / 3.0)) /
                  std::pow(static_cast<double>(perm[static_cast<std::size_t>(i)]) + 1.0, o.zipf * 0.5));
    }
    if (live.empty()) return -1;
    return live[sample_discrete(r, w)];
  };

  const std::int64_t end_time = o.start_time + period;
  for (std::int32_t u = 0; u < o.users; ++u) {
    const std::size_t first_event = d.events.size(), first_truth = d.truth.size();
    Rng ur = rng.fork(static_cast<std::uint64_t>(u));
    // Activity: log-normal around mean_events, at least 3 events.
    const double activity = std::exp(0.8 * ur.normal() - 0.32);
    const int n_events = std::max(3, static_cast<int>(std::lround(o.mean_events * activity)));
    const auto domain_size = static_cast<std::size_t>(per_domain);
    std::vector<double> base = dirichlet(ur, domain_size);
    std::vector<double> target = dirichlet(ur, domain_size);
    std::vector<double> other = dirichlet(ur, domain_size);  // crossdomain: independent part
    const double shop_share = cross ? 0.35 + 0.4 * ur.uniform() : 1.0;
    std::int64_t t = o.start_time + static_cast<std::int64_t>(ur.uniform() * 0.2 * static_cast<double>(period));
    const double mean_gap = std::max(600.0, 0.8 * static_cast<double>(period) / std::max(1.0, n_events / 4.0));
    int emitted = 0;
    std::vector<std::int32_t> recent;
    while (emitted < n_events) {
      if (news && t > o.start_time + period) break;  // nothing left to read
      // Drift between sessions.
      if (ur.bernoulli(o.shift_rate)) {
        shift_interests(base, ur);
        target = dirichlet(ur, domain_size);
      } else {
        for (std::size_t c = 0; c < base.size(); ++c) base[c] = (1 - o.drift) * base[c] + o.drift * target[c];
      }
      // Full interest over all categories (both domains for crossdomain).
      std::vector<double> interest(static_cast<std::size_t>(n_cat));
      for (int c = 0; c < per_domain; ++c) {
        interest[static_cast<std::size_t>(c)] = base[static_cast<std::size_t>(c)] * shop_share;
        if (cross)
          interest[static_cast<std::size_t>(per_domain + c)] =
              (o.correlation * base[static_cast<std::size_t>(c)] +
               (1 - o.correlation) * other[static_cast<std::size_t>(c)]) *
              (1 - shop_share);
      }
      for (int c = 0; c < n_cat; ++c)
        if (interest[static_cast<std::size_t>(c)] >= 0.05)
          d.truth.push_back({u + 1, t, c, static_cast<float>(interest[static_cast<std::size_t>(c)])});
      const int session_cat = static_cast<int>(sample_discrete(ur, interest));
      const int session_len = 1 + static_cast<int>(ur.exponential(1.0 / 3.0));
      bool first = true;
      for (int k = 0; k < session_len && emitted < n_events; ++k) {
        const int c = ur.bernoulli(0.85) ? session_cat : static_cast<int>(sample_discrete(ur, interest));
        std::int32_t item;
        if (!recent.empty() && ur.bernoulli(news ? 0.0 : 0.08)) {
          item = recent[ur.uniform_int(recent.size())];  // re-visit
        } else if (news) {
          item = pick_news(ur, c, t);
          if (item < 0) {
            t += 60;
            continue;
          }
        } else {
          item = cat_items[static_cast<std::size_t>(c)].sample(ur);
        }
        const auto& info = d.items[static_cast<std::size_t>(item)];
        auto emit = [&](const std::string& behavior, float value) {
          d.events.push_back({u + 1, item + 1, t, behavior, value, info.domain});
          ++emitted;
          t += 5 + static_cast<std::int64_t>(ur.exponential(1.0 / 40.0));
        };
        if (news) {
          emit("click", static_cast<float>(std::round(10 + ur.exponential(1.0 / 60.0))));
        } else if (cross && info.domain == "social") {
          emit(ur.bernoulli(0.8) ? "like" : "share", 1.0f);
        } else {
          if (first && !cross && ur.bernoulli(0.25)) emit("search", 1.0f);
          emit("view", 1.0f);
          if (ur.bernoulli(cross ? 0.04 : 0.075)) {
            if (!cross) emit("cart", 1.0f);
            if (ur.bernoulli(cross ? 1.0 : 0.4)) emit("buy", 1.0f);
          }
        }
        first = false;
        recent.push_back(item);
        if (recent.size() > 20) recent.erase(recent.begin());
      }
      t += 60 + static_cast<std::int64_t>(ur.exponential(1.0 / mean_gap));
    }
    // Keep the user inside the simulated period: compress their clock linearly if it overran
    // (order and relative gaps are kept; news users stop at the end instead).
    if (!news && d.events.size() > first_event && d.events.back().ts > end_time) {
      const std::int64_t t0 = d.events[first_event].ts;
      const double scale = static_cast<double>(end_time - t0) / static_cast<double>(d.events.back().ts - t0);
      auto squeeze = [&](std::int64_t x) {
        return t0 + static_cast<std::int64_t>(static_cast<double>(x - t0) * scale);
      };
      for (std::size_t k = first_event; k < d.events.size(); ++k) d.events[k].ts = squeeze(d.events[k].ts);
      for (std::size_t k = first_truth; k < d.truth.size(); ++k) d.truth[k].ts = squeeze(d.truth[k].ts);
    }
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
