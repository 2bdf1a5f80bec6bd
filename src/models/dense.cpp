#include "dense.h"

#include <cblas.h>
#include <omp.h>

#include <cmath>

extern "C" {
// OpenBLAS extensions; declared weak so a different BLAS still links.
void openblas_set_num_threads(int) __attribute__((weak));
int openblas_get_num_threads(void) __attribute__((weak));
}

namespace driftrec::models::dense {

void scores(const float* U, std::size_t B, const float* Y, std::size_t n, std::size_t k, float* out) {
  if (B == 0 || n == 0) return;
  // One BLAS thread for this call, then the caller's count back. OpenBLAS's count is global (and
  // once 1, it stays 1 for every thread), and in its OpenMP build setting it also sets the calling
  // thread's OpenMP count, which LibTorch's intra-op parallelism follows. Left at 1, the thread that
  // ran a validation inside `fit` trained on one core from then on (hstu on Beauty: 12.4 s epochs
  // after the first validation instead of 7.9 s).
  const int prev = omp_get_max_threads();
  if (prev > 1) set_blas_threads(1);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(B), static_cast<int>(n), static_cast<int>(k),
              1.0f, U, static_cast<int>(k), Y, static_cast<int>(k), 0.0f, out, static_cast<int>(n));
  if (prev > 1) set_blas_threads(prev);
}

std::vector<double> gram(const float* Y, std::size_t n, std::size_t k) {
  std::vector<float> g(k * k, 0.0f);
  cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(k), static_cast<int>(n), 1.0f, Y,
              static_cast<int>(k), 0.0f, g.data(), static_cast<int>(k));
  std::vector<double> G(k * k);
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = i; j < k; ++j) G[i * k + j] = G[j * k + i] = g[i * k + j];
  return G;
}

bool cholesky_solve(std::vector<double>& A, std::vector<double>& b, std::size_t k) {
  // A = L L^T, L stored in the lower triangle.
  for (std::size_t j = 0; j < k; ++j) {
    double d = A[j * k + j];
    for (std::size_t p = 0; p < j; ++p) d -= A[j * k + p] * A[j * k + p];
    if (!(d > 0.0)) return false;
    const double l = std::sqrt(d);
    A[j * k + j] = l;
    for (std::size_t i = j + 1; i < k; ++i) {
      double s = A[i * k + j];
      for (std::size_t p = 0; p < j; ++p) s -= A[i * k + p] * A[j * k + p];
      A[i * k + j] = s / l;
    }
  }
  for (std::size_t i = 0; i < k; ++i) {  // L y = b
    double s = b[i];
    for (std::size_t p = 0; p < i; ++p) s -= A[i * k + p] * b[p];
    b[i] = s / A[i * k + i];
  }
  for (std::size_t i = k; i-- > 0;) {  // L^T x = y
    double s = b[i];
    for (std::size_t p = i + 1; p < k; ++p) s -= A[p * k + i] * b[p];
    b[i] = s / A[i * k + i];
  }
  return true;
}

int set_blas_threads(int n) {
  if (!openblas_set_num_threads || !openblas_get_num_threads) return 1;
  const int prev = openblas_get_num_threads();
  openblas_set_num_threads(n);
  return prev;
}

SavedThreadCounts::SavedThreadCounts()
    : omp_(omp_get_max_threads()), blas_(openblas_get_num_threads ? openblas_get_num_threads() : 0) {}

SavedThreadCounts::~SavedThreadCounts() {
  if (blas_ > 0 && openblas_set_num_threads) openblas_set_num_threads(blas_);
  omp_set_num_threads(omp_);
}

}  // namespace driftrec::models::dense
