#pragma once
// Dense helpers shared by the matrix-factorization models (internal header).
#include <cstddef>
#include <vector>

namespace driftrec::models::dense {

/// out[B, n] = U[B, k] * Y[n, k]^T (row-major), via BLAS sgemm.
void scores(const float* U, std::size_t B, const float* Y, std::size_t n, std::size_t k, float* out);

/// G[k, k] = Y[n, k]^T Y[n, k] in double precision (row-major, full matrix).
std::vector<double> gram(const float* Y, std::size_t n, std::size_t k);

/// Solves A x = b in place for symmetric positive-definite A[k, k] (row-major); b becomes x.
/// A is overwritten by its Cholesky factor. Returns false when A is not positive definite.
bool cholesky_solve(std::vector<double>& A, std::vector<double>& b, std::size_t k);

/// Sets BLAS threads (OpenBLAS); returns the previous count. No-op for other BLAS builds.
int set_blas_threads(int n);

}  // namespace driftrec::models::dense
