// Model-specific checks against reference computations.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "driftrec/core/error.h"
#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/classic.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"
#include "driftrec/models/weights_io.h"
#include "test_util.h"

using namespace driftrec;

namespace {
data::Dataset tiny() {
  // u1: a b   u2: a b c   u3: a c
  data::DatasetBuilder b;
  b.add("u1", "a", 1);
  b.add("u1", "b", 2);
  b.add("u2", "a", 1);
  b.add("u2", "b", 2);
  b.add("u2", "c", 3);
  b.add("u3", "a", 1);
  b.add("u3", "c", 2);
  return b.finish();
}
}  // namespace

TEST(ItemKnn, CosineWithShrinkageByHand) {
  const auto ds = tiny();
  models::ItemKnnModel m(nlohmann::json{{"shrink", 1.0}});
  m.fit(ds, {});
  const auto a = ds.items.find("a"), b = ds.items.find("b"), c = ds.items.find("c");
  models::UserState s;
  s.history = {data::Event{0, a, 0, 0, 0, 1.0f}};
  std::vector<float> out(static_cast<std::size_t>(m.n_items()));
  m.score(s, out.data());
  // n_a = 3, n_b = 2, co(a, b) = 2 -> 2 / (sqrt(6) + 1); co(a, c) = 2 -> same; b, c: 1 / (2 + 1).
  EXPECT_NEAR(out[static_cast<std::size_t>(b)], 2.0 / (std::sqrt(6.0) + 1.0), 1e-6);
  EXPECT_NEAR(out[static_cast<std::size_t>(c)], 2.0 / (std::sqrt(6.0) + 1.0), 1e-6);
  EXPECT_EQ(out[static_cast<std::size_t>(a)], 0.0f);
  EXPECT_TRUE(std::isinf(out[0]));
  s.history.push_back(data::Event{0, b, 1, 0, 0, 1.0f});
  m.score(s, out.data());
  EXPECT_NEAR(out[static_cast<std::size_t>(c)], 2.0 / (std::sqrt(6.0) + 1.0) + 1.0 / 3.0, 1e-6);
  const auto attr = m.explain(s, c);
  ASSERT_EQ(attr.size(), 2u);
  EXPECT_NEAR(attr[0].weight + attr[1].weight, out[static_cast<std::size_t>(c)], 1e-6);
}

TEST(ItemKnn, WindowLimitsCoOccurrenceToNearbyPositions) {
  const auto ds = tiny();
  models::ItemKnnModel m(nlohmann::json{{"shrink", 0.0}, {"window", 1}});
  m.fit(ds, {});
  models::UserState s;
  s.history = {data::Event{0, ds.items.find("a"), 0, 0, 0, 1.0f}};
  std::vector<float> out(static_cast<std::size_t>(m.n_items()));
  m.score(s, out.data());
  // Within one position: (a, b) in u1 and u2; (a, c) only in u3 (u2 has b between them).
  EXPECT_NEAR(out[static_cast<std::size_t>(ds.items.find("b"))], 2.0 / std::sqrt(6.0), 1e-6);
  EXPECT_NEAR(out[static_cast<std::size_t>(ds.items.find("c"))], 1.0 / std::sqrt(6.0), 1e-6);
}

TEST(ItemKnn, PositionDecayFavoursRecentEvents) {
  const auto ds = tiny();
  models::ItemKnnModel m(nlohmann::json{{"decay", "position"}, {"half_life", 1.0}});
  m.fit(ds, {});
  const auto a = ds.items.find("a"), b = ds.items.find("b");
  models::UserState s;
  s.history = {data::Event{0, a, 0, 0, 0, 1.0f}, data::Event{0, b, 1, 0, 0, 1.0f}};
  const auto attr = m.explain(s, ds.items.find("c"));
  ASSERT_EQ(attr.size(), 2u);
  // a is one position older -> half weight: 0.5 * 2/(sqrt6+10) vs b: 1 * 1/(2+10)
  EXPECT_NEAR(attr[0].weight + attr[1].weight, 0.5 * 2.0 / (std::sqrt(6.0) + 10.0) + 1.0 / 12.0, 1e-6);
}

