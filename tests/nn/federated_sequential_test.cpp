// Federated training of the LibTorch sequential models (fed_rounds > 0): full participation with one
// local step equals centralised gradient descent, a client sends only the item rows it touched and
// leaves the global weights as they were, secure aggregation gives the plain sum, DP-FedAvg spends
// at most its budget, and a federated sasrec learns.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "../../src/nn/batches.h"
#include "../../src/nn/federated_internal.h"
#include "../../src/nn/federated_trainer.h"
#include "../../src/nn/side_tables.h"
#include "../unit/small_split.h"
#include "driftrec/core/error.h"
#include "driftrec/models/registry.h"
#include "driftrec/nn/register.h"
#include "driftrec/nn/sequential.h"
#include "driftrec/privacy/rdp_accountant.h"

using namespace driftrec;

namespace {
const test::SmallSplit& fedseq_data() {
  static const test::SmallSplit d(200, 120, 4, 9);
  return d;
}

nlohmann::json fedseq_config(nlohmann::json extra) {
  nlohmann::json c = {{"dim", 16},       {"max_len", 20},   {"layers", 1},           {"loss", "sampled"},
                      {"negatives", 16}, {"dropout", 0.0},  {"warmup_steps", 0},     {"lr", 1e-2},
                      {"fed_rounds", 3}, {"eval_every", 0}, {"fed_client_rate", 0.5}};
  for (const auto& [k, v] : extra.items()) c[k] = v;
  return c;
}

/// The model's pieces, built as SequentialModel::fit builds them, for the trainer-level tests.
struct Pieces {
  nlohmann::json c;
  nn::SequentialModel::Impl m;
  nn::TrainingSequences seqs;
  std::vector<char> is_target;
  explicit Pieces(const nlohmann::json& extra) {
    const auto& train = fedseq_data().split.train;
    c = nn::SequentialModel::params("sasrec").resolve(fedseq_config(extra));
    m.kind = "sasrec";
    torch::manual_seed(5);
    nn::configure_side_information(train, m, c, "sasrec", "");
    is_target = nn::target_behaviors(train, "", "");
    m.build(c, train.n_items());
    seqs = nn::training_sequences(train.log, train.n_users(), m.max_len, 64, "");
  }
};

std::vector<torch::Tensor> copy_of(const std::vector<torch::Tensor>& ps) {
  std::vector<torch::Tensor> out;
  for (const auto& p : ps) out.push_back(p.detach().clone());
  return out;
}

double max_abs_diff(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, (a[i] - b[i]).abs().max().item<double>());
  return d;
}

std::unique_ptr<models::Model> fit(const nlohmann::json& extra, std::uint64_t seed = 1) {
  nn::register_neural_models();
  auto m = models::create_model("sasrec", fedseq_config(extra));
  models::FitOptions o;
  o.seed = seed;
  o.threads = 1;
  m->fit(fedseq_data().split.train, o);
  return m;
}
}  // namespace

TEST(FederatedSequential, FullParticipationOneLocalStepIsCentralisedGradientDescent) {
  // The full softmax draws nothing, so the reference below sees the very same losses.
  Pieces p({{"loss", "softmax"},
            {"fed_client_rate", 1.0},
            {"fed_server", "avg"},
            {"fed_server_lr", 1.0},
            {"fed_client_lr", 0.5}});
  const auto& train = fedseq_data().split.train;
  nn::FederatedTrainer t(p.m, p.c, nn::TrainingSet(p.m, p.c, train, p.seqs, p.is_target), 3, "");
  const auto start = copy_of(t.params());
  // Reference: one gradient step of rate 0.5 on the mean over users of each user's mean loss.
  auto loss = nn::make_training_loss(p.c, train);
  const nn::TrainingScorer scorer(p.m, train.n_items());
  p.m.net->train();
  std::vector<torch::Tensor> grad;
  for (const auto& w : t.params()) grad.push_back(torch::zeros_like(w));
  for (std::size_t i = 0; i < p.seqs.seqs.size(); ++i) {
    for (auto w : t.params()) w.mutable_grad() = torch::Tensor();
    int64_t n = 0;
    nn::batch_loss(p.m, *loss, scorer, nn::make_batch(p.m, train.log, p.seqs, {i}, p.is_target), &n).backward();
    for (std::size_t k = 0; k < grad.size(); ++k)
      if (t.params()[k].grad().defined()) grad[k] += t.params()[k].grad();
  }
  std::vector<torch::Tensor> want;
  const auto users = static_cast<double>(p.seqs.seqs.size());
  for (std::size_t k = 0; k < grad.size(); ++k) want.push_back(start[k] - 0.5 * grad[k] / users);
  for (auto& w : want)  // the item table's padding row stays zero
    if (w.sizes() == p.m.net->emb->items->weight.sizes()) w[0].zero_();
  for (auto w : t.params()) w.mutable_grad() = torch::Tensor();
  t.run(1);
  // Within float rounding of the step (a server that divided by one client more would be 0.5% off).
  const double step = max_abs_diff(want, start), err = max_abs_diff(t.params(), want);
  EXPECT_GT(step, 1e-3);
  EXPECT_LT(err, 1e-4 * step) << "step " << step << ", error " << err;
  EXPECT_EQ(t.report()["federated"]["participations"], p.seqs.seqs.size());
}

