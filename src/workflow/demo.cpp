#include "driftrec/workflow/demo.h"

#include <algorithm>
#include <map>

#include "driftrec/core/error.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/models/registry.h"

namespace driftrec::workflow {

namespace {

double share_in(const data::Dataset& ds, const TopK& top, std::int32_t category) {
  if (top.size() == 0) return 0.0;
  double n = 0;
  for (auto i : top.items) n += ds.item_table.primary_category(i) == category;
  return n / static_cast<double>(top.size());
}

nlohmann::json demo_config(const DemoOptions& o, const std::string& name) {
  nlohmann::json cfg = o.config ? o.config(name) : nlohmann::json::object();
  // Sequence-aware item-to-item: co-occurrence within 3 positions, recent events weighted with a
  // half-life of one event (the best settings on Beauty's and this data's validation splits).
  if (name == "itemknn" && !cfg.contains("decay")) {
    cfg["decay"] = "position";
    cfg["half_life"] = 1.0;
    cfg["window"] = 3;
  }
  return cfg;
}

/// A test user with a typical history (the first with 20-60 past events, else the first).
const data::EvalCase& typical_user(const data::Prepared& p) {
  for (const auto& tc : p.split.test) {
    const auto len = tc.history_end - p.full.log.user_begin(tc.user);
    if (len >= 20 && len <= 60) return tc;
  }
  return p.split.test.front();
}

/// Items by training popularity, most popular first.
std::vector<std::int32_t> by_popularity(const data::Prepared& p) {
  const auto counts = data::item_counts(p.split.train.log, p.full.n_items());
  std::vector<std::int32_t> items;
  for (std::int32_t i = 1; i < p.full.n_items(); ++i) items.push_back(i);
  std::stable_sort(items.begin(), items.end(), [&](auto a, auto b) {
    return counts[static_cast<std::size_t>(a)] > counts[static_cast<std::size_t>(b)];
  });
  return items;
}

LiveUpdate live_update(const models::Model& model, const std::string& name, const data::Prepared& p) {
  const auto& ds = p.full;
  const auto& c = typical_user(p);
  auto history = ds.log.events(ds.log.user_begin(c.user), c.history_end);
  auto state = model.encode(c.user, history);
  LiveUpdate live;
  live.model = name;
  live.user = c.user;
  live.history_length = history.size();
  std::map<std::int32_t, int> seen_cats;
  for (const auto& e : history) ++seen_cats[ds.item_table.primary_category(e.item)];
  for (const auto& [cat, n] : seen_cats) live.favourites.emplace_back(cat, n);
  std::stable_sort(live.favourites.begin(), live.favourites.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first > b.first;
  });
  live.favourites.resize(std::min<std::size_t>(3, live.favourites.size()));
  // The new interest: the category of the most popular items that the user has not touched.
  const auto popular = by_popularity(p);
  for (auto i : popular)
    if (!seen_cats.count(ds.item_table.primary_category(i))) {
      live.new_category = ds.item_table.primary_category(i);
      break;
    }
  if (live.new_category < 0) live.new_category = ds.item_table.primary_category(popular.back());
  live.before = model.recommend(state, 10);
  std::int64_t ts = history.empty() ? 0 : history.back().ts;
  const auto view = static_cast<std::int16_t>(std::max(0, ds.behaviors.find("view")));
  for (auto i : popular) {
    if (ds.item_table.primary_category(i) != live.new_category) continue;
    model.observe(state, data::Event{c.user, i, ts += 30, view, 0, 1.0f});
    live.viewed.push_back(i);
    if (live.viewed.size() == 3) break;
  }
  live.after = model.recommend(state, 10);
  live.share_before = share_in(ds, live.before, live.new_category);
  live.share_after = share_in(ds, live.after, live.new_category);
  if (model.capabilities().explain && live.after.size() > 0) live.why = model.explain(state, live.after.items[0]);
  return live;
}

}  // namespace

nlohmann::json Demo::to_json() const {
  nlohmann::json rows_json = nlohmann::json::array();
  for (const auto& r : rows)
    rows_json.push_back(
        {{"model", r.model}, {"config", r.config}, {"metrics", r.metrics}, {"training_seconds", r.training_seconds}});
  return {{"demo", rows_json}};
}

Demo run_demo(const DemoOptions& o) {
  if (o.models.empty()) throw InvalidInput("demo: no model to compare");
  const auto synth = data::generate_synthetic(o.synth);
  if (!o.data_out.empty()) data::write_synthetic(synth, o.data_out);
  data::PrepareOptions po;  // leave-one-out over all behaviours, consecutive repeats dropped
  po.dedup = true;
  Demo demo;
  demo.prepared = data::prepare(data::to_dataset(synth), po);
  const auto& p = demo.prepared;
  if (o.on_prepared) o.on_prepared(p);
  std::map<std::string, std::unique_ptr<models::Model>> trained;
  for (const auto& name : o.models) {
    auto model = models::create_model(name, demo_config(o, name));
    models::FitOptions fo;
    fo.threads = o.threads;
    fo.seed = o.synth.seed;
    const auto rep = models::fit_and_validate(*model, p.full, p.split, fo);
    eval::EvalOptions eo;
    eo.threads = o.threads;
    const auto res = models::evaluate_model(*model, p.full, p.split.test, p.split.train, eo);
    demo.rows.push_back({name, model->config(), res.metrics_json(), rep.seconds});
    if (o.on_row) o.on_row(demo.rows.back());
    trained[name] = std::move(model);
  }
  const std::string live = trained.count("itemknn") ? "itemknn" : o.models.front();
  demo.live = live_update(*trained.at(live), live, p);
  return demo;
}

}  // namespace driftrec::workflow
