// driftrec ope: off-policy evaluation of a policy from logged bandit feedback (flags -> one
// library call -> print).
#include <cmath>
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "driftrec/core/error.h"
#include "driftrec/core/hash.h"
#include "driftrec/ope/workflow.h"

namespace driftrec::cli {

namespace {

struct OpeFlags {
  std::string log, truth_log, json;
  std::string estimators = "ips,snips,dm,dr,switch-dr";
  std::int32_t n_actions = 0;
  ope::PolicySpec policy;
  ope::OpeOptions options;
  double clip = 0;  // 0 = off
};

void print_report(const ope::OpeReport& r, double truth, bool has_truth) {
  std::printf("%zu logged rows, %d actions, %d positions; logged policy's value %.6f\n", r.rows, r.n_actions,
              r.n_positions, r.logged_value);
  std::printf("weights: ESS %.1f (%.1f%% of rows), mean %.4f, max %.4g\n", r.weights.ess,
              100.0 * r.weights.ess / static_cast<double>(r.rows), r.weights.mean, r.weights.max);
  if (has_truth) std::printf("on-policy value from the truth log: %.6f\n", truth);
  std::printf("%-10s %10s %23s%s\n", "estimator", "value", "interval", has_truth ? "  rel.error" : "");
  for (const auto& e : r.estimates) {
    std::printf("%-10s %10.6f  [%9.6f, %9.6f]", e.estimator.c_str(), e.value, e.ci_low, e.ci_high);
    if (has_truth) std::printf("  %9.4f", std::abs(e.value - truth) / truth);
    std::printf("\n");
  }
}

}  // namespace

Runner add_ope(CLI::App& app, const GlobalFlags&) {
  auto f = std::make_shared<OpeFlags>();
  app.add_option("--log", f->log, "logged feedback (Open Bandit Dataset CSV layout)")->required();
  app.add_option("--n-actions", f->n_actions, "number of actions (0 = largest item id + 1)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--policy", f->policy.kind,
                 "evaluated policy: uniform, bts (Thompson sampling from --prior), probs (--probs)")
      ->check(CLI::IsMember({"uniform", "bts", "probs"}));
  app.add_option("--prior", f->policy.prior_path, "bts: Beta prior YAML (campaign: {alpha: [...], beta: [...]})");
  app.add_option("--campaign", f->policy.campaign, "bts: the prior's section");
  app.add_option("--simulations", f->policy.simulations, "bts: Monte Carlo draws for its action distribution")
      ->check(CLI::PositiveNumber);
  app.add_option("--probs", f->policy.probs_path,
                 "probs: CSV action,position,probability or row,action,position,probability");
  app.add_option("--estimators", f->estimators, "comma-separated: ips, snips, dm, dr, switch-dr");
  app.add_option("--clip", f->clip, "cap on importance weights for ips and dr (0 = no cap)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--switch-tau", f->options.switch_tau, "switch-dr: weights above this use the reward model only")
      ->check(CLI::PositiveNumber);
  app.add_option("--reward-model", f->options.reward_model, "dm/dr reward model: tabular or logistic")
      ->check(CLI::IsMember({"tabular", "logistic"}));
  app.add_option("--folds", f->options.folds, "reward-model cross-fitting folds (1 = in-sample)")
      ->check(CLI::Range(1, 20));
  app.add_option("--bootstrap", f->options.bootstrap, "bootstrap resamples for the intervals (0 = none)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--confidence", f->options.confidence, "interval confidence")->check(CLI::Range(0.5, 0.999));
  app.add_option("--seed", f->options.seed, "random seed (folds, bootstrap, bts simulation)");
  app.add_option("--truth-log", f->truth_log, "the evaluated policy's own log: its mean reward is the truth");
  app.add_option("--json", f->json, "write the report as JSON here");
  return [f]() {
    f->options.estimators = split_commas(f->estimators);
    if (f->clip > 0) f->options.clip = f->clip;
    if (f->n_actions == 0) f->n_actions = ope::policy_actions(f->policy);
    const auto log = ope::read_obd_csv(f->log, f->n_actions);
    const auto policy = ope::make_policy(f->policy, log, f->options.seed);
    const auto report = ope::run_ope(log, *policy, f->options);
    double truth = 0;
    const bool has_truth = !f->truth_log.empty();
    if (has_truth) truth = ope::read_obd_csv(f->truth_log, log.n_actions).mean_reward();
    print_report(report, truth, has_truth);
    if (!f->json.empty()) {
      auto j = report.to_json();
      j["log"] = f->log;
      j["log_fingerprint"] = file_fingerprint(f->log);
      j["policy"] = f->policy.kind;
      if (has_truth) {
        j["truth"] = truth;
        j["truth_log"] = f->truth_log;
        j["truth_log_fingerprint"] = file_fingerprint(f->truth_log);
        for (auto& [name, e] : j["estimates"].items())
          e["relative_error"] = truth != 0 ? std::abs(e["value"].get<double>() - truth) / truth : NAN;
      }
      write_file(f->json, j.dump(2) + "\n");
    }
    return 0;
  };
}

}  // namespace driftrec::cli
