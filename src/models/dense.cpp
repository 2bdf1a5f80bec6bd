#include "dense.h"

#include <cblas.h>
#include <omp.h>

#include <cmath>

namespace driftrec::models::dense {

void scores(const float* U, std::size_t B, const float* Y, std::size_t n, std::size_t k, float* out) {
  if (B == 0 || n == 0) return;
  if (B == 1) {
    // One query (serving, replay, the simulator): a matrix-vector product. sgemm would pack the
    // whole item matrix on every call, the larger part of a single request's cost.
    cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(n), static_cast<int>(k), 1.0f, Y, static_cast<int>(k), U,
                1, 0.0f, out, 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(B), static_cast<int>(n), static_cast<int>(k),
              1.0f, U, static_cast<int>(k), Y, static_cast<int>(k), 0.0f, out, static_cast<int>(n));
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

OneThreadHere::OneThreadHere() : omp_(omp_get_max_threads()) { omp_set_num_threads(1); }

OneThreadHere::~OneThreadHere() { omp_set_num_threads(omp_); }

}  // namespace driftrec::models::dense
