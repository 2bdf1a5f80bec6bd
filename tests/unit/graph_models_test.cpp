// The given-split format and protocol, the LAPACK-backed linear algebra, and GF-CF and EASE
// against hand computations.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "../../src/models/linalg.h"
#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"
#include "driftrec/data/readers.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/ease.h"
#include "driftrec/models/gfcf.h"
#include "test_util.h"

using namespace driftrec;

namespace {

// u1: a b   u2: a b c   u3: a c
data::Dataset tiny() {
  data::DatasetBuilder b;
  for (const auto& [u, i] : std::vector<std::pair<const char*, const char*>>{
           {"u1", "a"}, {"u1", "b"}, {"u2", "a"}, {"u2", "b"}, {"u2", "c"}, {"u3", "a"}, {"u3", "c"}})
    b.add(u, i, 1);
  return b.finish();
}

models::UserState history_of(std::initializer_list<std::int32_t> items) {
  models::UserState s;
  std::int64_t t = 0;
  for (auto i : items) s.history.push_back(data::Event{0, i, t++, 0, 0, 1.0f});
  return s;
}

std::vector<float> scores(const models::Model& m, const models::UserState& s) {
  std::vector<float> out(static_cast<std::size_t>(m.n_items()));
  m.score(s, out.data());
  return out;
}

}  // namespace

TEST(GivenSplit, LightGcnListsReadAsTrainAndTest) {
  test::TempDir dir;
  dir.write("train.txt", "0 10 11 12\n1 11 13\n2 10\n");
  dir.write("test.txt", "0 13 14\n1 10\n2\n");
  data::LoadReport rep;
  const auto ds = data::load_dataset(dir.path().string(), {}, &rep);
  EXPECT_EQ(rep.format, "given");
  EXPECT_EQ(rep.files.size(), 2u);
  EXPECT_EQ(ds.log.size(), 9u);
  EXPECT_FALSE(ds.has_clock);
  EXPECT_TRUE(data::has_given_split(ds));
  data::PrepareOptions o;
  o.split = "given";
  const auto s = data::make_split(ds, o);
  EXPECT_EQ(s.protocol, "given");
  EXPECT_EQ(s.train.log.size(), 6u);
  EXPECT_TRUE(s.valid.empty());
  ASSERT_EQ(s.test.size(), 2u);  // user 2 has no test items
  const auto& c = s.test[0];
  EXPECT_EQ(ds.users.name(c.user), "0");
  EXPECT_EQ(c.history_end - ds.log.user_begin(c.user), 3);  // the whole training list
  ASSERT_EQ(c.targets.size(), 2u);
  EXPECT_EQ(ds.items.name(c.targets[0]), "13");
  EXPECT_EQ(ds.items.name(c.targets[1]), "14");
  // Leave-one-out would cut through the shipped split: refused with the way out.
  o.split = "loo";
  try {
    data::make_split(ds, o);
    FAIL() << "loo on a given split was accepted";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("--split given"), std::string::npos);
  }
}

TEST(GivenSplit, TabRowsWithATuneFileGiveValidationAndRefit) {
  test::TempDir dir;
  dir.write("ml_train.txt", "0\t1\t4\n0\t2\t5\n1\t1\t3\n1\t3\t2 \n");
  dir.write("ml_tune.txt", "0\t3\t4\n1\t2\t1\n");
  dir.write("ml_test.txt", "0\t4\t5\n1\t4\t3\n1\t5\t5\n");
  const auto ds = data::load_dataset(dir.path().string());
  data::PrepareOptions o;
  o.split = "given";
  auto s = data::make_split(ds, o);
  EXPECT_EQ(s.train.log.size(), 4u);
  ASSERT_EQ(s.valid.size(), 2u);
  EXPECT_EQ(ds.items.name(s.valid[0].targets.at(0)), "3");
  ASSERT_EQ(s.test.size(), 2u);
  EXPECT_EQ(s.test[1].targets.size(), 2u);
  // The test history holds training and validation events.
  EXPECT_EQ(s.test[0].history_end - ds.log.user_begin(s.test[0].user), 3);
  // Ratings are kept as event values.
  EXPECT_FLOAT_EQ(ds.log.value[0], 4.0f);
  o.refit = true;
  s = data::make_split(ds, o);
  EXPECT_EQ(s.train.log.size(), 6u);
  EXPECT_TRUE(s.valid.empty());
  EXPECT_EQ(s.test.size(), 2u);
}

