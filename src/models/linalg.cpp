#include "linalg.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "driftrec/core/error.h"
#include "driftrec/core/parallel.h"
#include "driftrec/core/rng.h"

// LAPACK's Fortran interface, as OpenBLAS exports it (the trailing size_t is the hidden length of
// each character argument).
extern "C" {
void dgelqf_(const int* m, const int* n, double* a, const int* lda, double* tau, double* work, const int* lwork,
             int* info);
void dorglq_(const int* m, const int* n, const int* k, double* a, const int* lda, const double* tau, double* work,
             const int* lwork, int* info);
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work,
             const int* lwork, int* iwork, const int* liwork, int* info, std::size_t, std::size_t);
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, std::size_t);
void dpotri_(const char* uplo, const int* n, double* a, const int* lda, int* info, std::size_t);
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info, std::size_t);
void spotri_(const char* uplo, const int* n, float* a, const int* lda, int* info, std::size_t);
}

namespace driftrec::models::linalg {

namespace {

int as_int(std::size_t n, const char* what) {
  if (n > static_cast<std::size_t>(INT32_MAX)) throw InvalidInput(std::string(what) + ": matrix too large for LAPACK");
  return static_cast<int>(n);
}

void check(int info, const char* routine) {
  if (info != 0) throw Error(std::string("LAPACK ") + routine + " failed (info " + std::to_string(info) + ")");
}

}  // namespace

Csr transpose(const Csr& A) {
  Csr T;
  T.rows = A.cols;
  T.cols = A.rows;
  T.offsets.assign(A.cols + 1, 0);
  for (auto j : A.index) ++T.offsets[static_cast<std::size_t>(j) + 1];
  for (std::size_t j = 0; j < A.cols; ++j) T.offsets[j + 1] += T.offsets[j];
  T.index.resize(A.index.size());
  T.value.resize(A.value.size());
  auto fill = T.offsets;
  for (std::size_t r = 0; r < A.rows; ++r)
    for (auto q = A.offsets[r]; q < A.offsets[r + 1]; ++q) {
      const auto at = static_cast<std::size_t>(fill[static_cast<std::size_t>(A.index[static_cast<std::size_t>(q)])]++);
      T.index[at] = static_cast<std::int32_t>(r);
      T.value[at] = A.value[static_cast<std::size_t>(q)];
    }
  return T;
}

void multiply(const Csr& A, const double* X, std::size_t l, double* out, int threads) {
  parallel_blocks(A.rows, 256, threads, [&](std::size_t b, std::size_t e, int) {
    for (std::size_t r = b; r < e; ++r) {
      double* o = out + r * l;
      std::fill(o, o + l, 0.0);
      for (auto q = A.offsets[r]; q < A.offsets[r + 1]; ++q) {
        const double a = A.value[static_cast<std::size_t>(q)];
        const double* x = X + static_cast<std::size_t>(A.index[static_cast<std::size_t>(q)]) * l;
        for (std::size_t c = 0; c < l; ++c) o[c] += a * x[c];
      }
    }
  });
}

void orthonormalize(std::vector<double>& Y, std::size_t m, std::size_t l) {
  // Row-major Y[m, l] is the column-major l x m matrix Y^T = L Q; Q's orthonormal rows, stored
  // column-major, are Y's orthonormal columns in row-major order.
  const int rows = as_int(l, "orthonormalize"), cols = as_int(m, "orthonormalize");
  if (l > m) throw InvalidInput("orthonormalize: more columns than rows");
  std::vector<double> tau(l);
  int info = 0, lwork = -1;
  double query = 0;
  dgelqf_(&rows, &cols, Y.data(), &rows, tau.data(), &query, &lwork, &info);
  check(info, "dgelqf");
  lwork = std::max(1, static_cast<int>(query));
  std::vector<double> work(static_cast<std::size_t>(lwork));
  dgelqf_(&rows, &cols, Y.data(), &rows, tau.data(), work.data(), &lwork, &info);
  check(info, "dgelqf");
  lwork = -1;
  dorglq_(&rows, &cols, &rows, Y.data(), &rows, tau.data(), &query, &lwork, &info);
  check(info, "dorglq");
  lwork = std::max(1, static_cast<int>(query));
  work.resize(static_cast<std::size_t>(lwork));
  dorglq_(&rows, &cols, &rows, Y.data(), &rows, tau.data(), work.data(), &lwork, &info);
  check(info, "dorglq");
}

void symmetric_eigen(std::vector<double>& A, std::size_t n, std::vector<double>& w) {
  const int N = as_int(n, "symmetric_eigen");
  w.assign(n, 0.0);
  int info = 0, lwork = -1, liwork = -1, iquery = 0;
  double query = 0;
  dsyevd_("V", "L", &N, A.data(), &N, w.data(), &query, &lwork, &iquery, &liwork, &info, 1, 1);
  check(info, "dsyevd");
  lwork = std::max(1, static_cast<int>(query));
  liwork = std::max(1, iquery);
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  dsyevd_("V", "L", &N, A.data(), &N, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1);
  check(info, "dsyevd");
}

namespace {

// Cholesky factor and inverse of the lower triangle (column-major view), then the mirror into the
// other half. Mirrors in tiles so the transposed reads stay in cache (n^2 reads at 41k items).
template <typename T, typename Potrf, typename Potri>
bool spd_inverse_with(std::vector<T>& A, std::size_t n, Potrf potrf, Potri potri, const char* name) {
  const int N = as_int(n, "spd_inverse");
  int info = 0;
  potrf("L", &N, A.data(), &N, &info, 1);
  if (info > 0) return false;
  check(info, name);
  potri("L", &N, A.data(), &N, &info, 1);
  if (info > 0) return false;
  check(info, name);
  // Column-major lower = row-major upper triangle: mirror it.
  constexpr std::size_t kTile = 64;
  for (std::size_t bi = 0; bi < n; bi += kTile)
    for (std::size_t bj = 0; bj <= bi; bj += kTile)
      for (std::size_t i = bi; i < std::min(n, bi + kTile); ++i)
        for (std::size_t j = bj; j < std::min(i, bj + kTile); ++j) A[i * n + j] = A[j * n + i];
  return true;
}

}  // namespace

bool spd_inverse(std::vector<double>& A, std::size_t n) {
  return spd_inverse_with(A, n, dpotrf_, dpotri_, "dpotrf/dpotri");
}

bool spd_inverse(std::vector<float>& A, std::size_t n) {
  return spd_inverse_with(A, n, spotrf_, spotri_, "spotrf/spotri");
}

TruncatedSvd randomized_svd(const Csr& A, std::size_t k, std::size_t oversample, int power_iters, std::uint64_t seed,
                            int threads) {
  const std::size_t m = A.rows, n = A.cols;
  const std::size_t l = std::min(k + oversample, std::min(m, n));
  if (l == 0) throw InvalidInput("randomized_svd: empty matrix");
  k = std::min(k, l);
  const Csr At = transpose(A);
  // Sketch: Y = A * Omega, Omega [n, l] standard normal.
  std::vector<double> omega(n * l), Y(m * l), Z(n * l);
  Rng rng(seed);
  for (auto& x : omega) x = rng.normal();
  multiply(A, omega.data(), l, Y.data(), threads);
  for (int it = 0; it < power_iters; ++it) {
    orthonormalize(Y, m, l);
    multiply(At, Y.data(), l, Z.data(), threads);
    orthonormalize(Z, n, l);
    multiply(A, Z.data(), l, Y.data(), threads);
  }
  orthonormalize(Y, m, l);
  // B = Q^T A is l x n; Z = B^T = A^T Q. B B^T = Z^T Z = W diag(sigma^2) W^T, and the right
  // singular vectors are V = Z W diag(1 / sigma).
  multiply(At, Y.data(), l, Z.data(), threads);
  std::vector<double> G(l * l, 0.0), w;
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(l), static_cast<int>(n), 1.0, Z.data(),
              static_cast<int>(l), 0.0, G.data(), static_cast<int>(l));
  for (std::size_t i = 0; i < l; ++i)
    for (std::size_t j = 0; j < i; ++j) G[i * l + j] = G[j * l + i];
  symmetric_eigen(G, l, w);
  TruncatedSvd out;
  out.k = k;
  out.sigma.resize(k);
  std::vector<double> W(l * k, 0.0);  // [l, k]: the top k eigenvectors scaled by 1 / sigma
  for (std::size_t j = 0; j < k; ++j) {
    const std::size_t c = l - 1 - j;
    const double s = std::sqrt(std::max(0.0, w[c]));
    out.sigma[j] = s;
    const double inv = s > 0 ? 1.0 / s : 0.0;
    for (std::size_t a = 0; a < l; ++a) W[a * k + j] = G[c * l + a] * inv;
  }
  out.V.assign(n * k, 0.0);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(k), static_cast<int>(l),
              1.0, Z.data(), static_cast<int>(l), W.data(), static_cast<int>(k), 0.0, out.V.data(),
              static_cast<int>(k));
  return out;
}

}  // namespace driftrec::models::linalg

