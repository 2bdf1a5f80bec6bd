#include "spectral_filter.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "driftrec/core/error.h"

namespace driftrec::nn {

torch::Tensor low_pass_kernel(int64_t window, int64_t bins) {
  if (window < 1 || bins < 1) throw InvalidInput("spectral filter: window and bins must be positive");
  bins = std::min(bins, window / 2 + 1);
  std::vector<float> h(static_cast<std::size_t>(window), 0.0f);
  const double n = static_cast<double>(window);
  for (int64_t k = 0; k < window; ++k) {
    double sum = 0;
    for (int64_t f = 0; f < bins; ++f) {
      const bool single = f == 0 || (window % 2 == 0 && f == window / 2);
      sum += (single ? 1.0 : 2.0) * std::cos(2.0 * M_PI * static_cast<double>(f * k) / n);
    }
    h[static_cast<std::size_t>(k)] = static_cast<float>(sum / n);
  }
  return torch::tensor(h);
}

torch::Tensor causal_filter_matrix(const torch::Tensor& kernel, int64_t length) {
  const auto window = kernel.size(0);
  auto idx = torch::arange(length, kernel.options().dtype(torch::kLong));  // on the kernel's device
  auto lag = idx.unsqueeze(1) - idx.unsqueeze(0);                          // t - s
  auto inside = lag.ge(0) & lag.lt(window);
  return torch::where(inside, kernel.index({lag.clamp(0, window - 1)}), torch::zeros({}, kernel.options()));
}

SpectralFilterImpl::SpectralFilterImpl(int64_t d, int64_t window, int64_t bins) {
  kernel = register_buffer("kernel", low_pass_kernel(window, bins));
  // beta = 1 at the start: the filter passes its input unchanged until training reweights the bands.
  sqrt_beta = register_parameter("sqrt_beta", torch::ones({d}));
}

torch::Tensor SpectralFilterImpl::forward(const torch::Tensor& h, const torch::Tensor& valid) {
  auto x = h * valid.unsqueeze(-1).to(h.dtype());
  auto T = filter_matrix(x.size(1));  // the kernel buffer moves with the module
  auto low = torch::matmul(T, x);     // [L, L] x [B, L, d]
  return low + sqrt_beta.square() * (x - low);
}

torch::Tensor SpectralFilterImpl::filter_matrix(int64_t length) {
  std::lock_guard lock(cache_mu_);
  // A matrix made under InferenceMode (serving) cannot be saved for a backward pass (training).
  const bool stale = !cache_.defined() || (cache_.is_inference() && !c10::InferenceMode::is_enabled()) ||
                     cache_.device() != kernel.device() || cache_.scalar_type() != kernel.scalar_type() ||
                     cache_version_ != static_cast<int64_t>(kernel._version()) || cache_source_ != kernel.data_ptr();
  if (stale || cache_.size(0) < length) {
    const int64_t n = stale ? length : std::max(length, cache_.size(0));
    torch::NoGradGuard no_grad;  // a constant of the buffer: nothing to differentiate
    cache_ = causal_filter_matrix(kernel, n);
    cache_version_ = static_cast<int64_t>(kernel._version());
    cache_source_ = kernel.data_ptr();
  }
  if (cache_.size(0) == length) return cache_;
  return cache_.narrow(0, 0, length).narrow(1, 0, length);
}

}  // namespace driftrec::nn
