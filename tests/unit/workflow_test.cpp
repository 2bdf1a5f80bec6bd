// The library workflows (train, evaluate, tune, demo, recommender, columns, re-ranking served models);
// the train layer's epoch loop is in epoch_loop_test.cpp. Just over 500 lines: one short suite per
// workflow sharing the `shop()` fixture; the next workflow's tests go into a file of their own.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "driftrec/core/config.h"
#include "driftrec/core/error.h"
#include "driftrec/data/columns.h"
#include "driftrec/data/synth.h"
#include "driftrec/eval/fairness.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"
#include "driftrec/train/early_stopping.h"
#include "driftrec/train/epoch_loop.h"
#include "driftrec/workflow/demo.h"
#include "driftrec/workflow/evaluate.h"
#include "driftrec/workflow/model_reranking.h"
#include "driftrec/workflow/recommender.h"
#include "driftrec/workflow/train.h"
#include "driftrec/workflow/tune.h"
#include "test_util.h"

namespace driftrec {
namespace {

namespace fs = std::filesystem;

// ---- columns ----

TEST(FromColumns, BuildsTheSameDatasetAsTheEventsAndNamesBadRows) {
  data::EventColumns c;
  c.source = "DataFrame";
  c.users = {"u1", "u2", "u1"};
  c.items = {"a", "b", "c"};
  c.ts = {30, 10, 20};
  c.behaviors = {"view", "buy", "view"};
  data::ItemColumns items;
  items.ids = {"a", "zzz"};
  items.categories = {"x|y", "q"};
  const auto ds = data::from_columns(c, items);
  EXPECT_EQ(ds.log.size(), 3u);
  const auto u1 = ds.users.find("u1");
  const auto ev = ds.log.events(ds.log.user_begin(u1), ds.log.user_end(u1));
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ds.items.name(ev[0].item), "c");  // sorted by time within the user
  EXPECT_TRUE(ds.item_table.has_categories());
  EXPECT_EQ(ds.items.find("zzz"), -1);  // item rows without events are ignored