TEST(FederatedSequential, AClientSendsOnlyTheRowsItTouchedAndLeavesTheGlobalWeights) {
  Pieces p({{"fed_local_epochs", 2}, {"fed_prox_mu", 0.1}, {"attributes", true}});
  ASSERT_TRUE(p.m.net->emb->attributes) << "the small data has categories";
  const auto& train = fedseq_data().split.train;
  nn::FederatedTrainer t(p.m, p.c, nn::TrainingSet(p.m, p.c, train, p.seqs, p.is_target), 3, "");
  const auto start = copy_of(t.params());
  const std::size_t client = 7;
  const auto u = t.client_update(client);
  EXPECT_EQ(max_abs_diff(t.params(), start), 0.0);
  EXPECT_FALSE(p.m.net->emb->sparse_item_grad || p.m.net->emb->sparse_attribute_grad);
  // Touched item rows: the client's own items plus at most 2 x 16 negatives, far from the 120-item
  // table; attribute rows (after the item table in the row space): only those of the touched items.
  const auto n_items = train.n_items();
  std::set<std::int64_t> own, item_rows, attr_rows;
  const auto& s = p.seqs.seqs[client];
  for (auto r = s.from; r < s.end; ++r) own.insert(train.log.item[static_cast<std::size_t>(r)]);
  for (auto r : u.rows) (r < n_items ? item_rows : attr_rows).insert(r);
  EXPECT_GE(item_rows.size(), own.size());
  EXPECT_LE(item_rows.size(), own.size() + 32 + 1);
  EXPECT_LT(static_cast<int64_t>(item_rows.size()), n_items / 2);
  for (auto i : own) EXPECT_TRUE(item_rows.count(i)) << i;
  std::set<std::int64_t> attrs_of_touched;
  const auto attr = p.m.net->emb->attr_table;
  for (auto i : item_rows)
    for (int64_t k = 0; k < attr.size(1); ++k)
      if (attr[i][k].item<int64_t>() > 0) attrs_of_touched.insert(n_items + attr[i][k].item<int64_t>());
  EXPECT_FALSE(attr_rows.empty());
  for (auto a : attr_rows) EXPECT_TRUE(attrs_of_touched.count(a)) << a;
  EXPECT_EQ(u.dense.size(), static_cast<std::size_t>(nn::WeightLayout(p.m).dense_size()));
  EXPECT_EQ(u.row_values.size(), u.rows.size() * 16);
  double moved = 0;
  for (float v : u.row_values) moved += std::abs(v);
  EXPECT_GT(moved, 0.0);
  // Clipping scales the whole change.
  auto clipped = u;
  const double norm = nn::clip_update(clipped, 0.01);
  EXPECT_GT(norm, 0.01);
  double sq = 0;
  for (const auto* v : {&clipped.dense, &clipped.row_values})
    for (float x : *v) sq += static_cast<double>(x) * x;
  EXPECT_NEAR(std::sqrt(sq), 0.01, 1e-6);
}

