#pragma once
// Paired significance tests over users, for comparing two models evaluated on the same cases.
//   paired t-test      t = mean(d) / (sd(d) / sqrt(n)) on the per-user differences d = b - a,
//                      two-sided p from Student's t with n - 1 degrees of freedom
//   bootstrap CI       percentile interval of mean(d) over `resamples` resamplings of the users
//                      (seeded: the same seed gives the same interval)
//   Holm-Bonferroni    step-down adjustment of a family of p-values (all comparisons of one run)
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace driftrec::eval {

struct PairedComparison {
  std::size_t n = 0;
  double mean_a = 0, mean_b = 0;
  double diff = 0;                 ///< mean(b - a)
  double t = 0;                    ///< paired t statistic (0 when every difference is equal)
  double p_value = 1;              ///< two-sided, paired t-test
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

/// One model's difference from the baseline on one metric, with its family-adjusted p-value.
struct BaselineComparison {
  std::string metric;
  std::size_t model = 0;  ///< index into the compared models (>= 1; 0 is the baseline)
  PairedComparison c;
  double p_holm = 1;  ///< Holm-Bonferroni over every (metric, model) pair of the call
};

/// Compares every model k >= 1 with model 0 on every metric, using each model's per-case values
/// (`per_case[k]`, e.g. EvalResult::per_case); Holm-Bonferroni over the whole family. Ordered by
/// metric, then model. Throws InvalidInput when a metric is missing for a model.
std::vector<BaselineComparison> compare_to_baseline(
    const std::vector<const std::map<std::string, std::vector<double>>*>& per_case,
    const std::vector<std::string>& metrics, int resamples, std::uint64_t seed);

}  // namespace driftrec::eval