  auto bad = c;
  bad.items[1] = "";
  EXPECT_EQ(test::thrown_message<InvalidInput>([&] { data::from_columns(bad); }),
            "DataFrame row 1, column 'item': empty id");
  bad = c;
  bad.values = {1.0f, NAN, 1.0f};
  EXPECT_THROW(data::from_columns(bad), InvalidInput);
  bad = c;
  bad.ts.pop_back();
  EXPECT_THROW(data::from_columns(bad), InvalidInput);
}

// ---- workflows ----

data::Dataset shop(int users = 200) {
  data::SynthOptions so;
  so.users = users;
  so.items = 120;
  so.seed = 11;
  so.mean_events = 15;
  return data::to_dataset(data::generate_synthetic(so));
}

TEST(TrainWorkflow, RecordsTypedHistoryAndSavesWhatLoads) {
  workflow::TrainOptions o;
  o.model = "bpr";
  o.config = {{"epochs", 4}, {"factors", 8}, {"eval_every", 1}};
  o.threads = 1;
  std::vector<int> seen;
  o.on_epoch = [&seen](const train::EpochRecord& r) { seen.push_back(r.epoch); };
  const auto t = workflow::train_model(shop(), o);
  ASSERT_FALSE(t.history.empty());
  EXPECT_EQ(seen.size(), t.history.size());
  EXPECT_EQ(t.loaded.meta["history"].size(), t.history.size());
  EXPECT_EQ(t.loaded.meta["best_epoch"].get<int>(), train::best_validated_epoch(t.history));
  EXPECT_GT(t.validation.metrics.at("ndcg@10"), 0.0);
  const auto dir = (fs::temp_directory_path() / "driftrec_workflow_train").string();
  t.save(dir);
  const auto loaded = models::load_model_dir(dir);
  EXPECT_EQ(loaded.meta["history"], t.loaded.meta["history"]);
  EXPECT_EQ(models::best_epoch(loaded.meta), t.loaded.meta["best_epoch"].get<int>());

  workflow::TrainOptions r;
  r.refit_from = dir;
  r.threads = 1;
  const auto refit = workflow::resolve_refit(r);
  EXPECT_EQ(refit.model, "bpr");
  EXPECT_TRUE(refit.prepare.refit);
  EXPECT_EQ(refit.config["epochs"].get<int>(), t.loaded.meta["best_epoch"].get<int>());
  EXPECT_EQ(*refit.seed, 42u);
  fs::remove_all(dir);
}

// Every user's last two events are items seen nowhere else (leave-one-out: "vx" is the validation
// target, "tx" the test target); counted in training they would be the most popular items of all.
data::Dataset held_out_items() {
  data::EventColumns c;
  c.source = "held-out";
  for (int u = 0; u < 40; ++u) {
    std::vector<std::string> items;
    for (int k = 0; k < 1 + u % 6; ++k) items.push_back("i" + std::to_string(k));
    if (u == 0) items[0] = "j0";  // i0 in 39 histories: below vx's 40 once validation is learned
    items.push_back("vx");
    items.push_back("tx");
    for (std::size_t t = 0; t < items.size(); ++t) {
      c.users.push_back("u" + std::to_string(u));
      c.items.push_back(items[t]);
      c.ts.push_back(1000 * u + static_cast<std::int64_t>(t));
    }
  }
  return data::from_columns(c);
}

std::vector<std::string> top_ids(workflow::TrainedModel t, std::size_t k) {
  workflow::Recommender rec(std::make_shared<const models::LoadedModel>(std::move(t.loaded)));
  rec.observe("someone", "i5", std::nullopt);
  workflow::RecommendQuery q;
  q.k = k;
  std::vector<std::string> ids;
  const auto top = rec.recommend({"someone"}, q).front();
  for (auto i : top.items) ids.push_back(rec.item_id(i));
  return ids;
}

TEST(TrainWorkflow, TrainingLearnsNoHeldOutEventAndRefitOnlyTheValidationOnes) {
  workflow::TrainOptions o;
  o.model = "pop";
  o.threads = 1;
  auto trained = workflow::train_model(held_out_items(), o);
  const auto dir = (fs::temp_directory_path() / "driftrec_workflow_heldout").string();
  trained.save(dir);
  EXPECT_EQ(top_ids(std::move(trained), 3), (std::vector<std::string>{"i0", "i1", "i2"}));
  workflow::TrainOptions r;
  r.refit_from = dir;
  r.threads = 1;
  EXPECT_EQ(top_ids(workflow::train_model(held_out_items(), workflow::resolve_refit(r)), 3),
            (std::vector<std::string>{"vx", "i0", "i1"}));
  fs::remove_all(dir);
}

TEST(EvaluateWorkflow, SavedRankingsAreWrittenAsTsvWithIds) {
  workflow::TrainOptions o;
  o.model = "pop";
  o.threads = 1;
  auto data = shop(60);
  const auto t = workflow::train_model(data, o);
  workflow::EvaluateOptions eo;
  eo.threads = 1;
  eo.save_top = 7;
  const auto ev = workflow::evaluate(t.loaded, data, eo);
  const auto path = (fs::temp_directory_path() / "driftrec_rankings.tsv").string();
  workflow::write_rankings_tsv(path, ev);
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "user\ttargets\tranked");
  std::size_t rows = 0;
  while (std::getline(in, line)) {
    const auto& r = ev.result.rankings.at(rows++);
    const auto tab1 = line.find('\t'), tab2 = line.rfind('\t');
    EXPECT_EQ(line.substr(0, tab1), ev.prepared.full.users.name(r.user));
    const auto ranked = line.substr(tab2 + 1);
    EXPECT_EQ(std::count(ranked.begin(), ranked.end(), ',') + 1, 7);
    EXPECT_EQ(ranked.substr(0, ranked.find(',')), ev.prepared.full.items.name(r.top.front()));
  }
  EXPECT_EQ(rows, ev.result.rankings.size());
  EXPECT_GT(rows, 0u);
  fs::remove(path);
  EXPECT_THROW(workflow::write_rankings_tsv("/nonexistent-dir/x.tsv", ev), IoError);
}

TEST(TuneWorkflow, BestConfigYamlReadsBackAsTheSameConfig) {
  const auto path = (fs::temp_directory_path() / "driftrec_best.yaml").string();
  const nlohmann::json config = {{"factors", 32}, {"reg", 0.05}, {"loss", "bpr: \"quoted\""}, {"fused", true}};
  workflow::write_config_yaml(path, "ials", config, "a comment\nthat spans lines");
  auto back = load_config_file(path);
  EXPECT_EQ(back["model"], "ials");
  back.erase("model");
  EXPECT_EQ(back, config);
  fs::remove(path);
}

