#pragma once
// Re-rankers: post-processing that picks the k items to show from a model's best candidates
// (e.g. its top 100), trading a little accuracy for calibration, diversity or fairness. They work
// on scores, so any model can be re-ranked, and they are deterministic. Used by `evaluate`,
// `recommend`, the report and the server (`?rerank=`). Specs (the number is the strength; 0 leaves
// the model's order unchanged):
//   calibrated:L   Steck (RecSys 2018): greedily maximise (1 - L) * sum of relevance - L * KL(p || q~),
//                  p the category mix of the user's history, q~ the smoothed mix of the list
//   calibrated_set:L  the same k items shown in the model's order: the greedy's order puts an item
//                  of the history's main category first, whatever the model ranks first; the set,
//                  hence the list's category mix and miscalibration, is the same
//   calibrated:L:H, calibrated_set:L:H  p weighs the history's events by recency, half-life H events
//                  (Steck's w_{u,i}): the mix of what the user is into now rather than ever was
//   mmr:L          maximal marginal relevance (Carbonell & Goldstein 1998): (1 - L) * relevance -
//                  L * max similarity (cosine of category vectors) to the items already chosen
//   longtail:T     provider / long-tail exposure: at least ceil(T * k) long-tail items in every list
//                  (a greedy exposure constraint: the best long-tail candidates fill the quota, each
//                  placed where the list would otherwise run out of slots), the rest by score
//   exposure:L     exposure spreading: (1 - L) * relevance + L * (1 - popularity), so less exposed
//                  items move up in every list (lowers the exposure Gini)
//   consumer:L     consumer fairness between active and inactive users (CPFair, UGF): active
//                  users' lists get the exposure blend (their accuracy is traded for discovery,
//                  which narrows the active-inactive gap by levelling down); inactive users keep
//                  the model's order
// Specs chain with '+' ("exposure:0.4+longtail:0.2"): each stage re-orders all candidates and the
// last picks the k; a later stage sees the earlier order as its relevance (linear in rank).
// Relevance is the candidate's score min-max normalised over the candidates; popularity is the
// item's training count normalised by the largest among the candidates.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "driftrec/data/dataset.h"

namespace driftrec::rerank {

/// Facts about the catalogue shared by every request (built once per model and data).
struct Catalogue {
  const data::ItemTable* items = nullptr;  ///< categories (calibrated, mmr); must outlive the re-ranker
  std::vector<char> long_tail;             ///< per item: 1 = long tail (longtail)
  std::vector<std::int64_t> popularity;    ///< per item training events (exposure, consumer)
};

/// One request.
struct Request {
  std::vector<std::int32_t> items;    ///< candidates, best first by model score
  std::vector<float> scores;          ///< their scores (same length)
  std::vector<std::int32_t> history;  ///< the user's past items (calibrated)
  bool active_user = true;            ///< consumer: only active users are re-ranked
};

class Reranker {
 public:
  virtual ~Reranker() = default;
  /// The spec, e.g. "calibrated:0.5".
  virtual std::string name() const = 0;
  /// The k items to show, in order, from the request's candidates (fewer when there are fewer).
  virtual std::vector<std::int32_t> rerank(const Request& request, std::size_t k) const = 0;
};

/// Builds a re-ranker from its spec ("" or "none" = nullptr). Throws InvalidInput for an unknown
/// name, a strength outside [0, 1], or a re-ranker whose catalogue facts are missing (categories
/// for calibrated and mmr, long-tail flags for longtail, popularity for exposure and consumer).
std::unique_ptr<Reranker> make_reranker(const std::string& spec, const Catalogue& catalogue);

/// The re-ranker names make_reranker knows.
std::vector<std::string> reranker_names();

}  // namespace driftrec::rerank
