#include "driftrec/report/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <numeric>

#include "driftrec/core/error.h"
#include "driftrec/eval/significance.h"
#include "driftrec/eval/tracking.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/report/interest_timeline.h"
#include "driftrec/report/svg.h"
#include "driftrec/rerank/reranker.h"

namespace driftrec::report {

namespace {

const std::vector<int> kKs = {1, 2, 5, 10, 20, 50, 100};

std::string f4(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4f", v);
  return b;
}
std::string g3(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

/// What every section reads: the models, their evaluation on the chosen cases, the split.
struct Context {
  const std::vector<const models::LoadedModel*>& models;
  const std::vector<std::string>& labels;
  const data::Dataset& filtered;
  const data::Prepared& p;
  const std::vector<data::EvalCase>& cases;
  const ReportOptions& o;
  models::RequestTime when;  ///< when every list is asked for
  std::vector<eval::EvalResult> res;
  std::vector<std::string> names;  ///< model names, numbered when repeated
  /// Fairness rows: each model's own lists (res) and, with a re-ranker, its re-ranked lists.
  std::vector<std::pair<std::string, eval::EvalResult>> fair;
  std::int32_t n_items = 0;
  std::string item_label(std::int32_t i) const {
    std::string s = i >= 1 && i < p.full.items.size() ? p.full.items.name(i) : "?";
    const auto& titles = p.full.item_table.titles;
    if (static_cast<std::size_t>(i) < titles.size() && !titles[static_cast<std::size_t>(i)].empty())
      s += " " + titles[static_cast<std::size_t>(i)].substr(0, 24);
    return s;
  }
};

/// When the lists were asked for, as the summary says it.
std::string asked_at(const models::RequestTime& when) {
  switch (when.at) {
    case models::RequestTime::At::cutoff:
      return "asked for at the period's cutoff";
    case models::RequestTime::At::arrival:
      return "asked for at each case's first target";
    case models::RequestTime::At::none:
      break;
  }
  return "asked for without a time";
}

/// Data, split and date.
std::string summary(const Context& ctx) {
  std::string body;
  const auto t = std::time(nullptr);
  char when[64];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  body += "<section id=\"summary\"><h2>Data and split</h2><p>" + escape(ctx.o.data_name) + ": " +
          std::to_string(ctx.filtered.users.count()) + " users, " + std::to_string(ctx.filtered.items.count()) +
          " items, " + std::to_string(ctx.filtered.log.size()) + " events. Split <b>" + escape(ctx.p.split.protocol) +
          "</b>, evaluated on <b>" + escape(ctx.o.on) + "</b> (" + std::to_string(ctx.cases.size()) +
          " users), full ranking over all items, seen items excluded, lists " + asked_at(ctx.when) + ". Generated " +
          when + ".</p></section>\n";
  return body;
}

/// The comparison table with paired significance against the first model.
std::string comparison(const Context& ctx) {
  std::string body;
  const std::vector<std::string> tested = {"hr@10", "ndcg@10", "mrr"};
  std::vector<const std::map<std::string, std::vector<double>>*> per_case;
  for (const auto& r : ctx.res) per_case.push_back(&r.per_case);
  const auto cmps = eval::compare_to_baseline(per_case, tested, ctx.o.resamples, 42);
  body += "<section id=\"comparison\"><h2>Model comparison</h2><table><thead><tr><th>model</th>";
  for (const auto& m : tested) body += "<th>" + m + "</th><th>Δ vs " + escape(ctx.names[0]) + " (95% CI)</th>";
  body +=
      "<th>coverage@10</th><th>novelty@10</th><th>avg popularity@10</th><th>gini@10</th><th>train "
      "s</th></tr></thead><tbody>";
  for (std::size_t k = 0; k < ctx.models.size(); ++k) {
    body += "<tr><td>" + escape(ctx.names[k]) + " <span class=\"note\">" + escape(ctx.labels[k]) + "</span></td>";
    for (const auto& m : tested) {
      body += "<td>" + f4(ctx.res[k].metrics.at(m)) + "</td>";
      if (k == 0) {
        body += "<td class=\"note\">baseline</td>";
        continue;
      }
      for (std::size_t c = 0; c < cmps.size(); ++c)
        if (cmps[c].metric == m && cmps[c].model == k) {
          const bool sig = cmps[c].p_holm < 0.05;
          const auto& x = cmps[c].c;
          body += "<td class=\"" + std::string(x.diff < 0 ? "worse " : "") + (sig ? "sig" : "") +
                  "\" title=\"p = " + g3(x.p_value) + ", Holm-adjusted " + g3(cmps[c].p_holm) + "\">" +
                  (x.diff >= 0 ? "+" : "") + f4(x.diff) + " [" + f4(x.ci_low) + ", " + f4(x.ci_high) + "]" +
                  (sig ? " *" : "") + "</td>";
        }
    }
    const auto& mm = ctx.res[k].metrics;
    const double secs = ctx.models[k]->meta.value("training_seconds", std::nan(""));
    body += "<td>" + f4(mm.at("coverage@10")) + "</td><td>" + f4(mm.at("novelty@10")) + "</td><td>" +
            g3(mm.at("avg_popularity@10")) + "</td><td>" + f4(mm.at("gini@10")) + "</td><td>" +
            (std::isfinite(secs) ? g3(secs) : "-") + "</td></tr>";
  }
  body +=
      "</tbody></table><p class=\"note\">* significant at 0.05: paired t-test over users, Holm-Bonferroni over "
      "all " +
      std::to_string(cmps.size()) + " comparisons; intervals are bootstrap percentiles (" +
      std::to_string(ctx.o.resamples) + " resamples). Hover a difference for its p-values.</p></section>\n";
  return body;
}

/// Training loss and validation checks per epoch (model.json histories).
std::string training_curves(const Context& ctx) {
  std::string body;
  std::vector<Series> loss, valid;
  for (std::size_t k = 0; k < ctx.models.size(); ++k) {
    const auto h = ctx.models[k]->meta.value("history", nlohmann::json::array());
    Series l{ctx.names[k], {}, {}}, v{ctx.names[k], {}, {}};
    for (const auto& step : h) {
      const double e = step.value("epoch", std::nan(""));
      if (step.contains("loss")) l.x.push_back(e), l.y.push_back(step["loss"].get<double>());
      if (step.contains("valid")) v.x.push_back(e), v.y.push_back(step["valid"].get<double>());
    }
    if (!l.x.empty()) loss.push_back(l);
    if (!v.x.empty()) valid.push_back(v);
  }
  body += "<section id=\"training\"><h2>Training curves</h2>";
  if (loss.empty() && valid.empty()) {
    body += "<p class=\"note\">None of these models trains in epochs (no history in their model.json).</p>";
  } else {
    body += "<div class=\"grid\">" +
            report::line_chart("chart-loss", "Training loss per epoch", "epoch", "loss", loss) +
            report::line_chart("chart-valid", "Validation NDCG@10 (early-stopping checks)", "epoch", "NDCG@10", valid) +
            "</div>";
  }
  body += "<p class=\"note\">Models without iterative training (e.g. pop, itemknn) have no curve.</p></section>\n";
  return body;
}

/// HR@K and NDCG@K against K.
std::string metric_vs_k(const Context& ctx) {
  std::string body;
  std::vector<Series> hr, nd;
  for (std::size_t k = 0; k < ctx.models.size(); ++k) {
    Series a{ctx.names[k], {}, {}}, b{ctx.names[k], {}, {}};
    for (const int K : kKs) {
      a.x.push_back(K), a.y.push_back(ctx.res[k].metrics.at("hr@" + std::to_string(K)));
      b.x.push_back(K), b.y.push_back(ctx.res[k].metrics.at("ndcg@" + std::to_string(K)));
    }
    hr.push_back(a), nd.push_back(b);
  }
  body += "<section id=\"metric-vs-k\"><h2>Accuracy against the list length K</h2><div class=\"grid\">" +
          report::line_chart("chart-hr-k", "HR@K", "K", "HR@K", hr, true) +
          report::line_chart("chart-ndcg-k", "NDCG@K", "K", "NDCG@K", nd, true) + "</div></section>\n";
  return body;
}

/// Popularity deciles of the recommended slots, coverage, mean popularity.
std::string popularity(const Context& ctx) {
  std::string body;
  const auto counts = data::item_counts(ctx.p.split.train.log, ctx.n_items);
  std::vector<std::int32_t> order(static_cast<std::size_t>(std::max(0, ctx.n_items - 1)));
  std::iota(order.begin(), order.end(), 1);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) {
    return counts[static_cast<std::size_t>(a)] > counts[static_cast<std::size_t>(b)];
  });
  std::vector<int> decile(static_cast<std::size_t>(ctx.n_items), 9);
  for (std::size_t r = 0; r < order.size(); ++r)
    decile[static_cast<std::size_t>(order[r])] = static_cast<int>(10 * r / std::max<std::size_t>(1, order.size()));
  std::vector<std::string> groups;
  for (int d = 1; d <= 10; ++d) groups.push_back("D" + std::to_string(d));
  std::vector<Series> shares;
  Series truth{"test targets", {}, std::vector<double>(10, 0.0)};
  double nt = 0;
  for (const auto& c : ctx.cases)
    for (const auto t : c.targets)
      if (t >= 1 && t < ctx.n_items)
        truth.y[static_cast<std::size_t>(decile[static_cast<std::size_t>(t)])] += 1, nt += 1;
  for (auto& v : truth.y) v /= std::max(1.0, nt);
  for (std::size_t k = 0; k < ctx.models.size(); ++k) {
    Series s{ctx.names[k], {}, std::vector<double>(10, 0.0)};
    double n = 0;
    for (const auto& r : ctx.res[k].rankings)
      for (const auto i : r.top)
        if (i >= 1 && i < ctx.n_items) s.y[static_cast<std::size_t>(decile[static_cast<std::size_t>(i)])] += 1, n += 1;
    for (auto& v : s.y) v /= std::max(1.0, n);
    shares.push_back(s);
  }
  shares.push_back(truth);
  std::vector<double> cov, pop;
  for (const auto& r : ctx.res)
    cov.push_back(r.metrics.at("coverage@10")), pop.push_back(r.metrics.at("avg_popularity@10"));
  body +=
      "<section id=\"popularity\"><h2>Popularity bias and coverage</h2><div class=\"grid\">" +
      report::grouped_bars("chart-deciles", "Share of top-10 slots by item popularity decile (D1 = most popular tenth)",
                           groups, shares, "share of slots") +
      report::bar_chart("chart-coverage", "Catalogue coverage of the top-10 lists", ctx.names, cov) +
      report::bar_chart("chart-avgpop", "Mean training popularity of recommended items", ctx.names, pop, "%.1f") +
      "</div></section>\n";
  return body;
}

/// Distance of the top-10 category mix from the users' true interests (with a truth file).
std::string tracking(const Context& ctx) {
  if (ctx.o.truth.empty()) return "";
  const auto& truth_file = ctx.o.truth;
  std::string body;
  {
    const auto truth = eval::InterestTruth::read_csv(truth_file, ctx.p.full);
    eval::TrackingOptions to;
    std::vector<double> tv, kl;
    for (const auto& r : ctx.res) {
      const auto t = eval::track_cases(ctx.cases, r.rankings, ctx.p.full, truth, to);
      tv.push_back(t.tv()), kl.push_back(t.kl());
    }
    body += "<section id=\"tracking\"><h2>Tracking the users' current interests</h2><div class=\"grid\">" +
            report::bar_chart("chart-tracking-tv",
                              "Distance of the top-10's category mix from the true current interests (total variation)",
                              ctx.names, tv) +
            report::bar_chart("chart-tracking-kl", "KL(truth || top-10 mix), smoothed", ctx.names, kl) +
            "</div><p class=\"note\">Truth: " + escape(truth_file) +
            ", each case compared with the user's true category weights at its target's time; lower is better "
            "(0 = the list has the true mix). The lag after a shift needs the replay protocol "
            "(<code>driftrec evaluate --protocol replay</code>).</p></section>\n";
  }
  return body;
}

/// Chosen users: interest timeline (categories done vs recommended) and explanation heat maps.
/// One user's interest timeline (interest_timeline.h): categories of what they did in 8 spans of
/// their history, and of what the best model recommended at the end of each span, asked as every
/// list of the report is (with a time: at the user's next event, the last at the case's time).
std::string user_timeline(const Context& ctx, std::size_t best, const std::vector<data::Event>& hist,
                          const data::EvalCase& c, int ui) {
  const auto& table = ctx.p.full.item_table;
  std::string body;
  TimelineOptions topt;
  topt.timed = ctx.when.at != models::RequestTime::At::none;
  topt.last_asked = ctx.when.of(c);
  const auto spans = interest_timeline(*ctx.models[best]->model, table, c.user, hist, topt);
  std::vector<std::map<std::int32_t, double>> real, pred;
  std::map<std::int32_t, double> total;
  std::vector<std::string> cols;
  for (const auto& span : spans) {
    // Shares per column; which categories get a row of their own: events count 1, recommended items 1/2.
    std::size_t listed = 0;
    for (const auto& [cat, n] : span.recommended) listed += n;
    auto& done = real.emplace_back();
    auto& recommended = pred.emplace_back();
    for (const auto& [cat, n] : span.done) {
      done[cat] = static_cast<double>(n) / static_cast<double>(span.end - span.begin);
      total[cat] += static_cast<double>(n);
    }
    for (const auto& [cat, n] : span.recommended) {
      recommended[cat] = static_cast<double>(n) / static_cast<double>(listed);
      total[cat] += 0.5 * static_cast<double>(n);
    }
    cols.push_back("to #" + std::to_string(span.end));
  }
  std::vector<std::pair<double, std::int32_t>> ranked;
  for (const auto& [cat, v] : total) ranked.push_back({-v, cat});
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::int32_t> keep;
  std::vector<std::string> rows;
  for (std::size_t r = 0; r < ranked.size() && r < 7; ++r) {
    keep.push_back(ranked[r].second);
    rows.push_back(ranked[r].second >= 0 ? table.categories.name(ranked[r].second) : "(none)");
  }
  rows.push_back("other");
  auto to_shares = [&](const std::vector<std::map<std::int32_t, double>>& x) {
    std::vector<std::vector<double>> out;
    for (const auto& col : x) {
      std::vector<double> v(rows.size(), 0.0);
      for (const auto& [cat, s] : col) {
        const auto it = std::find(keep.begin(), keep.end(), cat);
        v[it == keep.end() ? rows.size() - 1 : static_cast<std::size_t>(it - keep.begin())] += s;
      }
      out.push_back(v);
    }
    return out;
  };
  body += report::stacked_columns("timeline-real-" + std::to_string(ui),
                                  "Categories of what they did (in 8 spans of their history)", cols, rows,
                                  to_shares(real)) +
          report::stacked_columns("timeline-pred-" + std::to_string(ui),
                                  "Categories " + ctx.names[best] + " recommended at the end of each span (top-10)",
                                  cols, rows, to_shares(pred));
  return body;
}

/// Why the best explaining model recommends its top 5: weight of each recent event.
std::string user_heat_map(const Context& ctx, std::size_t best_explain, const std::vector<data::Event>& hist,
                          const data::EvalCase& c, int ui) {
  std::string body;
  const auto& m = *ctx.models[best_explain]->model;
  auto state = m.encode(c.user, hist);
  state.now = ctx.when.of(c);
  const auto top = m.recommend(state, 5);
  const std::size_t shown = std::min<std::size_t>(15, state.history.size());
  const std::size_t first = state.history.size() - shown;
  std::vector<std::string> cols, rows;
  for (std::size_t e = first; e < state.history.size(); ++e)
    cols.push_back("-" + std::to_string(state.history.size() - e) + " " + ctx.item_label(state.history[e].item));
  std::vector<std::vector<double>> heat;
  for (const auto i : top.items) {
    rows.push_back(ctx.item_label(i));
    std::vector<double> row(shown, 0.0);
    for (const auto& a : m.explain(state, i))
      if (a.position >= first && a.position < state.history.size()) row[a.position - first] += a.weight;
    heat.push_back(row);
  }
  body += report::heat_map(
      "heatmap-" + std::to_string(ui),
      "Why " + ctx.names[best_explain] + " recommends its top 5: weight of each recent event (newest right)", rows,
      cols, heat);
  return body;
}

std::string users(const Context& ctx) {
  std::string body;
  // The best model by NDCG@10 draws the timeline; the best one that explains draws the heat map.
  std::size_t best = 0, best_explain = ctx.models.size();
  for (std::size_t k = 0; k < ctx.models.size(); ++k) {
    if (ctx.res[k].metrics.at("ndcg@10") > ctx.res[best].metrics.at("ndcg@10")) best = k;
    if (ctx.models[k]->model->capabilities().explain &&
        (best_explain == ctx.models.size() ||
         ctx.res[k].metrics.at("ndcg@10") > ctx.res[best_explain].metrics.at("ndcg@10")))
      best_explain = k;
  }
  std::vector<const data::EvalCase*> chosen;
  if (!ctx.o.users.empty()) {
    for (const auto& id : ctx.o.users) {
      const auto u = ctx.p.full.users.find(id);
      const auto it = std::find_if(ctx.cases.begin(), ctx.cases.end(), [&](const auto& c) { return c.user == u; });
      if (u < 0 || it == ctx.cases.end()) throw InvalidInput("users: '" + id + "' has no " + ctx.o.on + " case");
      chosen.push_back(&*it);
    }
  } else {
    std::vector<const data::EvalCase*> all;
    for (const auto& c : ctx.cases) all.push_back(&c);
    std::stable_sort(all.begin(), all.end(), [&](auto a, auto b) {
      return a->history_end - ctx.p.full.log.user_begin(a->user) > b->history_end - ctx.p.full.log.user_begin(b->user);
    });
    for (int i = 0; i < ctx.o.sample_users && i < static_cast<int>(all.size()); ++i)
      chosen.push_back(all[static_cast<std::size_t>(i)]);
  }
  const auto& table = ctx.p.full.item_table;
  const bool has_cats =
      table.has_categories() && table.category_offsets.size() >= static_cast<std::size_t>(ctx.n_items) + 1;
  body += "<section id=\"users\"><h2>Users: interests over time and why they get what they get</h2>";
  if (chosen.empty()) body += "<p class=\"note\">No users chosen.</p>";
  int ui = 0;
  for (const auto* c : chosen) {
    ++ui;
    const auto hist = ctx.p.full.log.events(ctx.p.full.log.user_begin(c->user), c->history_end);
    body += "<h3>User " + escape(ctx.p.full.users.name(c->user)) + " (" + std::to_string(hist.size()) +
            " past events; held-out item " + escape(c->targets.empty() ? "?" : ctx.item_label(c->targets[0])) +
            ")</h3><div class=\"grid\">";
    if (has_cats && !hist.empty()) {
      body += user_timeline(ctx, best, hist, *c, ui);
    } else {
      body += "<p class=\"note\">No item categories in this data: no interest timeline.</p>";
    }
    if (best_explain < ctx.models.size() && !hist.empty()) body += user_heat_map(ctx, best_explain, hist, *c, ui);
    body += "</div>";
  }
  if (best_explain == ctx.models.size()) body += "<p class=\"note\">No model here can explain its recommendations.</p>";
  body += "</section>\n";
  return body;
}

/// Fairness, calibration and diversity at K=10 (eval/fairness.h), with re-ranked rows.
std::string fairness(const Context& ctx) {
  if (ctx.fair.empty()) return "";
  const bool cats = ctx.p.full.item_table.has_categories();
  std::vector<std::pair<std::string, std::string>> cols = {{"ndcg@10", "NDCG@10"},
                                                           {"hr@10", "HR@10"},
                                                           {"aplt@10", "long-tail share"},
                                                           {"gini@10", "exposure Gini"},
                                                           {"coverage@10", "coverage"},
                                                           {"pop_rsp@10", "PopRSP"},
                                                           {"ndcg@10_gap", "active − inactive NDCG"}};
  if (cats) cols.insert(cols.end(), {{"miscalibration@10", "miscalibration"}, {"ild@10", "ILD"}});
  std::string body =
      "<section id=\"fairness\"><h2>Fairness, calibration and diversity</h2><p class=\"note\">Top-10 lists";
  if (!ctx.o.rerank.empty())
    body += "; rows marked + are re-ranked by <b>" + escape(ctx.o.rerank) + "</b> from each model's top " +
            std::to_string(ctx.o.rerank_depth);
  body += ". Long tail: " +
          std::string(ctx.o.groups.long_tail_file.empty() ? "items outside the most popular 20% of training events"
                                                          : escape(ctx.o.groups.long_tail_file)) +
          "; active users: " +
          (ctx.o.groups.active_file.empty() ? "the 20% with the longest histories" : escape(ctx.o.groups.active_file)) +
          " (docs/fairness.md).</p><table><thead><tr><th>lists</th>";
  for (const auto& c : cols) body += "<th>" + escape(c.second) + "</th>";
  body += "</tr></thead><tbody>";
  for (const auto& [name, r] : ctx.fair) {
    body += "<tr><td>" + escape(name) + "</td>";
    for (const auto& c : cols) {
      const auto it = r.metrics.find(c.first);
      body += "<td>" + (it == r.metrics.end() ? std::string("–") : f4(it->second)) + "</td>";
    }
    body += "</tr>";
  }
  return body + "</tbody></table></section>\n";
}

/// The fairness rows: each model's evaluation (with fairness options) and, with a re-ranker, a
/// re-ranked evaluation at K=10 (a quota re-ranker's top 10 depends on the list length).
void add_fairness_rows(Context& ctx, const data::Dataset& train, const eval::EvalOptions& eo,
                       const workflow::EvalFairness& fair) {
  const auto& o = ctx.o;
  std::unique_ptr<rerank::Reranker> reranker;
  if (!o.rerank.empty()) {
    if (o.rerank_depth < 1) throw InvalidInput("report: rerank depth must be at least 1");
    reranker = fair.reranker(o.rerank, ctx.p.full);
  }
  for (std::size_t m = 0; m < ctx.models.size(); ++m) {
    ctx.fair.emplace_back(ctx.names[m], ctx.res[m]);
    if (!reranker) continue;
    auto ro = eo;
    ro.ks = {10};
    ro.save_top = 0;
    workflow::use_reranker(ro, reranker.get(), ctx.p.full, fair.groups.active, o.rerank_depth);
    ctx.fair.emplace_back(
        ctx.names[m] + " + " + reranker->name(),
        models::evaluate_model(*ctx.models[m]->model, ctx.p.full, ctx.cases, train, ro, o.progress, ctx.when));
  }
}

}  // namespace