TEST(FederatedSequential, SparseUploadsAreFarSmallerAndSecureAggregationGivesTheSameModel) {
  // With the attribute table, whose rows are sent sparsely too.
  const auto sparse = fit({{"fed_dropout", 0.2}, {"attributes", true}});
  const auto dense = fit({{"fed_dropout", 0.2}, {"fed_sparse", false}, {"attributes", true}});
  const auto secure =
      fit({{"fed_dropout", 0.2}, {"fed_secure", true}, {"fed_mask_neighbors", 4}, {"attributes", true}});
  const auto rs = sparse->training_report()["federated"], rd = dense->training_report()["federated"],
             rx = secure->training_report()["federated"];
  EXPECT_GT(rs["dropped"].get<int>(), 0);
  EXPECT_EQ(rs["dropped"], rx["dropped"]);
  EXPECT_LT(rs["bytes_up"].get<double>() * 1.5, rd["bytes_up"].get<double>());
  EXPECT_EQ(rx["secure_aggregation"], true);
  int dim = 0;
  const float* a = sparse->item_embeddings(&dim);
  const float* b = dense->item_embeddings(&dim);
  const float* x = secure->item_embeddings(&dim);
  const auto n = static_cast<std::size_t>(sparse->n_items()) * static_cast<std::size_t>(dim);
  double d_dense = 0, d_secure = 0;
  for (std::size_t k = 0; k < n; ++k) {
    d_dense = std::max(d_dense, static_cast<double>(std::abs(a[k] - b[k])));
    d_secure = std::max(d_secure, static_cast<double>(std::abs(a[k] - x[k])));
  }
  EXPECT_EQ(d_dense, 0.0);          // the same arithmetic, only the bytes differ
  EXPECT_LT(d_secure, 1e-4);        // fixed-point masking rounds at 2^-24 per entry
  EXPECT_EQ(sparse->n_users(), 1);  // the server holds no users
}

TEST(FederatedSequential, DpFedAvgSpendsAtMostItsBudgetAndRefusesMore) {
  const auto m = fit({{"dp_epsilon", 5.0}, {"dp_clip", 0.5}, {"fed_rounds", 4}});
  const auto r = m->training_report();
  const auto priv = r.at("privacy");
  EXPECT_EQ(priv.at("rounds").get<int>(), 4);
  EXPECT_EQ(priv.at("unit"), "user (client)");
  const double sigma = priv.at("noise_multiplier").get<double>();
  EXPECT_NEAR(priv.at("epsilon").get<double>(), privacy::dp_sgd_epsilon(0.5, sigma, 4, 1e-5).epsilon, 1e-12);
  EXPECT_LE(priv.at("epsilon").get<double>(), 5.0);
  EXPECT_GT(priv.at("epsilon").get<double>(), 4.9);
  EXPECT_EQ(r.at("federated").at("rounds").get<int>(), 4);
  EXPECT_THROW(fit({{"dp_epsilon", 1.0}, {"dp_noise", 0.3}}), InvalidInput);
  EXPECT_THROW(fit({{"dp_epsilon", 1.0}, {"max_len", 0}}), InvalidInput);
}

TEST(FederatedSequential, LearnsAndIsDeterministic) {
  const nlohmann::json learn = {{"fed_rounds", 40}, {"fed_client_rate", 0.3}};
  const auto trained = fit(learn);
  const auto barely = fit({{"fed_rounds", 1}, {"fed_client_rate", 0.3}});
  const double a = fedseq_data().test_ndcg(*trained), b = fedseq_data().test_ndcg(*barely);
  EXPECT_GT(a, b + 0.05) << "40 rounds " << a << ", 1 round " << b;
  const auto again = fit(learn);
  int dim = 0;
  const float* x = trained->item_embeddings(&dim);
  const auto n = static_cast<std::size_t>(trained->n_items()) * static_cast<std::size_t>(dim);
  EXPECT_TRUE(std::equal(x, x + n, again->item_embeddings(&dim)));
}

TEST(FederatedSequential, ResumingFromACheckpointGivesTheUninterruptedModel) {
  const auto& train = fedseq_data().split.train;
  nn::register_neural_models();
  auto run = [&](int rounds, const std::string& dir, bool resume) {
    auto m = models::create_model("sasrec", fedseq_config({{"fed_rounds", rounds}, {"dropout", 0.2}}));
    models::FitOptions o;
    o.seed = 4;
    o.threads = 1;
    o.checkpoint_dir = dir;
    o.resume = resume;
    m->fit(train, o);
    return m;
  };
  const auto full = run(6, "", false);
  const std::string dir = ::testing::TempDir() + "/driftrec_fed_ckpt_" + std::to_string(::getpid());
  run(3, dir, false);  // "interrupted" after 3 rounds
  const auto resumed = run(6, dir, true);
  int dim = 0;
  const float* a = full->item_embeddings(&dim);
  const auto n = static_cast<std::size_t>(full->n_items()) * static_cast<std::size_t>(dim);
  EXPECT_TRUE(std::equal(a, a + n, resumed->item_embeddings(&dim)));
  EXPECT_EQ(resumed->training_report()["federated"]["rounds"], 6);
  std::filesystem::remove_all(dir);
}