TEST(GivenSplit, AValidationFileThatCopiesTheTestFileIsWarnedAbout) {
  test::TempDir dir;
  dir.write("train.txt", "0 10 11\n1 11 13\n");
  dir.write("test.txt", "0 13 12\n1 10\n");
  dir.write("valid.txt", "0 12 13\n1 10\n");  // the same items per user, in another order
  data::PrepareOptions o;
  o.split = "given";
  const auto s = data::make_split(data::load_dataset(dir.path().string()), o);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("validation cases are the test cases"), std::string::npos);
  dir.write("valid.txt", "0 12\n1 10\n");  // a real validation file: no warning
  EXPECT_TRUE(data::make_split(data::load_dataset(dir.path().string()), o).warnings.empty());
}

TEST(GivenSplit, ValidFractionCarvesSeededValidationOutOfTraining) {
  test::TempDir dir;
  // u0: 10 training items, u1: 2, u2: 1 (nothing carved), u3: 5 and no test items.
  dir.write("train.txt", "0 1 2 3 4 5 6 7 8 9 10\n1 1 2\n2 3\n3 1 2 3 4 5\n");
  dir.write("test.txt", "0 11 12\n1 3\n2 4\n");
  const auto ds = data::load_dataset(dir.path().string());
  data::PrepareOptions o;
  o.split = "given";
  const auto plain = data::prepare(ds, o);
  o.valid_fraction = 0.2;
  const auto p = data::prepare(ds, o);
  // max(1, round(0.2 n)) of n >= 2 training events: 2 of 10, 1 of 2, 0 of 1, 1 of 5.
  EXPECT_EQ(p.split.train.log.size(), 18u - 4u);
  ASSERT_EQ(p.split.valid.size(), 3u);
  std::vector<std::size_t> sizes;
  for (const auto& c : p.split.valid) sizes.push_back(c.targets.size());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 1, 1}));
  // Each validation case: the carved items are the user's training items outside its history,
  // and its history is exactly the rest.
  for (const auto& c : p.split.valid) {
    const auto b = p.full.log.user_begin(c.user);
    std::vector<std::int32_t> all, rest;
    for (auto r = b; r < p.full.log.user_end(c.user); ++r)
      if (p.full.log.ts[static_cast<std::size_t>(r)] < data::kGivenTestStart)
        all.push_back(p.full.log.item[static_cast<std::size_t>(r)]);
    for (auto r = b; r < c.history_end; ++r) rest.push_back(p.full.log.item[static_cast<std::size_t>(r)]);
    EXPECT_EQ(rest.size() + c.targets.size(), all.size());
    for (auto t : c.targets) EXPECT_EQ(std::count(rest.begin(), rest.end(), t), 0);
    rest.insert(rest.end(), c.targets.begin(), c.targets.end());
    std::sort(rest.begin(), rest.end());
    std::sort(all.begin(), all.end());
    EXPECT_EQ(rest, all);
  }
  // The test cases do not change: same users, targets, and the whole training file as history.
  ASSERT_EQ(p.split.test.size(), plain.split.test.size());
  for (std::size_t i = 0; i < p.split.test.size(); ++i) {
    EXPECT_EQ(p.split.test[i].targets, plain.split.test[i].targets);
    EXPECT_EQ(p.split.test[i].history_end - p.full.log.user_begin(p.split.test[i].user),
              plain.split.test[i].history_end - plain.full.log.user_begin(plain.split.test[i].user));
  }
  // Refit trains on the whole training file again.
  auto refit = o;
  refit.refit = true;
  EXPECT_EQ(data::prepare(ds, refit).split.train.log.size(), 18u);
  // Same seed, same choice; the options round-trip through model.json.
  EXPECT_EQ(data::prepare(ds, o).full.log.item, p.full.log.item);
  const auto back = data::prepare_options_from_json(data::to_json(o));
  EXPECT_DOUBLE_EQ(back.valid_fraction, 0.2);
  EXPECT_EQ(back.valid_seed, o.valid_seed);
  // Another seed picks other items for the 10-item user (the chance of the same two is 1/45 per
  // seed; three seeds all equal would be a broken seed).
  bool differs = false;
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    auto other = o;
    other.valid_seed = seed;
    differs = differs || data::prepare(ds, other).split.valid[0].targets != p.split.valid[0].targets;
  }
  EXPECT_TRUE(differs);
  // Refused: out of range, another split, data with its own validation file.
  auto bad = o;
  bad.valid_fraction = 1.0;
  EXPECT_THROW(data::prepare(ds, bad), InvalidInput);
  bad.valid_fraction = 0.2;
  bad.split = "loo";
  EXPECT_THROW(data::prepare(ds, bad), InvalidInput);
  dir.write("valid.txt", "0 1\n");
  EXPECT_THROW(data::prepare(data::load_dataset(dir.path().string()), o), InvalidInput);
}

