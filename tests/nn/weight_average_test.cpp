// The moving average of the weights (src/nn/weight_average.h) on hand-computed steps.
#include "../../src/nn/weight_average.h"

#include <gtest/gtest.h>

#include "driftrec/core/error.h"

using namespace driftrec;

TEST(WeightAverage, FollowsTheWarmedUpDecayAndSwapsTheWeights) {
  auto w = torch::tensor({1.0f, -2.0f});
  std::vector<torch::Tensor> params = {w};
  nn::WeightAverage avg(params, 0.5);
  // Step 1: decay min(0.5, 2/11) = 2/11 -> average = 2/11 * start + 9/11 * current.
  EXPECT_DOUBLE_EQ(nn::WeightAverage::decay_at(0.5, 1), 2.0 / 11.0);
  EXPECT_DOUBLE_EQ(nn::WeightAverage::decay_at(0.5, 100), 0.5);
  w.copy_(torch::tensor({3.0f, 0.0f}));
  avg.update(params, 1);
  EXPECT_NEAR(avg.tensors()[0][0].item<float>(), 2.0f / 11 * 1 + 9.0f / 11 * 3, 1e-6);
  EXPECT_NEAR(avg.tensors()[0][1].item<float>(), 2.0f / 11 * -2, 1e-6);
  // Step 20: decay 0.5.
  const auto before = avg.tensors()[0].clone();
  w.copy_(torch::tensor({5.0f, 4.0f}));
  avg.update(params, 20);
  EXPECT_TRUE(torch::allclose(avg.tensors()[0], 0.5 * before + 0.5 * torch::tensor({5.0f, 4.0f})));
  // apply() puts the average in the weights, restore() the raw weights back; both are idempotent.
  avg.apply(params);
  avg.apply(params);
  EXPECT_TRUE(avg.applied());
  EXPECT_TRUE(torch::equal(w, avg.tensors()[0]));
  avg.restore(params);
  avg.restore(params);
  EXPECT_FALSE(avg.applied());
  EXPECT_TRUE(torch::equal(w, torch::tensor({5.0f, 4.0f})));
  EXPECT_THROW(nn::WeightAverage(params, 1.0), InvalidInput);
  EXPECT_THROW(nn::WeightAverage(params, 0.0), InvalidInput);
}