TEST(DemoWorkflow, ComparesTheModelsAndTheLiveListMovesToTheNewCategory) {
  workflow::DemoOptions o;
  o.synth.users = 300;
  o.synth.items = 200;
  o.synth.seed = 7;
  o.models = {"pop", "itemknn"};
  o.threads = 1;
  int rows = 0;
  o.on_row = [&rows](const workflow::DemoRow&) { ++rows; };
  const auto demo = workflow::run_demo(o);
  ASSERT_EQ(demo.rows.size(), 2u);
  EXPECT_EQ(rows, 2);
  EXPECT_EQ(demo.rows[1].config["decay"], "position");  // the sequence-aware item-to-item settings
  EXPECT_GT(demo.rows[1].metrics["ndcg@10"].get<double>(), demo.rows[0].metrics["ndcg@10"].get<double>());
  const auto& live = demo.live;
  const auto& items = demo.prepared.full.item_table;
  EXPECT_EQ(live.model, "itemknn");
  ASSERT_EQ(live.viewed.size(), 3u);
  for (auto i : live.viewed) EXPECT_EQ(items.primary_category(i), live.new_category);
  for (const auto& [cat, n] : live.favourites) EXPECT_NE(cat, live.new_category);
  EXPECT_GT(live.share_after, live.share_before + 0.15);  // three views move the list to the new category
  ASSERT_FALSE(live.why.empty());                         // itemknn explains: the new views drive the new first item
  EXPECT_EQ(items.primary_category(live.why.front().item), live.new_category);
  EXPECT_EQ(demo.to_json()["demo"].size(), 2u);
  o.models.clear();
  EXPECT_THROW(workflow::run_demo(o), InvalidInput);
}

TEST(EvaluateWorkflow, MatchesTheValidationOfTrainingAndChecksOptions) {
  workflow::TrainOptions o;
  o.model = "itemknn";
  o.threads = 1;
  auto data = shop();
  const auto t = workflow::train_model(data, o);
  workflow::EvaluateOptions eo;
  eo.on = "valid";
  eo.threads = 1;
  const auto ev = workflow::evaluate(t.loaded, data, eo);
  EXPECT_DOUBLE_EQ(ev.result.metrics.at("ndcg@10"), t.validation.metrics.at("ndcg@10"));
  EXPECT_EQ(ev.report["evaluated_on"], "valid");
  eo.on = "train";
  EXPECT_THROW(workflow::evaluate(t.loaded, data, eo), InvalidInput);
  eo.on = "test";
  eo.ks = {};
  EXPECT_THROW(workflow::evaluate(t.loaded, data, eo), InvalidInput);
}

TEST(EvaluateWorkflow, SkipRepeatsScoresOnlyTargetsNewToTheUser) {
  // The shop re-visits items, so some held-out items were seen before: by default they stay
  // rankable (and pop, which ranks popular items, hits some); with skip_repeats those cases go.
  workflow::TrainOptions o;
  o.model = "pop";
  o.threads = 1;
  auto data = shop();
  const auto t = workflow::train_model(data, o);
  workflow::EvaluateOptions eo;
  eo.threads = 1;
  const auto all = workflow::evaluate(t.loaded, data, eo);
  eo.skip_repeats = true;
  const auto fresh = workflow::evaluate(t.loaded, data, eo);
  const auto dropped = fresh.report["cases_without_new_targets"].get<std::size_t>();
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(fresh.result.users_evaluated + dropped, all.result.users_evaluated);
  EXPECT_TRUE(fresh.report["skip_repeats"].get<bool>());
  EXPECT_FALSE(all.report["skip_repeats"].get<bool>());
  EXPECT_EQ(all.report["cases_without_new_targets"], 0);
}

