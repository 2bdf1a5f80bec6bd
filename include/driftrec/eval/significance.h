#pragma once
// Paired significance tests over users, for comparing two models evaluated on the same cases.
//   paired t-test      t = mean(d) / (sd(d) / sqrt(n)) on the per-user differences d = b - a,
//                      two-sided p from Student's t with n - 1 degrees of freedom
//   bootstrap CI       percentile interval of mean(d) over `resamples` resamplings of the users
//                      (seeded: the same seed gives the same interval)
//   Holm-Bonferroni    step-down adjustment of a family of p-values (all comparisons of one run)
#include <cstdint>
#include <vector>

namespace driftrec::eval {

struct PairedComparison {
  std::size_t n = 0;
  double mean_a = 0, mean_b = 0;
  double diff = 0;            ///< mean(b - a)
  double t = 0;               ///< paired t statistic (0 when every difference is equal)
  double p_value = 1;         ///< two-sided, paired t-test
  double ci_low = 0, ci_high = 0;  ///< bootstrap percentile interval of diff
};

/// Compares per-user values of model a and model b (same cases, same order). Throws InvalidInput
/// when the sizes differ or fewer than two cases are given. `confidence` e.g. 0.95.
PairedComparison paired_compare(const std::vector<double>& a, const std::vector<double>& b, int resamples = 1000,
                                std::uint64_t seed = 42, double confidence = 0.95);

/// Two-sided p-value of Student's t statistic with `df` degrees of freedom.
double student_t_p_value(double t, double df);

/// Regularised incomplete beta function I_x(a, b) (continued fraction, Lentz's method).
double incomplete_beta(double x, double a, double b);

/// Holm-Bonferroni adjusted p-values (same order as given, each capped at 1).
std::vector<double> holm_adjust(const std::vector<double>& p);

}  // namespace driftrec::eval
