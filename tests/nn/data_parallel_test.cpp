// Data-parallel training (FitOptions::distributed, Gloo): two processes with the same global batch
// and seed train the model one process trains, up to floating-point summation order. The second
// rank is this test binary started again with DRIFTREC_DDP_WORKER set (a fork would inherit
// LibTorch's thread pools); it fits, writes its item vectors and exits before GoogleTest runs.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "../unit/small_split.h"
#include "driftrec/core/error.h"
#include "driftrec/core/free_port.h"
#include "driftrec/models/registry.h"
#include "driftrec/nn/register.h"

extern char** environ;

using namespace driftrec;

namespace {
const test::SmallSplit& dp_data() {
  static const test::SmallSplit d(160, 90, 4, 12);
  return d;
}

const nlohmann::json kConfig = {{"dim", 16},      {"max_len", 20},   {"layers", 1},      {"loss", "softmax"},
                                {"dropout", 0.0}, {"epochs", 3},     {"batch_size", 32}, {"warmup_steps", 0},
                                {"lr", 5e-3},     {"eval_every", 1}, {"patience", 5}};

std::unique_ptr<models::Model> fit(const models::DistributedOptions& d, int epochs = 3) {
  nn::register_neural_models();
  auto c = kConfig;
  c["epochs"] = epochs;
  auto m = models::create_model("sasrec", c);
  models::FitOptions o;
  o.seed = 9;
  o.threads = 1;
  o.distributed = d;
  o.validate = [](const models::Model& x) { return dp_data().test_ndcg(x); };
  m->fit(dp_data().split.train, o);
  return m;
}

std::vector<float> items_of(const models::Model& m) {
  int dim = 0;
  const float* x = m.item_embeddings(&dim);
  return {x, x + static_cast<std::size_t>(m.n_items()) * static_cast<std::size_t>(dim)};
}

/// The worker rank, when this binary was started as one (see the test): fits, writes its item
/// vectors and returns true.
bool run_worker() {
  const char* rank = std::getenv("DRIFTREC_DDP_WORKER");
  if (!rank) return false;
  models::DistributedOptions d;
  d.rank = std::atoi(rank);
  d.world_size = 2;
  d.master_port = std::atoi(std::getenv("DRIFTREC_DDP_PORT"));
  d.timeout_seconds = 60;
  const auto v = items_of(*fit(d));
  std::ofstream(std::getenv("DRIFTREC_DDP_OUT"), std::ios::binary)
      .write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
  return true;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, static_cast<double>(std::abs(a[i] - b[i])));
  return d;
}
}  // namespace

TEST(DataParallel, TwoProcessesTrainTheSingleProcessModel) {
  if (run_worker()) return;  // this process is rank 1
  const auto single = fit({});
  const int port = free_local_port();
  const std::string out = ::testing::TempDir() + "/driftrec_ddp_" + std::to_string(::getpid());
  // Rank 1: this binary again, as a worker.
  std::vector<std::string> env_s = {"DRIFTREC_DDP_WORKER=1", "DRIFTREC_DDP_PORT=" + std::to_string(port),
                                    "DRIFTREC_DDP_OUT=" + out};
  for (char** e = environ; *e; ++e) env_s.emplace_back(*e);
  std::vector<char*> env;
  for (auto& e : env_s) env.push_back(e.data());
  env.push_back(nullptr);
  std::string self = "/proc/self/exe", filter = "--gtest_filter=DataParallel.TwoProcessesTrainTheSingleProcessModel";
  char* argv[] = {self.data(), filter.data(), nullptr};
  pid_t child = 0;
  ASSERT_EQ(posix_spawn(&child, self.c_str(), nullptr, nullptr, argv, env.data()), 0);
  models::DistributedOptions d;
  d.rank = 0;
  d.world_size = 2;
  d.master_port = port;
  d.timeout_seconds = 60;
  const auto rank0 = fit(d);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the worker rank failed";
  std::vector<float> rank1(items_of(*single).size());
  std::ifstream(out, std::ios::binary)
      .read(reinterpret_cast<char*>(rank1.data()), static_cast<std::streamsize>(rank1.size() * sizeof(float)));
  std::remove(out.c_str());
  const auto a = items_of(*single), b = items_of(*rank0);
  EXPECT_LT(max_diff(a, b), 1e-5) << "2 processes vs 1";
  EXPECT_EQ(max_diff(b, rank1), 0.0) << "the ranks hold the same model";
  EXPECT_GT(max_diff(a, items_of(*fit({}, 1))), 1e-3);  // the epochs after the first moved the weights
  EXPECT_NEAR(dp_data().test_ndcg(*single), dp_data().test_ndcg(*rank0), 5e-4);
  EXPECT_EQ(rank0->training_report()["distributed"]["world_size"], 2);
}

TEST(DataParallel, APeerThatNeverJoinsIsAClearError) {
  models::DistributedOptions d;
  d.rank = 0;
  d.world_size = 2;
  d.master_port = free_local_port();
  d.timeout_seconds = 2;
  EXPECT_THROW(fit(d), IoError);
  d.rank = 2;
  EXPECT_THROW(fit(d), InvalidInput);
}