#include "driftrec/data/dataset.h"

namespace driftrec::models::linalg {

Csr binary_matrix(const data::InteractionLog& log, std::size_t n_users, std::size_t n_items) {
  Csr R;
  R.rows = n_users;
  R.cols = n_items;
  R.offsets.assign(n_users + 1, 0);
  std::vector<std::int32_t> items;
  for (std::size_t u = 1; u < n_users && u + 1 < log.offsets.size(); ++u) {
    items.assign(log.item.begin() + log.user_begin(static_cast<std::int32_t>(u)),
                 log.item.begin() + log.user_end(static_cast<std::int32_t>(u)));
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    for (auto i : items)
      if (i > 0 && static_cast<std::size_t>(i) < n_items) R.index.push_back(i);
    R.offsets[u + 1] = static_cast<std::int64_t>(R.index.size());
  }
  for (std::size_t u = 1; u < n_users; ++u) R.offsets[u + 1] = std::max(R.offsets[u + 1], R.offsets[u]);
  R.value.assign(R.index.size(), 1.0);
  return R;
}

std::vector<double> normalize_bipartite(Csr& R) {
  std::vector<double> item_degree(R.cols, 0.0);
  for (auto i : R.index) item_degree[static_cast<std::size_t>(i)] += 1.0;
  for (std::size_t u = 0; u < R.rows; ++u) {
    const auto deg = static_cast<double>(R.offsets[u + 1] - R.offsets[u]);
    for (auto q = R.offsets[u]; q < R.offsets[u + 1]; ++q)
      R.value[static_cast<std::size_t>(q)] =
          1.0 / std::sqrt(deg * item_degree[static_cast<std::size_t>(R.index[static_cast<std::size_t>(q)])]);
  }
  return item_degree;
}

std::vector<std::pair<std::int32_t, std::size_t>> distinct_items(const std::vector<data::Event>& history,
                                                                 std::int32_t n_items) {
  std::vector<std::pair<std::int32_t, std::size_t>> out;
  for (std::size_t p = 0; p < history.size(); ++p)
    if (history[p].item > 0 && history[p].item < n_items) out.emplace_back(history[p].item, p);
  // Sort by item, the last occurrence first within an item, then keep one per item.
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.first < b.first || (a.first == b.first && a.second > b.second);
  });
  out.erase(std::unique(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
            out.end());
  return out;
}

}  // namespace driftrec::models::linalg