TEST(Pop, RecentWindowNeedsAClock) {
  data::DatasetBuilder b;
  b.dataset().has_clock = false;
  b.add("u", "a", 0);
  models::PopularityModel m(nlohmann::json{{"window_days", 1.0}});
  EXPECT_THROW(m.fit(b.finish(), {}), InvalidInput);
  data::DatasetBuilder c;
  c.add("u", "old", 0);
  c.add("v", "old", 10);
  c.add("w", "new", 10 * 86400);
  models::PopularityModel recent(nlohmann::json{{"window_days", 2.0}}), all(nlohmann::json::object());
  const auto ds = c.finish();
  recent.fit(ds, {});
  all.fit(ds, {});
  EXPECT_EQ(recent.recommend(models::UserState{}, 1).items[0], ds.items.find("new"));
  EXPECT_EQ(all.recommend(models::UserState{}, 1).items[0], ds.items.find("old"));
}

TEST(Ials, FoldInSolvesTheNormalEquationsAndExplainSumsToTheScore) {
  data::SynthOptions so;
  so.users = 120;
  so.items = 100;
  const auto ds = data::to_dataset(data::generate_synthetic(so));
  models::IalsModel m(nlohmann::json{{"factors", 8}, {"iterations", 4}, {"reg", 0.5}, {"alpha", 3.0}});
  m.fit(ds, {});
  const auto history = models::user_history(ds, 5);
  const auto s = m.encode(5, history);
  ASSERT_EQ(s.vector.size(), 8u);
  std::vector<float> scores(static_cast<std::size_t>(m.n_items()));
  m.score(s, scores.data());
  const auto top = m.recommend(s, 1, {});
  const auto attr = m.explain(s, top.items[0]);
  double sum = 0;
  for (const auto& a : attr) sum += a.weight;
  EXPECT_NEAR(sum, top.scores[0], 1e-3 * std::max(1.0f, std::fabs(top.scores[0])));
  // Observing an event equals encoding the longer history (the online update is exact).
  auto s2 = s;
  const data::Event e{5, ds.items.find("i7") > 0 ? ds.items.find("i7") : 1, history.back().ts + 1, 0, 0, 1.0f};
  m.observe(s2, e);
  auto longer = history;
  longer.push_back(e);
  const auto s3 = m.encode(5, longer);
  for (std::size_t k = 0; k < 8; ++k) EXPECT_FLOAT_EQ(s2.vector[k], s3.vector[k]);
}

TEST(Bpr, NewUsersAreFoldedIn) {
  data::SynthOptions so;
  so.users = 100;
  so.items = 80;
  const auto ds = data::to_dataset(data::generate_synthetic(so));
  models::BprModel m(nlohmann::json{{"factors", 8}, {"epochs", 5}});
  m.fit(ds, {});
  const auto h = models::user_history(ds, 3);
  const auto anon = m.encode(-1, h), known = m.encode(3, h);
  EXPECT_EQ(anon.user, -1);
  EXPECT_EQ(known.user, 3);
  EXPECT_NE(anon.vector, known.vector);
  EXPECT_EQ(m.recommend(anon, 5).size(), 5u);
  // A state made by another model is refused.
  models::UserState foreign;
  foreign.vector = {1.0f};
  std::vector<float> out(static_cast<std::size_t>(m.n_items()));
  EXPECT_THROW(m.score(foreign, out.data()), InvalidInput);
}