TEST(GivenSplit, ErrorsNameFileAndLine) {
  test::TempDir dir;
  dir.write("train.txt", "0 1 2\n1\t2\t3\t4\n");
  dir.write("test.txt", "0 3\n");
  try {
    data::load_dataset(dir.path().string());
    FAIL() << "a four-field row was accepted";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("train.txt:2"), std::string::npos) << e.what();
  }
  test::TempDir two;
  two.write("a_train.txt", "0 1\n");
  two.write("b_train.txt", "0 1\n");
  two.write("test.txt", "0 2\n");
  EXPECT_THROW(data::load_dataset(two.path().string()), InvalidInput);
  // The given split needs given data.
  data::PrepareOptions o;
  o.split = "given";
  EXPECT_THROW(data::make_split(tiny(), o), InvalidInput);
}

TEST(Linalg, RandomizedSvdOfAKnownMatrixIsExact) {
  // A = [[3, 0], [0, 4], [0, 0]]: singular values 4, 3 with right vectors e2, e1.
  models::linalg::Csr A;
  A.rows = 3;
  A.cols = 2;
  A.offsets = {0, 1, 2, 2};
  A.index = {0, 1};
  A.value = {3.0, 4.0};
  const auto svd = models::linalg::randomized_svd(A, 2, 4, 2, 7, 1);
  ASSERT_EQ(svd.k, 2u);
  EXPECT_NEAR(svd.sigma[0], 4.0, 1e-12);
  EXPECT_NEAR(svd.sigma[1], 3.0, 1e-12);
  EXPECT_NEAR(std::abs(svd.V[1 * 2 + 0]), 1.0, 1e-12);  // first right vector = +-e2
  EXPECT_NEAR(svd.V[0 * 2 + 0], 0.0, 1e-12);
  EXPECT_NEAR(std::abs(svd.V[0 * 2 + 1]), 1.0, 1e-12);  // second = +-e1
}

TEST(Linalg, NormalisedBipartiteMatrixHasTopSingularValueOne) {
  const auto ds = tiny();
  auto R = models::linalg::binary_matrix(ds.log, static_cast<std::size_t>(ds.n_users()),
                                         static_cast<std::size_t>(ds.n_items()));
  std::vector<double> di(R.cols, 0.0);
  for (auto i : R.index) di[static_cast<std::size_t>(i)] += 1;
  auto N = R;
  EXPECT_EQ(models::linalg::normalize_bipartite(N), di);
  for (std::size_t u = 0; u < R.rows; ++u)
    for (auto q = R.offsets[u]; q < R.offsets[u + 1]; ++q)
      R.value[static_cast<std::size_t>(q)] =
          1.0 / std::sqrt(static_cast<double>(R.offsets[u + 1] - R.offsets[u]) *
                          di[static_cast<std::size_t>(R.index[static_cast<std::size_t>(q)])]);
  EXPECT_EQ(N.value, R.value);
  const auto svd = models::linalg::randomized_svd(R, 2, 2, 3, 1, 2);
  EXPECT_NEAR(svd.sigma[0], 1.0, 1e-12);
  EXPECT_LT(svd.sigma[1], 1.0);
  // Columns of V are orthonormal.
  for (std::size_t a = 0; a < svd.k; ++a)
    for (std::size_t b = 0; b < svd.k; ++b) {
      double dot = 0;
      for (std::size_t i = 0; i < R.cols; ++i) dot += svd.V[i * svd.k + a] * svd.V[i * svd.k + b];
      EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-10);
    }
}