std::string html_report(const std::vector<const models::LoadedModel*>& models, const std::vector<std::string>& labels,
                        const workflow::CommonSplit& split, const ReportOptions& o) {
  if (models.empty() || labels.size() != models.size()) throw InvalidInput("report: one label per model is needed");
  if (o.on != "test" && o.on != "valid") throw InvalidInput("report: on must be 'test' or 'valid'");
  const auto& p = split.prepared;
  const auto& cases = o.on == "test" ? p.split.test : p.split.valid;
  if (cases.size() < 2) throw InvalidInput("report: fewer than two " + o.on + " cases");
  Context ctx{models,
              labels,
              split.filtered,
              p,
              cases,
              o,
              workflow::split_request_time(p, o.on, o.request_at),
              {},
              {},
              {},
              models[0]->model->n_items()};
  auto eo = workflow::eval_options_for(split.prep, p.full);
  eo.ks = kKs;
  eo.threads = o.threads;
  eo.save_top = 10;
  // The fairness section (on with a re-ranker too): its groups, and the options of every evaluation.
  const bool fair_section = o.fairness || !o.rerank.empty();
  workflow::EvalFairness fair;
  if (fair_section) {
    fair = workflow::eval_fairness(p.full, p.split.train, cases, o.groups);
    eo.fairness = fair.options;
  }
  for (const auto* m : models) {
    ctx.res.push_back(models::evaluate_model(*m->model, p.full, cases, p.split.train, eo, o.progress, ctx.when));
    std::string n = m->model->name();
    int dup = 0;
    for (const auto& prev : ctx.names)
      if (prev.rfind(n, 0) == 0) ++dup;
    ctx.names.push_back(dup ? n + " #" + std::to_string(dup + 1) : n);
  }
  if (fair_section) add_fairness_rows(ctx, p.split.train, eo, fair);
  const std::string body = summary(ctx) + comparison(ctx) + training_curves(ctx) + metric_vs_k(ctx) + popularity(ctx) +
                           fairness(ctx) + tracking(ctx) + users(ctx);
  return page(o.title, body);
}

}  // namespace driftrec::report
