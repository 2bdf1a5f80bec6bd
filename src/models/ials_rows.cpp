#include "ials_rows.h"

#include <algorithm>
#include <numeric>

#include "dense.h"

namespace driftrec::models::ials {

CountRows user_rows(const data::InteractionLog& log, std::size_t nu) {
  CountRows ur;
  ur.offsets.assign(nu + 1, 0);
  std::vector<std::pair<std::int32_t, float>> tmp;
  for (std::size_t u = 1; u < nu; ++u) {
    tmp.clear();
    for (auto r = log.user_begin(static_cast<std::int32_t>(u)); r < log.user_end(static_cast<std::int32_t>(u)); ++r)
      tmp.emplace_back(log.item[static_cast<std::size_t>(r)], 1.0f);
    std::sort(tmp.begin(), tmp.end());
    for (std::size_t q = 0; q < tmp.size(); ++q) {
      if (!ur.cols.empty() && ur.offsets[u] < static_cast<std::int64_t>(ur.cols.size()) &&
          ur.cols.back() == tmp[q].first) {
        ur.counts.back() += 1.0f;
      } else {
        ur.cols.push_back(tmp[q].first);
        ur.counts.push_back(1.0f);
      }
    }
    ur.offsets[u + 1] = static_cast<std::int64_t>(ur.cols.size());
  }
  return ur;
}

CountRows transpose(const CountRows& ur, std::size_t ni) {
  CountRows ir;
  const auto nu = ur.offsets.size() - 1;
  ir.offsets.assign(ni + 1, 0);
  for (auto c : ur.cols) ++ir.offsets[static_cast<std::size_t>(c) + 1];
  std::partial_sum(ir.offsets.begin(), ir.offsets.end(), ir.offsets.begin());
  ir.cols.resize(ur.cols.size());
  ir.counts.resize(ur.cols.size());
  {
    auto fill = ir.offsets;
    for (std::size_t u = 1; u < nu; ++u)
      for (auto q = ur.offsets[u]; q < ur.offsets[u + 1]; ++q) {
        const auto pos =
            static_cast<std::size_t>(fill[static_cast<std::size_t>(ur.cols[static_cast<std::size_t>(q)])]++);
        ir.cols[pos] = static_cast<std::int32_t>(u);
        ir.counts[pos] = ur.counts[static_cast<std::size_t>(q)];
      }
  }
  return ir;
}

void solve_row(const CountRows& rows, std::size_t r, const std::vector<float>& F, const std::vector<double>& FtF,
               std::size_t k, double reg, double alpha, std::vector<double>& A, std::vector<double>& b, float* x) {
  A = FtF;
  std::fill(b.begin(), b.end(), 0.0);
  for (std::size_t d = 0; d < k; ++d) A[d * k + d] += reg;
  for (auto q = rows.offsets[r]; q < rows.offsets[r + 1]; ++q) {
    const float* f = &F[static_cast<std::size_t>(rows.cols[static_cast<std::size_t>(q)]) * k];
    const double c = 1.0 + alpha * rows.counts[static_cast<std::size_t>(q)];
    for (std::size_t a = 0; a < k; ++a) {
      const double fa = (c - 1.0) * f[a];
      for (std::size_t d = 0; d <= a; ++d) A[a * k + d] += fa * f[d];
      b[a] += c * f[a];
    }
  }
  for (std::size_t a = 0; a < k; ++a)
    for (std::size_t d = a + 1; d < k; ++d) A[a * k + d] = A[d * k + a];
  if (rows.offsets[r] == rows.offsets[r + 1] || !dense::cholesky_solve(A, b, k)) {
    std::fill(x, x + k, 0.0f);
    return;
  }
  for (std::size_t a = 0; a < k; ++a) x[a] = static_cast<float>(b[a]);
}

}  // namespace driftrec::models::ials
