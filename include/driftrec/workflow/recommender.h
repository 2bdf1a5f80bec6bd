#pragma once
// A trained model with its users' histories in memory: "recommend for these users" as a library
// object (the CLI's `recommend`, the Python module's Model). Batch-first: the users of one call are
// encoded in one batched pass and scored together. Online: observe() advances a user's state the
// moment an event arrives. Histories live in memory only; the server (serve::Service) is the
// durable, concurrent counterpart. All members are safe to call from several threads (one at a
// time inside).
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "driftrec/core/topk.h"
#include "driftrec/data/dataset.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/workflow/model_reranking.h"

namespace driftrec::workflow {

struct RecommendQuery {
  std::size_t k = 10;
  bool exclude_seen = true;             ///< skip items already in the user's history
  std::vector<std::string> exclude;     ///< item ids never to return (ids the model does not know are ignored)
  std::vector<std::string> candidates;  ///< rank only these items (empty: all); unknown ids are ignored
  /// Re-ranker spec (rerank/reranker.h): the k items are chosen from the top `rerank_depth` ("" = none).
  std::string rerank;
  std::size_t rerank_depth = 100;
  /// When the users' recommendations are asked for (seconds, the clock of their events), for models
  /// that read the time since a user's last event (the sequential models' `request_time`). Absent:
  /// no time (a library call over stored histories has no "now" of its own).
  std::optional<std::int64_t> at;
};

/// One past event's share in an item's score (Model::explain in external ids).
struct Because {
  std::string item;
  std::int64_t ts = 0;
  std::string behavior;
  float weight = 0.0f;
  std::size_t position = 0;  ///< the event's index in the user's history (oldest = 0)
};

class Recommender {
 public:
  /// Scoring runs with the process's thread settings (driftrec --threads, driftrec.set_threads).
  /// `groups`: item and user groups for the re-rankers (default: computed from the model directory).
  explicit Recommender(std::shared_ptr<const models::LoadedModel> model, const GroupOptions& groups = {});

  /// Replaces the histories of the users in `events` (external ids) with their events there;
  /// events whose item the model does not know are dropped. Returns how many users were set.
  std::size_t set_histories(const data::Dataset& events);
  /// Appends one event to `user`'s history and updates their state (online). `ts` absent: now (not
  /// before the user's last event). Returns false, changing nothing, when the model does not know
  /// the item. Throws InvalidInput for an empty user id.
  bool observe(const std::string& user, const std::string& item, std::optional<std::int64_t> ts = std::nullopt,
               const std::string& behavior = "", float value = 1.0f);

  /// Top-k for each user (rows in `users` order). A user with no history the model can use and no
  /// trained state gets the most frequent items of the histories held here, and cold[i] = 1.
  std::vector<TopK> recommend(const std::vector<std::string>& users, const RecommendQuery& query,
                              std::vector<char>* cold = nullptr);
  /// Top-k for anonymous sessions, each a time-ordered list of item ids (not stored). A session
  /// with no item the model knows gets the popular items (cold[i] = 1).
  std::vector<TopK> recommend_sessions(const std::vector<std::vector<std::string>>& sessions,
                                       const RecommendQuery& query, std::vector<char>* cold = nullptr);
  /// Which of the user's past events drove `item`'s score, largest first. Throws NotSupported when
  /// the model cannot explain, NotFound for an item the model does not know.
  std::vector<Because> explain(const std::string& user, const std::string& item);
  /// The k items the model recommends after `item` alone (the item itself left out). NotFound for
  /// an item the model does not know.
  TopK similar(const std::string& item, std::size_t k);

  /// Events of `user` held here (0 for a user without any).
  std::size_t history_length(const std::string& user) const;
  std::size_t users() const;
  const models::LoadedModel& model() const { return *model_; }
  /// External id of an item index the results hold.
  const std::string& item_id(std::int32_t item) const { return model_->items.name(item); }

 private:
  struct Entry {
    models::UserState state;  ///< state.history is kept even before the state is encoded
    bool encoded = false;
  };
  Entry& entry_locked(const std::string& user);
  /// Encodes the given entries in one batch (those not yet encoded).
  void encode_locked(const std::vector<Entry*>& entries);
  bool usable(const models::UserState& state) const;
  models::RecommendOptions options_for(const RecommendQuery& query) const;
  std::vector<TopK> rank_locked(const std::vector<const models::UserState*>& states, const RecommendQuery& query,
                                std::vector<char>* cold);
  /// The most frequent items of the histories held here, honouring candidates and exclusions.
  TopK popular(const models::RecommendOptions& options, std::size_t k) const;

  std::shared_ptr<const models::LoadedModel> model_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> users_;
  std::vector<std::int64_t> counts_;  ///< events per item index in the histories held
  std::unique_ptr<ModelReranking> reranking_;
};

}  // namespace driftrec::workflow
