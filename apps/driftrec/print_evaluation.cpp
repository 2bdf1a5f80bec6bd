#include "print_evaluation.h"

#include <cstdio>
#include <iomanip>
#include <iostream>
#include <limits>

namespace driftrec::cli {

namespace {
// One replay state's tracking row: tv, kl, mean and median lag of the followed shifts, the
// Kaplan-Meier median lag and share followed within 5 events (censoring counted), shifts followed / all.
void print_tracking(const char* label, const eval::TrackingError& t) {
  const auto km = t.km_median_lag();
  std::printf("%-22s %8.4f %8.4f %9.2f %9.1f %9s %9.3f %7lld/%lld\n", label, t.tv(), t.kl(), t.mean_lag(),
              t.median_lag(), km ? std::to_string(*km).c_str() : "none", t.followed_within(5),
              static_cast<long long>(t.shifts_crossed()),
              static_cast<long long>(t.shifts_crossed() + t.shifts_censored()));
}

// "  re-ranked: calibrated:0.500000 from each list's top 100" when the report names a re-ranker.
void print_reranker(const nlohmann::json& report) {
  if (!report.contains("rerank") || report["rerank"].is_null()) return;
  std::cout << "  re-ranked: " << report["rerank"].get<std::string>() << " from each list's top "
            << report["rerank_depth"].get<std::size_t>() << "\n";
}

}  // namespace

void print_evaluation(const std::string& model, const std::string& on, const workflow::Evaluation& ev,
                      const std::string& truth) {
  const auto& res = ev.result;
  std::cout << model << " on " << on << " (" << res.users_evaluated << " users, " << std::fixed << std::setprecision(2)
            << res.seconds << " s)\n";
  print_reranker(ev.report);
  const auto& tracking = ev.tracking;
  for (const auto& [k, v] : res.metrics)
    std::cout << "  " << std::left << std::setw(20) << k << std::setprecision(5) << v << "\n";
  if (tracking) {
    std::cout << "interest tracking (top-" << ev.tracking_k << " vs " << truth << ", " << tracking->moments()
              << " cases)\n";
    std::cout << "  " << std::left << std::setw(20) << "tracking_tv" << std::setprecision(5) << tracking->tv() << "\n";
    std::cout << "  " << std::left << std::setw(20) << "tracking_kl" << std::setprecision(5) << tracking->kl() << "\n";
  }
}

void print_replay(const std::string& model, const workflow::Replay& rep, const std::string& truth) {
  const auto& res = rep.result;
  const auto& ro = rep.options;
  const auto k = std::to_string(ro.k);
  const bool bounded = ro.end_ts != std::numeric_limits<std::int64_t>::max();
  std::cout << model << " replay from " << rep.start
            << (bounded ? " to the test cutoff (validation period, ts < " + std::to_string(ro.end_ts) + ")" : "")
            << " (" << res.users << " users, " << res.events_revealed << " events revealed, " << res.online.events
            << " scored, " << std::fixed << std::setprecision(2) << res.seconds << " s)\n";
  print_reranker(rep.report);
  std::printf("%-22s %10s %10s %10s\n", "", ("hr@" + k).c_str(), ("ndcg@" + k).c_str(), "mrr");
  std::printf("%-22s %10.5f %10.5f %10.5f\n", "online (observe)", res.online.hr, res.online.ndcg, res.online.mrr);
  std::printf("%-22s %10.5f %10.5f %10.5f\n", "frozen at the start", res.frozen.hr, res.frozen.ndcg, res.frozen.mrr);
  std::printf("\n%-6s %12s %8s %12s %12s\n", "window", "start_ts", "events", ("online ndcg@" + k).c_str(),
              ("frozen ndcg@" + k).c_str());
  for (std::size_t w = 0; w < res.windows.size(); ++w) {
    const auto& x = res.windows[w];
    std::printf("%-6zu %12lld %8lld %12.5f %12.5f\n", w, static_cast<long long>(x.start_ts),
                static_cast<long long>(x.online.events), x.online.ndcg, x.frozen.ndcg);
  }
  if (res.tracked) {
    std::printf(
        "\ninterest tracking (top-%d vs %s; lags of the followed shifts, then Kaplan-Meier over all)\n"
        "%-22s %8s %8s %9s %9s %9s %9s %9s\n",
        ro.k, truth.c_str(), "", "tv", "kl", "mean lag", "med. lag", "KM med.", "within 5", "shifts");
    print_tracking("online (observe)", res.tracking_online);
    print_tracking("frozen at the start", res.tracking_frozen);
  }
}

}  // namespace driftrec::cli