TEST(WeightsIo, RoundTripAndCorruption) {
  test::TempDir d;
  models::WeightsWriter w;
  w.add_f32("x", {1, 2, 3, 4, 5, 6}, {2, 3});
  w.add_i64("n", {7}, {1});
  w.write(d.file("w.bin"));
  models::WeightsReader r(d.file("w.bin"));
  EXPECT_EQ(r.f32("x", {2, 3}), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_THROW(r.f32("x", {3, 2}), CorruptModel);
  EXPECT_THROW(r.i32("x", {2, 3}), CorruptModel);
  EXPECT_THROW(r.f32("y", {1}), CorruptModel);
  EXPECT_THROW(w.add_f32("bad", {1, 2}, {3}), InvalidInput);
  d.write("trunc.bin", "DRWT\x01");
  EXPECT_THROW(models::WeightsReader(d.file("trunc.bin")), CorruptModel);
  EXPECT_THROW(models::WeightsReader(d.file("missing.bin")), IoError);
  // A view (no copy) writes the same bytes as a copy; take_f32 moves the array out of the reader.
  const auto slurp = [&d](const std::string& name) {
    std::ifstream in(d.file(name), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::vector<float> big = {1, 2, 3, 4, 5, 6};
  models::WeightsWriter v;
  v.add_f32_view("x", big, {2, 3});
  v.add_i64("n", {7}, {1});
  v.write(d.file("v.bin"));
  EXPECT_EQ(slurp("v.bin"), slurp("w.bin"));
  EXPECT_THROW(v.add_f32_view("bad", big, {4}), InvalidInput);
  models::WeightsReader t(d.file("v.bin"));
  EXPECT_EQ(t.take_f32("x", {2, 3}), big);
  EXPECT_THROW(t.f32("x", {2, 3}), CorruptModel);  // taken
  EXPECT_EQ(t.i64("n", {1}), (std::vector<std::int64_t>{7}));
  // One flipped data byte fails the checksum; a cut tail or an extra byte is refused too.
  auto bytes = slurp("w.bin");
  bytes[bytes.size() - 12] ^= 1;
  d.write("flip.bin", bytes);
  EXPECT_THROW(models::WeightsReader(d.file("flip.bin")), CorruptModel);
  d.write("cut.bin", slurp("w.bin").substr(0, bytes.size() - 3));
  EXPECT_THROW(models::WeightsReader(d.file("cut.bin")), CorruptModel);
  d.write("extra.bin", slurp("w.bin") + "x");
  EXPECT_THROW(models::WeightsReader(d.file("extra.bin")), CorruptModel);
}

TEST(ModelDir, RejectsTamperedFiles) {
  const auto ds = tiny();
  models::PopularityModel m(nlohmann::json::object());
  m.fit(ds, {});
  test::TempDir d;
  const auto dir = d.file("pop");
  models::save_model_dir(dir, m, ds);
  d.write("pop/items.tsv", "a\nb\nzzz\n");
  EXPECT_THROW(models::load_model_dir(dir), CorruptModel);
  models::save_model_dir(dir, m, ds);
  auto meta = models::load_model_dir(dir).meta;
  meta["format_version"] = 99;
  d.write("pop/model.json", meta.dump());
  EXPECT_THROW(models::load_model_dir(dir), CorruptModel);
  meta["format_version"] = models::kModelFormatVersion;
  meta["model"] = "nonexistent";
  d.write("pop/model.json", meta.dump());
  EXPECT_THROW(models::load_model_dir(dir), CorruptModel);
  d.write("pop/model.json", "{not json");
  EXPECT_THROW(models::load_model_dir(dir), CorruptModel);
}

TEST(ModelDir, BestEpochFromHistoryOrEarlyStopping) {
  using nlohmann::json;
  // The best validation check wins, wherever it is.
  json m = {{"epochs", 30},
            {"history", json::array({json{{"epoch", 5}, {"valid", 0.1}}, json{{"epoch", 10}, {"valid", 0.3}},
                                     json{{"epoch", 11}, {"loss", 2.0}}, json{{"epoch", 15}, {"valid", 0.2}}})}};
  EXPECT_EQ(models::best_epoch(m), 10);
  // A run that flagged its kept checks (min_delta > 0 may keep an earlier one than the maximum).
  json flagged = {{"epochs", 30},
                  {"history", json::array({json{{"epoch", 5}, {"valid", 0.1}, {"best", true}},
                                           json{{"epoch", 10}, {"valid", 0.3}, {"best", true}},
                                           json{{"epoch", 15}, {"valid", 0.3005}}})}};
  EXPECT_EQ(models::best_epoch(flagged), 10);
  // No history: an early-stopped run kept the weights patience x eval_every epochs before its end.
  json old = {{"epochs", 50}, {"config", {{"epochs", 300}, {"patience", 4}, {"eval_every", 5}}}};
  EXPECT_EQ(models::best_epoch(old), 30);
  old["epochs"] = 300;  // ran to the end: the last epoch
  EXPECT_EQ(models::best_epoch(old), 300);
  EXPECT_EQ(models::best_epoch(json{{"epochs", 0}}), 0);        // one-pass model
  EXPECT_EQ(models::best_epoch(json{{"epochs", nullptr}}), 0);  // ensemble
  // read_model_meta checks the directory and the format.
  test::TempDir d;
  EXPECT_THROW(models::read_model_meta(d.file("none")), NotFound);
  const auto ds = tiny();
  models::PopularityModel pop(nlohmann::json::object());
  pop.fit(ds, {});
  models::save_model_dir(d.file("pop"), pop, ds, {{"epochs", 0}});
  EXPECT_EQ(models::read_model_meta(d.file("pop"))["model"], "pop");
  d.write("pop/model.json", "{not json");
  EXPECT_THROW(models::read_model_meta(d.file("pop")), CorruptModel);
}

TEST(AlignIds, UsesTheModelsIndicesFirst) {
  const auto ds = tiny();
  data::IdMap users, items;
  items.add("c");
  items.add("a");
  users.add("u3");
  const auto al = data::align_ids(ds, users, items);
  EXPECT_EQ(al.items.find("c"), 1);
  EXPECT_EQ(al.items.find("a"), 2);
  EXPECT_EQ(al.items.find("b"), 3);
  EXPECT_EQ(al.users.find("u3"), 1);
  EXPECT_EQ(al.log.size(), ds.log.size());
  EXPECT_EQ(al.log.user_length(al.users.find("u2")), 3);
}

TEST(ModelDir, RefusesFilesThatAreNotRegularOrDisagreeWithModelJson) {
  namespace fs = std::filesystem;
  const auto ds = tiny();
  models::PopularityModel m(nlohmann::json::object());
  m.fit(ds, {});
  test::TempDir d;
  const auto dir = d.file("pop");
  auto fresh = [&] {
    models::save_model_dir(dir, m, ds);
    return fs::path(dir) / models::load_model_dir(dir).meta["weights"]["file"].get<std::string>();
  };
  auto message = [&] {
    try {
      models::load_model_dir(dir);
    } catch (const CorruptModel& e) {
      return std::string(e.what());
    }
    return std::string("loaded");
  };
  // A weights file that never ends (/dev/zero) or blocks (a FIFO) is refused before it is read.
  auto w = fresh();
  fs::remove(w);
  fs::create_symlink("/dev/zero", w);
  EXPECT_NE(message().find("not a regular file"), std::string::npos);
  w = fresh();
  fs::remove(w);
  ASSERT_EQ(::mkfifo(w.c_str(), 0600), 0);
  EXPECT_NE(message().find("not a regular file"), std::string::npos);
  // A size that disagrees with model.json.
  w = fresh();
  std::ofstream(w, std::ios::app | std::ios::binary) << "extra";
  EXPECT_NE(message().find("model.json says"), std::string::npos) << message();
  // behaviors.tsv and item_categories.tsv are covered by checksums.
  fresh();
  d.write("pop/behaviors.tsv", "view\n\x01\x02garbage\n");
  EXPECT_NE(message().find("behaviors.tsv: checksum differs"), std::string::npos) << message();
  // A wrong n_items names both numbers and where each comes from.
  fresh();
  auto meta = models::read_model_meta(dir);
  meta["n_items"] = meta["n_items"].get<int>() + 7;
  d.write("pop/model.json", meta.dump());
  EXPECT_NE(message().find("n_items is"), std::string::npos) << message();
  EXPECT_NE(message().find("but items.tsv has"), std::string::npos) << message();
  // model.json itself must be a regular file.
  fresh();
  fs::remove(fs::path(dir) / "model.json");
  fs::create_symlink("/dev/zero", fs::path(dir) / "model.json");
  EXPECT_NE(message().find("not a regular file"), std::string::npos) << message();
}