TEST(Linalg, SpdInverseByHand) {
  std::vector<double> A = {4, 2, 2, 3};  // inverse = [[3, -2], [-2, 4]] / 8
  ASSERT_TRUE(models::linalg::spd_inverse(A, 2));
  EXPECT_NEAR(A[0], 3.0 / 8, 1e-14);
  EXPECT_NEAR(A[1], -2.0 / 8, 1e-14);
  EXPECT_NEAR(A[2], -2.0 / 8, 1e-14);
  EXPECT_NEAR(A[3], 4.0 / 8, 1e-14);
  std::vector<double> indefinite = {1, 2, 2, 1};
  EXPECT_FALSE(models::linalg::spd_inverse(indefinite, 2));
}

TEST(Gfcf, LinearFilterAndFullRankLowPassByHand) {
  const auto ds = tiny();
  const auto a = ds.items.find("a"), b = ds.items.find("b"), c = ds.items.find("c");
  // Degrees: users 2, 3, 2; items a 3, b 2, c 2. R~_ui = 1 / sqrt(du di).
  auto rt = [](double du, double di) { return 1.0 / std::sqrt(du * di); };
  // (R~^T R~)_aj = sum over users v of R~_va R~_vj.
  const double ab = rt(2, 3) * rt(2, 2) + rt(3, 3) * rt(3, 2);
  const double ac = rt(3, 3) * rt(3, 2) + rt(2, 3) * rt(2, 2);
  const double aa = rt(2, 3) * rt(2, 3) + rt(3, 3) * rt(3, 3) + rt(2, 3) * rt(2, 3);
  models::GfcfModel lin(nlohmann::json{{"alpha", 0.0}, {"k", 3}});
  lin.fit(ds, {});
  auto s = scores(lin, history_of({a}));
  EXPECT_NEAR(s[static_cast<std::size_t>(b)], ab, 1e-6);
  EXPECT_NEAR(s[static_cast<std::size_t>(c)], ac, 1e-6);
  EXPECT_NEAR(s[static_cast<std::size_t>(a)], aa, 1e-6);
  EXPECT_TRUE(std::isinf(s[0]));
  // R is 3 x 3 of full rank, so V V^T is the identity on the items and the low-pass filter
  // r Di^-1/2 V V^T Di^1/2 gives back r: the history's items gain alpha.
  models::GfcfModel full(nlohmann::json{{"alpha", 0.5}, {"k", 3}});
  full.fit(ds, {});
  const auto s2 = scores(full, history_of({a, b, a}));  // a repeated counts once
  const double bb = rt(2, 2) * rt(2, 2) + rt(3, 2) * rt(3, 2);
  const double bc = rt(3, 2) * rt(3, 2);
  EXPECT_NEAR(s2[static_cast<std::size_t>(a)], aa + ab + 0.5, 1e-5);
  EXPECT_NEAR(s2[static_cast<std::size_t>(b)], ab + bb + 0.5, 1e-5);
  EXPECT_NEAR(s2[static_cast<std::size_t>(c)], ac + bc, 1e-5);
  // explain() splits a score exactly over the distinct past items (at their last position).
  const auto attr = full.explain(history_of({a, b, a}), c);
  ASSERT_EQ(attr.size(), 2u);
  EXPECT_NEAR(attr[0].weight + attr[1].weight, s2[static_cast<std::size_t>(c)], 1e-5);
  for (const auto& x : attr) EXPECT_EQ(x.position, x.item == a ? 2u : 1u);
}

