#pragma once
// iALS's sparse rows and row solve, shared by the plain and the private trainer (internal).
#include <cstdint>
#include <vector>

#include "driftrec/data/dataset.h"

namespace driftrec::models::ials {

/// Rows of (column, count) lists in CSR form.
struct CountRows {
  std::vector<std::int64_t> offsets;
  std::vector<std::int32_t> cols;
  std::vector<float> counts;
};

/// Each user's distinct items with their event counts (row 0 empty).
CountRows user_rows(const data::InteractionLog& log, std::size_t n_users);
/// The transpose: each item's users with the counts.
CountRows transpose(const CountRows& rows, std::size_t n_cols);

/// Solves one row: x = (FtF + reg I + sum (c-1) f f^T)^-1 sum c f over the row's (col, count),
/// c = 1 + alpha * count. An empty row or a singular system gives x = 0.
void solve_row(const CountRows& rows, std::size_t r, const std::vector<float>& F, const std::vector<double>& FtF,
               std::size_t k, double reg, double alpha, std::vector<double>& A, std::vector<double>& b, float* x);

}  // namespace driftrec::models::ials
