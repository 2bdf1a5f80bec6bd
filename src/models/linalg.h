#pragma once
// Sparse and dense linear algebra for the graph and item-item models (internal header): a CSR
// matrix with threaded sparse x dense products, LAPACK-backed orthonormalisation, symmetric
// eigen-decomposition and SPD inversion (OpenBLAS ships LAPACK), and a randomized truncated SVD
// (Halko, Martinsson & Tropp 2011, algorithms 4.4 + 5.1).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace driftrec::models::linalg {

/// A sparse matrix in compressed rows: row r's entries are [offsets[r], offsets[r + 1]).
struct Csr {
  std::size_t rows = 0, cols = 0;
  std::vector<std::int64_t> offsets;  ///< size rows + 1
  std::vector<std::int32_t> index;    ///< column of each entry
  std::vector<double> value;
};

/// The transpose (compressed columns of A as compressed rows), entries sorted by index.
Csr transpose(const Csr& A);

/// out[A.rows, l] = A * X[A.cols, l] (dense row-major), rows split over `threads`.
void multiply(const Csr& A, const double* X, std::size_t l, double* out, int threads);

/// Orthonormalises the columns of Y[m, l] (row-major, m >= l) in place: Householder QR (LAPACK's
/// LQ of the column-major view). Throws Error when LAPACK fails.
void orthonormalize(std::vector<double>& Y, std::size_t m, std::size_t l);

/// Eigen-decomposition of the symmetric A[n, n]: `w` gets the eigenvalues in ascending order and
/// A the eigenvectors, eigenvector c contiguous at A[c * n, (c + 1) * n). Throws Error.
void symmetric_eigen(std::vector<double>& A, std::size_t n, std::vector<double>& w);

/// Inverts the symmetric positive-definite A[n, n] (full, row-major) in place through its Cholesky
/// factor. Returns false when A is not positive definite. The float overload (LAPACK's s*) halves
/// the memory for catalogues whose n^2 doubles do not fit.
bool spd_inverse(std::vector<double>& A, std::size_t n);
bool spd_inverse(std::vector<float>& A, std::size_t n);

/// The top singular values and right singular vectors of A.
struct TruncatedSvd {
  std::vector<double> sigma;  ///< descending, size k
  std::vector<double> V;      ///< [A.cols, k] row-major: column j is the j-th right singular vector
  std::size_t k = 0;
};
/// Randomized SVD of rank min(k, rank bound): a Gaussian sketch of k + oversample columns (seeded),
/// `power_iters` orthonormalised power iterations, then the exact SVD of the small projected
/// matrix. With k + oversample >= min(rows, cols) it is exact up to rounding.
TruncatedSvd randomized_svd(const Csr& A, std::size_t k, std::size_t oversample, int power_iters, std::uint64_t seed,
                            int threads);

}  // namespace driftrec::models::linalg

namespace driftrec::data {
struct InteractionLog;
struct Event;
}  // namespace driftrec::data

namespace driftrec::models::linalg {

/// The binary user x item matrix of `log` (rows n_users, columns n_items; a user's repeated item
/// counts once), entries sorted by item within a row.
Csr binary_matrix(const data::InteractionLog& log, std::size_t n_users, std::size_t n_items);

/// Scales a user x item matrix to R~ = Du^-1/2 R Di^-1/2 (Du, Di: the row and column entry counts,
/// the degrees of the bipartite graph) in place; returns the column (item) degrees.
std::vector<double> normalize_bipartite(Csr& R);

/// The distinct items of a history that lie in [1, n_items), each with the position of its last
/// occurrence, sorted by item.
std::vector<std::pair<std::int32_t, std::size_t>> distinct_items(const std::vector<data::Event>& history,
                                                                 std::int32_t n_items);

}  // namespace driftrec::models::linalg
