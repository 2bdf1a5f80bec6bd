#pragma once
// Dense helpers shared by the matrix-factorization models (internal header).
#include <cstddef>
#include <vector>

namespace driftrec::models::dense {

/// out[B, n] = U[B, k] * Y[n, k]^T (row-major), via BLAS sgemm. Single-threaded inside BLAS:
/// scoring is parallelised across requests or evaluation cases by the callers, and OpenBLAS teams
/// started from many threads at once oversubscribe the cores and spin (a serving benchmark at 16
/// concurrent requests went from ~100 to thousands of requests/s with this). The calling thread's
/// BLAS/OpenMP thread count is restored on return.
void scores(const float* U, std::size_t B, const float* Y, std::size_t n, std::size_t k, float* out);

/// G[k, k] = Y[n, k]^T Y[n, k] in double precision (row-major, full matrix).
std::vector<double> gram(const float* Y, std::size_t n, std::size_t k);

/// Solves A x = b in place for symmetric positive-definite A[k, k] (row-major); b becomes x.
/// A is overwritten by its Cholesky factor. Returns false when A is not positive definite.
bool cholesky_solve(std::vector<double>& A, std::vector<double>& b, std::size_t k);

/// Sets the BLAS thread count (OpenBLAS: global, and the calling thread's OpenMP count in its
/// OpenMP build); returns the previous global count.
int set_blas_threads(int n);

/// Saves the calling thread's OpenMP thread count and OpenBLAS's global thread count, and puts
/// both back when destroyed (after a parallel section that ran them single-threaded).
class SavedThreadCounts {
 public:
  SavedThreadCounts();
  ~SavedThreadCounts();
  SavedThreadCounts(const SavedThreadCounts&) = delete;
  SavedThreadCounts& operator=(const SavedThreadCounts&) = delete;

 private:
  int omp_ = 1, blas_ = 0;
};

}  // namespace driftrec::models::dense
