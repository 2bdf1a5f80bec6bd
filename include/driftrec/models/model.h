#pragma once
// The model contract (DESIGN.md). Models work in dense indices: items 1..n_items()-1 (0 is padding),
// users 1..n_users()-1 as known at training time. Scores are dense float arrays of n_items()
// entries; score[0] (padding) and items a model cannot score are -inf.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "driftrec/core/log.h"
#include "driftrec/core/topk.h"
#include "driftrec/data/dataset.h"
#include "driftrec/train/epoch_record.h"

namespace driftrec::models {

/// A user's interest state: built by encode(), advanced by observe(), read by score().
/// Owned by the caller (a server caches one per user); models never keep references to it.
struct UserState {
  std::int32_t user = -1;            ///< user index known to the model, -1 for a new/anonymous user
  std::vector<data::Event> history;  ///< time-ordered events (items the model knows)
  std::vector<float> vector;         ///< model-specific state, e.g. an MF user factor [k]
  std::uint64_t version = 0;         ///< incremented by every observe()
  /// When the recommendation is asked for (seconds, the clock of the events), if known. Models
  /// that read the time since the user's last event (the sequential models' `request_time`) score
  /// as of then; the others ignore it. Set by the caller per request (the replay: each event's
  /// time; the server: the request's), not by encode() or observe().
  std::optional<std::int64_t> now;
};

/// What a model offers beyond the contract's core (callers check instead of catching).
struct Capabilities {
  bool online_update = true;  ///< observe() changes the interest state, not only the seen set
  bool explain = false;       ///< explain() is implemented and item-specific (different items, different attributions)
  bool remembers_users = false;  ///< known users have a trained state even with no history given
  /// A state asked for at a time (UserState::now) is encoded anew from its history as of then
  /// (`request_time`), so its cached vector is not read: a caller that asks every list at a time
  /// may add events with append_event() instead of observe() and skip observe()'s encode.
  bool encodes_at_request = false;
};

/// Per-call options of recommend().
struct RecommendOptions {
  bool exclude_seen = true;              ///< skip items in the state's history
  std::vector<std::int32_t> exclude;     ///< further items to skip
  std::vector<std::int32_t> candidates;  ///< when non-empty, rank only these items
};

/// One past event's share in an item's score.
struct Attribution {
  std::size_t position = 0;  ///< index into UserState::history
  std::int32_t item = 0;     ///< the past event's item
  float weight = 0.0f;       ///< contribution (same units as the score; sums to the score when exact)
};

/// Options of fit(). `validate`, when set, returns the validation objective (higher is better,
/// e.g. NDCG@10) for the model's current weights: iterative models use it for early stopping.
/// Data-parallel training across processes (the LibTorch sequential models, on torch.distributed's
/// Gloo backend): every process runs the same fit on the same data with its own `rank`; each
/// global batch is split between them and the gradients are summed, so the model is the one a
/// single process trains (up to floating-point summation order).
struct DistributedOptions {
  int rank = 0;
  int world_size = 1;                     ///< 1 = a single process
  std::string master_addr = "127.0.0.1";  ///< where rank 0 hosts the rendezvous (a TCP store)
  int master_port = 29500;
  int timeout_seconds = 120;  ///< for joining and for every collective (a dead peer fails the job)
  bool active() const { return world_size > 1; }
};

struct FitOptions {
  int threads = 0;  ///< 0 = all cores
  std::uint64_t seed = 42;
  ProgressCallback progress;
  /// Iterative models report every finished epoch here (typed: loss, validation objective, time).
  train::EpochCallback on_epoch;
  std::function<double(const class Model&)> validate;
  /// Iterative LibTorch models write a checkpoint (model, optimizer, early-stopping state) here
  /// after every epoch ("" = none); with `resume`, training continues from the one found there and
  /// ends with the same model as an uninterrupted run.
  std::string checkpoint_dir;
  bool resume = false;
  /// Several processes training one model (LibTorch sequential models; others refuse).
  DistributedOptions distributed;
  /// Iterative models stop after the first epoch that ends past this many seconds of fit() (0 =
  /// none); that epoch is validated too, and the best validated weights are kept as usual.
  double time_budget_s = 0.0;
};

class Model {
 public:
  virtual ~Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  /// Registry name, e.g. "ials".
  virtual std::string name() const = 0;
  virtual Capabilities capabilities() const = 0;
  /// The effective (resolved) configuration.
  const nlohmann::json& config() const { return config_; }

  /// Learns from `train` (events sorted by user and time). Throws InvalidInput on empty data.
  virtual void fit(const data::Dataset& train, const FitOptions& options) = 0;