TEST(Gfcf, NewEventChangesTheScoresWithoutRetraining) {
  const auto ds = tiny();
  models::GfcfModel m(nlohmann::json{{"k", 2}});
  m.fit(ds, {});
  const auto b = ds.items.find("b"), c = ds.items.find("c");
  auto st = m.encode(-1, {data::Event{0, b, 0, 0, 0, 1.0f}});
  const auto before = scores(m, st);
  m.observe(st, data::Event{0, c, 1, 0, 0, 1.0f});
  const auto after = scores(m, st);
  EXPECT_NE(before[static_cast<std::size_t>(ds.items.find("a"))], after[static_cast<std::size_t>(ds.items.find("a"))]);
}

TEST(Ease, ClosedFormByHand) {
  const auto ds = tiny();
  const auto a = ds.items.find("a"), b = ds.items.find("b"), c = ds.items.find("c");
  const double lambda = 1.0;
  models::EaseModel m(nlohmann::json{{"lambda", lambda}});
  m.fit(ds, {});
  // G = X^T X + I over (a, b, c) = [[4, 2, 2], [2, 3, 1], [2, 1, 3]]; P = G^-1 by cofactors
  // (det = 4*8 - 2*4 + 2*(-4) = 16): P = [[8, -4, -4], [-4, 8, 0], [-4, 0, 8]] / 16.
  const double P[3][3] = {{0.5, -0.25, -0.25}, {-0.25, 0.5, 0.0}, {-0.25, 0.0, 0.5}};
  const std::int32_t idx[3] = {a, b, c};
  auto B = [&](int i, int j) { return i == j ? 0.0 : -P[i][j] / P[j][j]; };
  const auto s = scores(m, history_of({a, c}));
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(s[static_cast<std::size_t>(idx[j])], B(0, j) + B(2, j), 1e-6) << "item " << j;
  const auto attr = m.explain(history_of({a, c}), b);
  ASSERT_EQ(attr.size(), 2u);
  EXPECT_NEAR(attr[0].weight + attr[1].weight, B(0, 1) + B(2, 1), 1e-6);
  models::EaseModel small(nlohmann::json{{"max_items", 3}});
  EXPECT_THROW(small.fit(ds, {}), InvalidInput);
}

TEST(Ease, FloatSolveMatchesTheDoubleSolve) {
  // 300 users over 80 items with a popularity skew: the float solve (the path for catalogues whose
  // n^2 doubles do not fit) gives the double solve's weights to float accuracy, and the same top 10.
  data::DatasetBuilder b;
  Rng rng(11);
  for (int u = 0; u < 300; ++u)
    for (int k = 0; k < 12; ++k) {
      const auto i = static_cast<int>(80.0 * rng.uniform() * rng.uniform());
      b.add("u" + std::to_string(u), "i" + std::to_string(i), k);
    }
  const auto ds = b.finish();
  models::EaseModel dbl(nlohmann::json{{"lambda", 20.0}, {"precision", "double"}});
  models::EaseModel flt(nlohmann::json{{"lambda", 20.0}, {"precision", "float"}});
  dbl.fit(ds, {});
  flt.fit(ds, {});
  const auto st = history_of({3, 7, 19, 40});
  const auto sd = scores(dbl, st), sf = scores(flt, st);
  double largest = 0;
  for (std::size_t j = 1; j < sd.size(); ++j) {
    EXPECT_NEAR(sf[j], sd[j], 1e-5 + 1e-4 * std::fabs(sd[j])) << "item " << j;
    largest = std::max(largest, std::fabs(static_cast<double>(sd[j])));
  }
  EXPECT_GT(largest, 0.01);  // the weights are not trivially zero
  auto top = [](const std::vector<float>& s) {
    std::vector<std::size_t> idx(s.size() - 1);
    for (std::size_t j = 0; j < idx.size(); ++j) idx[j] = j + 1;
    std::partial_sort(idx.begin(), idx.begin() + 10, idx.end(), [&](auto x, auto y) { return s[x] > s[y]; });
    idx.resize(10);
    return idx;
  };
  EXPECT_EQ(top(sf), top(sd));
  EXPECT_THROW(models::EaseModel(nlohmann::json{{"precision", "triple"}}), InvalidInput);
}
