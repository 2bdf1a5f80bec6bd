// The causal spectral filter (src/nn/spectral_filter.h) against the DFT computation it stands for.
#include "../../src/nn/spectral_filter.h"

#include <gtest/gtest.h>

#include "driftrec/core/error.h"

using namespace driftrec;

namespace {

// BSARec's low-pass of a whole window: keep rfft bins 0..bins-1, transform back.
torch::Tensor dft_low_pass(const torch::Tensor& x, int64_t bins) {  // x [N, d]
  auto f = torch::fft::rfft(x, c10::nullopt, 0, "ortho");
  f.slice(0, bins).zero_();
  return torch::fft::irfft(f, x.size(0), 0, "ortho");
}

}  // namespace

TEST(SpectralFilter, KernelIsTheNewestRowOfTheWindowsLowPass) {
  torch::manual_seed(5);
  for (int64_t n : {9, 10, 50})
    for (int64_t bins : {1, 3, 5}) {
      SCOPED_TRACE(std::to_string(n) + " events, " + std::to_string(bins) + " bins");
      auto x = torch::randn({n, 4}, torch::kDouble);
      auto ref = dft_low_pass(x, bins)[n - 1];
      auto h = nn::low_pass_kernel(n, bins).to(torch::kDouble);
      auto ours = torch::matmul(h, x.flip(0));  // sum_k h[k] x[n - 1 - k]
      EXPECT_TRUE(torch::allclose(ours, ref, 1e-5, 1e-6)) << ours << ref;
    }
  // One bin is the window mean; every bin is the identity.
  EXPECT_TRUE(torch::allclose(nn::low_pass_kernel(8, 1), torch::full({8}, 0.125f)));
  auto all = nn::low_pass_kernel(8, 100);
  EXPECT_NEAR(all[0].item<float>(), 1.0f, 1e-6);
  EXPECT_NEAR(all.slice(0, 1).abs().max().item<float>(), 0.0f, 1e-6);
  EXPECT_THROW(nn::low_pass_kernel(0, 3), InvalidInput);
}

TEST(SpectralFilter, MatrixIsCausalToeplitzCutAtTheWindow) {
  auto h = torch::tensor({0.5f, 0.3f, 0.2f});
  auto T = nn::causal_filter_matrix(h, 5);
  for (int64_t t = 0; t < 5; ++t)
    for (int64_t s = 0; s < 5; ++s) {
      const float want = (t >= s && t - s < 3) ? h[t - s].item<float>() : 0.0f;
      EXPECT_FLOAT_EQ(T[t][s].item<float>(), want) << t << "," << s;
    }
}

TEST(SpectralFilter, EachPositionGetsBsarecsFilterOfTheWindowEndingThere) {
  torch::manual_seed(6);
  const int64_t window = 6, d = 3, bins = 2;
  nn::SpectralFilter f(d, window, bins);
  {
    torch::NoGradGuard g;
    f->sqrt_beta.copy_(torch::tensor({0.5f, 1.5f, -0.7f}));
  }
  // Two sequences of 8 events, the first with 3 of padding in front.
  auto h = torch::randn({2, 8, d});
  auto valid = torch::ones({2, 8}, torch::kBool);
  valid[0].slice(0, 0, 3).fill_(false);
  auto y = f->forward(h, valid);
  auto beta2 = f->sqrt_beta.square();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t t = 0; t < 8; ++t) {
      if (!valid[b][t].item<bool>()) {
        EXPECT_TRUE(torch::allclose(y[b][t], torch::zeros({d})));
        continue;
      }
      // The window of `window` events ending at t, zeros before the sequence's start.
      auto w = torch::zeros({window, d});
      for (int64_t k = 0; k < window; ++k) {
        const int64_t s = t - (window - 1) + k;
        if (s >= 0 && valid[b][s].item<bool>()) w[k] = h[b][s];
      }
      auto low = dft_low_pass(w, bins)[window - 1];
      auto want = low + beta2 * (h[b][t] - low);
      EXPECT_TRUE(torch::allclose(y[b][t], want, 1e-5, 1e-5)) << b << "," << t;
    }
  // beta is learned.
  y.sum().backward();
  EXPECT_GT(f->sqrt_beta.grad().abs().sum().item<float>(), 0.0f);
}

TEST(SpectralFilter, ItsCachedMatrixFollowsTheLengthAndTheKernel) {
  // The filter keeps T for the longest length seen; shorter inputs use its top-left block, and a
  // kernel written after (loaded weights) is never filtered with the old matrix.
  torch::manual_seed(8);
  const int64_t window = 4, d = 2;
  nn::SpectralFilter f(d, window, 2);
  const auto direct = [&](const torch::Tensor& h) {
    auto low = torch::matmul(nn::causal_filter_matrix(f->kernel, h.size(1)), h);
    return low + f->sqrt_beta.square() * (h - low);
  };
  for (const int64_t L : {3, 9, 5, 9, 1}) {
    auto h = torch::randn({2, L, d});
    auto y = f->forward(h, torch::ones({2, L}, torch::kBool));
    EXPECT_TRUE(torch::allclose(y, direct(h), 1e-6, 1e-6)) << L;
  }
  {
    torch::NoGradGuard g;
    f->kernel.copy_(torch::tensor({0.1f, 0.2f, 0.3f, 0.4f}));
  }
  auto h = torch::randn({1, 6, d});
  EXPECT_TRUE(torch::allclose(f->forward(h, torch::ones({1, 6}, torch::kBool)), direct(h), 1e-6, 1e-6));
}

TEST(SpectralFilter, AMatrixCachedWhileServingIsNotUsedForTraining) {
  // Serving encodes under InferenceMode; a later training step must still differentiate through
  // the filter (an inference tensor cannot be saved for backward).
  nn::SpectralFilter f(2, 4, 2);
  {
    const c10::InferenceMode inference;
    f->forward(torch::randn({1, 5, 2}), torch::ones({1, 5}, torch::kBool));
  }
  auto h = torch::randn({1, 5, 2}, torch::requires_grad());
  f->forward(h, torch::ones({1, 5}, torch::kBool)).sum().backward();
  EXPECT_TRUE(h.grad().defined());
  EXPECT_GT(f->sqrt_beta.grad().abs().sum().item<float>(), 0.0f);
}