  /// Interest state of `user` (a known index or -1) from a time-ordered history. Events whose
  /// item the model does not know (index >= n_items()) are dropped.
  virtual UserState encode(std::int32_t user, const std::vector<data::Event>& history) const;
  /// encode() for several users at once: out[i] = encode(users[i], histories[i]). The neural
  /// models run one batched pass; the default encodes one by one.
  virtual std::vector<UserState> encode_batch(const std::vector<std::int32_t>& users,
                                              const std::vector<std::vector<data::Event>>& histories) const;
  /// Online update with one new event (appended to the history). Items the model does not know
  /// are ignored. Throws InvalidInput for a negative item index.
  virtual void observe(UserState& state, const data::Event& event) const;
  /// The history half of observe(): the event is appended (or ignored, and refused, as there), the
  /// state's vector is left as it was. Only for a state every later list is asked of at a time, on
  /// a model with capabilities().encodes_at_request (the replay's).
  void append_event(UserState& state, const data::Event& event) const { Model::observe(state, event); }

  /// Scores of every item for one state: out[0..n_items()), out[0] = -inf.
  virtual void score(const UserState& state, float* out) const = 0;
  /// Scores for a batch: out is row-major [states.size(), n_items()]. Default: one by one.
  virtual void score_batch(const std::vector<const UserState*>& states, float* out) const;

  /// Top-k for each state, honoring options (batch-first).
  std::vector<TopK> recommend(const std::vector<const UserState*>& states, std::size_t k,
                              const RecommendOptions& options = {}) const;
  TopK recommend(const UserState& state, std::size_t k, const RecommendOptions& options = {}) const;

  /// Which past events drove `item`'s score, largest weight first. Throws NotSupported unless
  /// capabilities().explain, InvalidInput for an item outside 1..n_items()-1.
  virtual std::vector<Attribution> explain(const UserState& state, std::int32_t item) const;
  /// explain() for several items of one state (a top-k list): out[i] = explain(state, items[i]).
  /// Occlusion models re-encode the history once for all the items; the default calls explain().
  virtual std::vector<std::vector<Attribution>> explain_batch(const UserState& state,
                                                              const std::vector<std::int32_t>& items) const;

  /// For models whose score is an inner product <query(state), item row>: the item matrix
  /// [n_items(), dim] (row 0 = padding; owned by the model) and its width. nullptr otherwise.
  /// Approximate retrievers (index/retriever.h) build on it.
  virtual const float* item_embeddings(int* dim) const {
    (void)dim;
    return nullptr;
  }
  /// The query vector [dim] of a state, for models with item_embeddings().
  virtual std::vector<float> query_vector(const UserState& state) const { return state.vector; }

  /// What training measured that belongs in model.json beside the config, as top-level keys (e.g.
  /// {"privacy": {...}}: the budget a differentially private fit spent). Empty by default.
  virtual nlohmann::json training_report() const { return nlohmann::json::object(); }

  /// File name of the weights inside a model directory.
  virtual std::string weights_file() const { return "weights.bin"; }
  /// Writes/reads the model's weights file (the model directory is handled by model_dir.h).
  virtual void save_weights(const std::string& path) const = 0;
  virtual void load_weights(const std::string& path) = 0;

  std::int32_t n_items() const { return n_items_; }
  std::int32_t n_users() const { return n_users_; }
  bool fitted() const { return n_items_ > 0; }

 protected:
  explicit Model(nlohmann::json config) : config_(std::move(config)) {}
  /// Throws NotSupported("model not fitted") when called before fit()/load.
  void require_fitted() const;
  /// Sets score[0] and out-of-range entries to -inf (helper for score()).
  void mask_padding(float* out) const;
  /// score_batch for inner-product models: out[b, i] = <query_vector(state b), item_embeddings row i>
  /// (one BLAS call for the batch). Throws InvalidInput for a state another model made.
  void score_by_embeddings(const std::vector<const UserState*>& states, float* out) const;
  /// The same with an explicit item matrix [n_items(), dim] (for models whose score adds a term
  /// to the inner product and so do not expose item_embeddings()).
  void score_by_matrix(const std::vector<const UserState*>& states, const float* items, int dim, float* out) const;

  nlohmann::json config_;
  std::int32_t n_items_ = 0;
  std::int32_t n_users_ = 0;
};

/// Each user's events in `ds` as UserState-ready histories (for tests and tools).
std::vector<data::Event> user_history(const data::Dataset& ds, std::int32_t user);

}  // namespace driftrec::models
