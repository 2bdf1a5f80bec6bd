// LazyAdam (src/nn/lazy_adam.h): dense gradients give torch's AdamW exactly; sparse gradients move
// only the rows they name, by the hand-computed Adam step.
#include "../../src/nn/lazy_adam.h"

#include <gtest/gtest.h>

#include <cmath>

#include "driftrec/core/error.h"

using namespace driftrec;

TEST(LazyAdam, WithDenseGradientsItIsAdamW) {
  torch::manual_seed(4);
  auto a = torch::randn({5, 3}).requires_grad_(true);
  auto b = a.detach().clone().requires_grad_(true);
  nn::LazyAdam lazy(a, 0.01, 0.1);
  torch::optim::AdamW adamw({b}, torch::optim::AdamWOptions(0.01).weight_decay(0.1));
  for (int step = 0; step < 4; ++step) {
    const auto target = torch::randn({5, 3});
    lazy.zero_grad();
    adamw.zero_grad();
    (a - target).pow(2).sum().backward();
    (b - target).pow(2).sum().backward();
    lazy.step();
    adamw.step();
    EXPECT_TRUE(torch::allclose(a, b, 1e-6, 1e-7)) << "step " << step;
  }
}

TEST(LazyAdam, SparseGradientsMoveOnlyTheirRowsByTheAdamStep) {
  const auto init = torch::tensor({{1.0f, -1.0f}, {2.0f, 0.5f}, {0.0f, 3.0f}, {-2.0f, 1.0f}});
  auto w = init.clone().requires_grad_(true);
  const double lr = 0.1, wd = 0.5;
  nn::LazyAdam opt(w, lr, wd);
  // Rows 1 and 3 looked up (row 1 twice: its gradients add up).
  const auto ids = torch::tensor({1, 3, 1}, torch::kLong);
  const auto coef = torch::tensor({{1.0f, 2.0f}, {-3.0f, 0.0f}, {0.5f, -1.0f}});
  (torch::embedding(w, ids, -1, false, true) * coef).sum().backward();
  ASSERT_TRUE(w.grad().is_sparse());
  opt.step();
  // First step from zero moments: m^ = g, v^ = g^2, so p <- p (1 - lr wd) - lr g / (|g| + eps).
  const float g[4][2] = {{0, 0}, {1.5f, 1.0f}, {0, 0}, {-3.0f, 0.0f}};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 2; ++c) {
      const double p0 = init[r][c].item<double>();
      const bool touched = r == 1 || r == 3;
      const double want = touched ? p0 * (1 - lr * wd) - lr * g[r][c] / (std::fabs(g[r][c]) + 1e-8) : p0;
      EXPECT_NEAR(w[r][c].item<double>(), want, 1e-6) << r << "," << c;
    }
  // A later step that touches only row 0 leaves rows 1-3 exactly where they are.
  const auto after_first = w.detach().clone();
  opt.zero_grad();
  torch::embedding(w, torch::tensor({0}, torch::kLong), -1, false, true).sum().backward();
  opt.step();
  EXPECT_TRUE(torch::equal(w.detach().slice(0, 1), after_first.slice(0, 1)));
  EXPECT_FALSE(torch::equal(w.detach()[0], after_first[0]));
}

TEST(LazyAdam, StateRoundTripsAndRefusesAnotherShape) {
  auto w = torch::ones({3, 2}).requires_grad_(true);
  nn::LazyAdam opt(w, 0.1, 0.0);
  torch::embedding(w, torch::tensor({2}, torch::kLong), -1, false, true).sum().backward();
  opt.step();
  auto w2 = torch::ones({3, 2}).requires_grad_(true);
  nn::LazyAdam copy(w2, 0.1, 0.0);
  copy.load_state(opt.state());
  for (auto* o : {&opt, &copy}) o->zero_grad();
  torch::embedding(w, torch::tensor({2}, torch::kLong), -1, false, true).sum().backward();
  torch::embedding(w2, torch::tensor({2}, torch::kLong), -1, false, true).sum().backward();
  {
    torch::NoGradGuard g;
    w2.copy_(w);
  }
  opt.step();
  copy.step();
  EXPECT_TRUE(torch::equal(w, w2));
  nn::LazyAdam other(torch::ones({4, 2}).requires_grad_(true), 0.1, 0.0);
  EXPECT_THROW(other.load_state(opt.state()), CorruptModel);
  EXPECT_THROW(nn::LazyAdam(torch::ones({3}), 0.1, 0.0), InvalidInput);
}