TEST(TrainWorkflow, SkipRepeatsValidatesOnTargetsNewToTheUser) {
  // Early stopping and model.json's validation then score what evaluate --skip-repeats scores on
  // the validation cases; a split whose validation targets were all seen before is refused.
  workflow::TrainOptions o;
  o.model = "pop";
  o.threads = 1;
  o.skip_repeats = true;
  auto data = shop();
  const auto t = workflow::train_model(data, o);
  EXPECT_TRUE(t.loaded.meta["validation_skip_repeats"].get<bool>());
  workflow::EvaluateOptions eo;
  eo.on = "valid";
  eo.threads = 1;
  const auto all = workflow::evaluate(t.loaded, data, eo);
  eo.skip_repeats = true;
  const auto fresh = workflow::evaluate(t.loaded, data, eo);
  EXPECT_LT(fresh.result.users_evaluated, all.result.users_evaluated);
  EXPECT_EQ(t.validation.users_evaluated, fresh.result.users_evaluated);
  EXPECT_DOUBLE_EQ(t.validation.metrics.at("ndcg@10"), fresh.result.metrics.at("ndcg@10"));
  o.skip_repeats = false;
  EXPECT_FALSE(workflow::train_model(data, o).loaded.meta["validation_skip_repeats"].get<bool>());

  data::EventColumns c;  // every user: a, b, a, b (leave-one-out: validation a, test b)
  c.source = "repeats";
  for (int u = 0; u < 5; ++u)
    for (int k = 0; k < 4; ++k) {
      c.users.push_back("u" + std::to_string(u));
      c.items.push_back(k % 2 ? "b" : "a");
      c.ts.push_back(10 * u + k);
    }
  o.skip_repeats = true;
  EXPECT_THROW(workflow::train_model(data::from_columns(c), o), InvalidInput);
  o.validate = false;  // nothing to validate: no complaint
  EXPECT_NO_THROW(workflow::train_model(data::from_columns(c), o));
}

TEST(Recommender, BatchesAgreeWithOneByOneAndObserveUpdates) {
  workflow::TrainOptions o;
  o.model = "itemknn";
  o.threads = 1;
  auto data = shop();
  auto t = workflow::train_model(data, o);
  auto model = std::make_shared<const models::LoadedModel>(std::move(t.loaded));
  workflow::Recommender rec(model);
  EXPECT_EQ(rec.set_histories(data), static_cast<std::size_t>(data.users.count()));
  std::vector<std::string> users = {data.users.name(1), data.users.name(2), "stranger"};
  workflow::RecommendQuery q;
  q.k = 5;
  std::vector<char> cold;
  const auto batch = rec.recommend(users, q, &cold);
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(cold, (std::vector<char>{0, 0, 1}));
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(rec.recommend({users[i]}, q)[0].items, batch[i].items);
  EXPECT_EQ(rec.users(), static_cast<std::size_t>(data.users.count()));  // the stranger is not remembered

  const auto before = rec.history_length(users[0]);
  const auto top = rec.model().items.name(batch[0].items[0]);
  EXPECT_TRUE(rec.observe(users[0], top));
  EXPECT_FALSE(rec.observe(users[0], "no-such-item"));
  EXPECT_EQ(rec.history_length(users[0]), before + 1);
  const auto after = rec.recommend({users[0]}, q);
  for (auto i : after[0].items) EXPECT_NE(rec.item_id(i), top);  // now seen: filtered
  EXPECT_FALSE(rec.explain(users[0], top).empty());
  EXPECT_THROW(rec.explain(users[0], "no-such-item"), NotFound);
  const auto sim = rec.similar(top, 3);
  EXPECT_EQ(sim.size(), 3u);
  q.candidates = {"nothing-known"};
  EXPECT_THROW(rec.recommend(users, q), InvalidInput);
}

TEST(TrainWorkflow, EarlyStoppingFollowsTheChosenObjective) {
  workflow::TrainOptions o;
  o.model = "bpr";
  o.config = {{"factors", 8}, {"epochs", 6}, {"eval_every", 1}, {"patience", 6}};
  o.threads = 1;
  o.objective = "recall@20";
  const auto t = workflow::train_model(shop(), o);
  EXPECT_EQ(t.loaded.meta["objective"], "recall@20");
  double best = -1;
  for (const auto& r : t.history)
    if (r.validated()) best = std::max(best, r.valid);
  // The weights kept are the best by recall@20, so the final validation recall@20 is that best.
  EXPECT_NEAR(t.validation.metrics.at("recall@20"), best, 1e-12);
  for (const char* bad : {"bogus", "ndcg@0", "ndcg@", "auc", "recall@x"}) {
    o.objective = bad;
    EXPECT_THROW(workflow::train_model(shop(), o), InvalidInput) << bad;
  }
  // One parser for training and tuning: a search space's objective is checked the same way.
  auto space =
      tune::SearchSpace::from_json({{"model", "bpr"},
                                    {"objective", "map@5"},
                                    {"params", {{"lr", {{"type", "loguniform"}, {"low", 1e-3}, {"high", 1e-1}}}}}});
  EXPECT_EQ(workflow::check_space(space, "space.yaml"), 5);
  space.objective = "mrr";
  EXPECT_EQ(workflow::check_space(space, "space.yaml"), 10);
  space.objective = "coverage@10";
  const auto refused = test::thrown_message<InvalidInput>([&] { workflow::check_space(space, "space.yaml"); });
  EXPECT_NE(refused.find("space.yaml: objective 'coverage@10'"), std::string::npos) << refused;
}

