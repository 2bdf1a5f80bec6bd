#pragma once
// Dense helpers shared by the matrix-factorization models (internal header).
#include <cstddef>
#include <vector>

namespace driftrec::models::dense {

/// out[B, n] = U[B, k] * Y[n, k]^T (row-major), via BLAS sgemm, on as many threads as the calling
/// thread's OpenMP count allows (OpenBLAS's OpenMP build follows it). Callers that score from many
/// threads at once (evaluator, simulator, server workers) run each thread single-threaded with
/// OneThreadHere, so their BLAS teams do not oversubscribe the cores (a serving benchmark at 16
/// concurrent requests went from ~100 to thousands of requests/s with that). Nothing here changes
/// process-wide thread settings: doing so from one caller while another was inside BLAS crashed
/// OpenBLAS (docs/design-notes.md, "BLAS threads").
void scores(const float* U, std::size_t B, const float* Y, std::size_t n, std::size_t k, float* out);

/// G[k, k] = Y[n, k]^T Y[n, k] in double precision (row-major, full matrix).
std::vector<double> gram(const float* Y, std::size_t n, std::size_t k);

/// Solves A x = b in place for symmetric positive-definite A[k, k] (row-major); b becomes x.
/// A is overwritten by its Cholesky factor. Returns false when A is not positive definite.
bool cholesky_solve(std::vector<double>& A, std::vector<double>& b, std::size_t k);

/// Runs BLAS and LibTorch on one thread in the calling thread for its lifetime, then puts the
/// calling thread's count back. It sets only the calling thread's OpenMP count, which OpenBLAS's
/// OpenMP build follows without touching its global count, and which LibTorch's intra-op
/// parallelism uses once initialised on the thread (LibTorch initialises it on a thread's first
/// parallel operation, from its own global count). Never calls openblas_set_num_threads: that
/// count is global, and changing it reallocates buffers that another thread's BLAS call may be
/// using.
class OneThreadHere {
 public:
  OneThreadHere();
  ~OneThreadHere();
  OneThreadHere(const OneThreadHere&) = delete;
  OneThreadHere& operator=(const OneThreadHere&) = delete;

 private:
  int omp_ = 1;
};

}  // namespace driftrec::models::dense
