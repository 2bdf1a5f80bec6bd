#pragma once
// A causal low-pass / high-pass mixing filter over the sequence axis (internal to the nn layer),
// after BSARec's "beyond self-attention" frequency branch (Shin et al., AAAI 2024): the input is split
// into its low-frequency part (the lowest `bins` DFT bins of a `window`-long sequence) and the
// rest, and the output is low + beta^2 * high with a learned beta per dimension.
//
// BSARec takes the DFT of the whole padded window, so every position sees the ones after it. Here
// each position t gets what the window ending at t gives at its newest position: a causal FIR filter
// whose kernel is the last row of the window's low-pass projection (zeros before a sequence's start).
// The newest position — where training targets sit with prefix samples and where serving reads the
// state — is filtered exactly as in BSARec; earlier positions never see later events, so whole-
// sequence training and incremental serving stay leak-free.
#include <cstdint>
#include <mutex>

#include "pch.h"

namespace driftrec::nn {

/// Kernel h[k], k = 0..window-1 (k events back), of the low-pass that keeps DFT bins 0..bins-1 of a
/// window-long sequence, read at the window's newest position:
/// h[k] = (1/window) * sum_{f < bins} w_f cos(2 pi f k / window), w_0 = 1, w_f = 2 below the Nyquist
/// bin, 1 at it. `bins` is clamped to window / 2 + 1 (then the filter is the identity).
torch::Tensor low_pass_kernel(int64_t window, int64_t bins);

/// [L, L] lower-triangular Toeplitz matrix T[t, s] = h[t - s] for 0 <= t - s < window, else 0.
torch::Tensor causal_filter_matrix(const torch::Tensor& kernel, int64_t length);

struct SpectralFilterImpl : torch::nn::Module {
  SpectralFilterImpl(int64_t d, int64_t window, int64_t bins);
  /// h [B, L, d]; valid [B, L] bool (false = padding, treated as zero input). Returns
  /// low + beta^2 * (h - low), zero at padding positions.
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& valid);
  torch::Tensor kernel;     ///< buffer [window]
  torch::Tensor sqrt_beta;  ///< [d]

 private:
  /// causal_filter_matrix(kernel, length), from a cached matrix of the longest length asked so far
  /// (T for a shorter length is its top-left block). Rebuilt when the kernel moves to another device
  /// or is written (loaded weights). Serving encodes one history at a time: building T each time
  /// cost ~6% of a first recommendation.
  torch::Tensor filter_matrix(int64_t length);
  std::mutex cache_mu_;  // forwards may run on several threads (serving)
  torch::Tensor cache_;
  int64_t cache_version_ = -1;
  const void* cache_source_ = nullptr;  // the kernel's storage it was built from
};
TORCH_MODULE(SpectralFilter);

}  // namespace driftrec::nn