TEST(TrainWorkflow, OptionsAreCheckedBeforeAnyData) {
  // What check_train_options refuses, train_model refuses with the same message; neither needs data
  // to do so (the CLI checks before it reads a log).
  workflow::TrainOptions o;
  o.model = "bpr";
  o.config = {{"factors", 8}};
  EXPECT_NO_THROW(workflow::check_train_options(o));
  const auto refused = [](const workflow::TrainOptions& bad, const std::string& says) {
    const auto before = test::thrown_message<Error>([&] { workflow::check_train_options(bad); });
    EXPECT_NE(before.find(says), std::string::npos) << before;
    EXPECT_EQ(test::thrown_message<Error>([&] { workflow::train_model(shop(), bad); }), before);
  };
  auto bad = o;
  bad.config["factors"] = 0;
  refused(bad, "'factors' must be >= 1");
  bad = o;
  bad.model = "nosuch";
  refused(bad, "unknown model 'nosuch'");
  bad = o;
  bad.model.clear();
  refused(bad, "a model name is required");
  bad = o;
  bad.objective = "auc";
  refused(bad, "objective 'auc'");
  bad = o;
  bad.time_budget_s = -1;
  refused(bad, "time budget must be >= 0");
  // A refit source is read for its model and configuration: a missing one is refused up front too.
  bad = o;
  bad.refit_from = "/nonexistent/driftrec_model_dir";
  EXPECT_THROW(workflow::check_train_options(bad), Error);
}

TEST(TrainWorkflow, MinDeltaIsEveryIterativeModelsSettingAndRefitFollowsIt) {
  // No gain can exceed 1.0 (validation metrics are in [0, 1]): the first check is kept, patience
  // 2 stops after two more, and the refit trains for the kept epoch.
  workflow::TrainOptions o;
  o.model = "bpr";
  o.config = {{"factors", 8}, {"epochs", 20}, {"eval_every", 1}, {"patience", 2}, {"min_delta", 1.0}};
  o.threads = 1;
  const auto t = workflow::train_model(shop(), o);
  ASSERT_EQ(t.history.size(), 3u);
  EXPECT_TRUE(t.history.back().early_stop);
  EXPECT_EQ(models::best_epoch(t.loaded.meta), 1);
  for (const char* m : {"ials", "bpr"}) {  // the LibTorch models: tests/nn/side_info_test.cpp
    EXPECT_NO_THROW(models::create_model(m, {{"min_delta", 0.001}})) << m;
    EXPECT_THROW(models::create_model(m, {{"min_delta", -0.1}}), InvalidInput) << m;
  }
}

// ---- re-ranking served models ----

TEST(ModelReranking, ActiveThresholdFromTheHistogram) {
  const nlohmann::json h = {{1, 5}, {2, 3}, {10, 2}};    // 10 users
  EXPECT_EQ(workflow::active_min_history(h, 0.2), 10u);  // the top 2 users
  EXPECT_EQ(workflow::active_min_history(h, 0.3), 2u);   // 3 wanted: the 2-event users tie in
  EXPECT_EQ(workflow::active_min_history(h, 0.5), 2u);
  EXPECT_EQ(workflow::active_min_history(h, 1.0), 1u);
  EXPECT_EQ(workflow::active_min_history(h, 0.0), std::numeric_limits<std::size_t>::max());
  EXPECT_THROW(workflow::active_min_history(nlohmann::json{{1, -2}}, 0.2), InvalidInput);
}

struct RerankWorld {
  test::TempDir tmp;  // per process: ctest -j runs this file's tests side by side
  std::string dir = tmp.file("model");
  data::Dataset data = shop();
  RerankWorld() {
    auto m = models::create_model("itemknn", nlohmann::json::object());
    m->fit(data, {});
    models::save_model_dir(dir, *m, data);
  }
  std::shared_ptr<const models::LoadedModel> load() const {
    return std::make_shared<const models::LoadedModel>(models::load_model_dir(dir));
  }
};

TEST(ModelReranking, ModelDirectoryCarriesTrainingCountsForTheRerankers) {
  RerankWorld w;
  const auto model = w.load();
  EXPECT_EQ(model->item_counts, data::item_counts(w.data.log, w.data.items.size()));
  std::int64_t users = 0, events = 0;
  for (const auto& e : model->meta["user_history_lengths"]) {
    users += e[1].get<std::int64_t>();
    events += e[0].get<std::int64_t>() * e[1].get<std::int64_t>();
  }
  EXPECT_EQ(users, w.data.users.count());
  EXPECT_EQ(events, static_cast<std::int64_t>(w.data.log.size()));

  workflow::Recommender rec(model);
  rec.set_histories(w.data);
  std::vector<std::string> users_ids;
  for (std::int32_t u = 1; u <= 20; ++u) users_ids.push_back(w.data.users.name(u));
  workflow::RecommendQuery q;
  q.k = 10;
  const auto plain = rec.recommend(users_ids, q);
  q.rerank = "longtail:0.5";
  const auto quota = rec.recommend(users_ids, q);
  const auto tail = eval::long_tail_items(model->item_counts, model->items.size(), 0.2);
  int plain_tail = 0;
  for (std::size_t u = 0; u < users_ids.size(); ++u) {
    int n = 0;
    for (auto i : quota[u].items) n += tail[static_cast<std::size_t>(i)];
    for (auto i : plain[u].items) plain_tail += tail[static_cast<std::size_t>(i)];
    EXPECT_GE(n, 5) << users_ids[u];
    ASSERT_EQ(quota[u].size(), 10u);
    for (std::size_t r = 0; r < quota[u].size(); ++r) EXPECT_TRUE(std::isfinite(quota[u].scores[r]));
  }
  EXPECT_LT(plain_tail, 5 * 20);  // the model alone does not meet the quota
  // Consumer-fair: with every user active it is the exposure blend, with none the model's order.
  q.rerank = "exposure:0.7";
  const auto exposure = rec.recommend(users_ids, q);
  q.rerank = "consumer:0.7";
  workflow::GroupOptions all, none;
  all.active_share = 1.0;
  none.active_share = 0.0;
  workflow::Recommender everyone(model, all), nobody(model, none);
  everyone.set_histories(w.data);
  nobody.set_histories(w.data);
  const auto c_all = everyone.recommend(users_ids, q), c_none = nobody.recommend(users_ids, q);
  for (std::size_t u = 0; u < users_ids.size(); ++u) {
    EXPECT_EQ(c_all[u].items, exposure[u].items);
    EXPECT_EQ(c_none[u].items, plain[u].items);
  }
  q.rerank = "nonsense:0.1";
  EXPECT_THROW(rec.recommend(users_ids, q), InvalidInput);
}

TEST(ModelReranking, DirectoryWithoutCountsRefusesPopularityRerankersAndTamperingIsCaught) {
  RerankWorld w;
  {
    std::ofstream(fs::path(w.dir) / "item_counts.tsv", std::ios::app) << "7\n";
    EXPECT_THROW(models::load_model_dir(w.dir), CorruptModel);
  }
  fs::remove(fs::path(w.dir) / "item_counts.tsv");
  auto meta = models::read_model_meta(w.dir);
  meta["checksums"].erase("item_counts.tsv");
  meta.erase("user_history_lengths");
  std::ofstream(fs::path(w.dir) / "model.json") << meta.dump(2);
  const auto model = w.load();  // an older directory: loads, without counts
  EXPECT_TRUE(model->item_counts.empty());
  workflow::ModelReranking r(*model);
  const auto refused = test::thrown_message<InvalidInput>([&] { r.reranker("exposure:0.5"); });
  EXPECT_NE(refused.find("item_counts.tsv"), std::string::npos) << refused;
  EXPECT_THROW(r.reranker("consumer:0.5"), InvalidInput);
  EXPECT_NE(r.reranker("mmr:0.5"), nullptr);  // categories are still there
}

}  // namespace
}  // namespace driftrec
