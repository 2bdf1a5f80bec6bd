#pragma once
// Training batches of the sequential models (batches.cpp). Internal to src/nn.
#include <cstdint>
#include <optional>
#include <vector>

#include "driftrec/core/rng.h"
#include "loss.h"
#include "sequential_impl.h"

namespace driftrec::nn {

/// The training samples, cut into length-bucketed batches. Sequences (the default): each user's
/// last max_len + 1 training events as one sample (inputs = all but the last, targets = all but
/// the first). Prefixes: every training position as a sample of its own — the up to max_len events
/// before it as inputs, its event as the one target, at the newest position, where serving reads
/// the state. Prefixes with a stride k > 1: a sample every k training positions counted back from
/// each user's newest event, its last k positions the targets (its newest with a full window).
struct TrainingSequences {
  struct Seq {
    int64_t from, end;  ///< rows [from, end) of the log
    int64_t length() const { return end - from; }
  };
  std::vector<Seq> seqs;
  std::vector<std::vector<std::size_t>> batches;  ///< indices into seqs, similar lengths together
  int64_t last_targets = 0;  ///< prefixes: only the last this-many positions are targets (0: sequences, all)
  /// Each target position also learns the items of the next this-many training events after its
  /// target (the same user's; 0: the next item only). See make_batch.
  int64_t future_targets = 0;
  std::size_t batch_size = 0;
};

/// Throws InvalidInput (prefixed by `who`) when no user has two or more events. `prefix_stride` 0
/// gives whole sequences, k >= 1 prefix samples every k positions; a prefix sample none of whose
/// targets has a behaviour in `is_target` (when given) is not made.
TrainingSequences training_sequences(const data::InteractionLog& log, std::int32_t n_users, int64_t max_len,
                                     std::size_t batch_size, const std::string& who, int64_t prefix_stride = 0,
                                     const std::vector<char>* is_target = nullptr);

/// The mean number of events in a prefix sample's inputs (the events before a training position,
/// at most max_len) over the training positions of users with these history lengths: the encoding
/// cost of a prefix sample relative to one position of a whole sequence.
double mean_prefix_context(const std::vector<int64_t>& lengths, int64_t max_len);

/// samples=auto's stride: the smallest k >= 1 with context / k <= max_context (a window encoded
/// once per k targets), i.e. ceil(context / max_context).
int64_t auto_prefix_stride(double context, int64_t max_context);

/// Cuts the samples into length-bucketed batches again, ties in length in a random order (the
/// prefix trainer calls this every epoch so a batch is not always the same users).
void rebucket(TrainingSequences& t, Rng& rng);

/// One batch as left-padded inputs and next-item targets (0 where the next event's behaviour is not
/// a target, per `is_target`), and, with future_targets K > 0, the items of the K training events
/// after each target (the user's own, with a target behaviour; 0 past the user's end).
struct TrainBatch {
  SequentialModel::Impl::Buffer inputs;
  torch::Tensor targets;  ///< [B * L] long
  torch::Tensor future;   ///< [B * L, K] long; undefined when K is 0
};
TrainBatch make_batch(const SequentialModel::Impl& m, const data::InteractionLog& log, const TrainingSequences& t,
                      const std::vector<std::size_t>& batch, const std::vector<char>& is_target);

/// The training objective a model config names (loss, negatives, sampling, softmax_chunk,
/// label_smoothing; popularity sampling reads the training counts).
std::unique_ptr<Loss> make_training_loss(const nlohmann::json& c, const data::Dataset& train);

/// The batch's mean loss over its target positions (their number in *n) under `loss`, with the
/// repeat head's bonus when the model has one; undefined when the batch has no target position.
/// With future targets: plus `future_weight` times the mean loss of each target position's state
/// against each of its future items (a multi-horizon objective: what the user goes on to want, not
/// only the next event).
/// seen_penalty > 0: each item of a position's own history (the window's events up to it), except
/// its target, has that much subtracted from its score for this position, once however often it
/// occurs (one more bonus column, so every loss applies it, negatives included). Infinite (the
/// exclude_seen option): the items are masked out, future items the user had already seen are not
/// targets, and label smoothing spreads no mass on them: the objective becomes the ranking the
/// evaluator scores, where seen items are never candidates. A finite penalty keeps them as
/// candidates whose share of the softmax (and of its gradient) is scaled by exp(-penalty).
torch::Tensor batch_loss(SequentialModel::Impl& m, const Loss& loss, const ItemScorer& scorer, const TrainBatch& batch,
                         int64_t* n, double future_weight = 0.0, double seen_penalty = 0.0);

/// The seen-item penalty of the kept positions `keep` of a [B, L] batch of left-padded histories:
/// items [N, L] (each position's history, later columns, repeated occurrences of an item and the
/// position's own `targets` [N] set to the padding id 0) and weights [N, L] (`weight` where an item
/// is penalised, else 0).
RepeatBonus seen_mask(const torch::Tensor& items, const torch::Tensor& keep, const torch::Tensor& targets,
                      float weight);
/// What a masked item's score gets added (finite so that 0 x mask stays 0).
constexpr float kSeenMask = -1e4f;
/// The seen_penalty of a resolved model config: its seen_penalty, or infinity with exclude_seen
/// (InvalidInput when a positive penalty and exclude_seen are both given, or when seen_penalty is
/// still `auto`, which resolve_data_settings reads from the training data).
double seen_penalty(const nlohmann::json& c);
/// The resolved config's seen_penalty as a number (ParamSet's resolve has checked its range); nullopt
/// for `auto`. Refuses anything else and a positive penalty beside exclude_seen (InvalidInput).
std::optional<double> seen_penalty_setting(const nlohmann::json& c);

/// What a trainer steps through: the model, its training sequences with their target flags, and
/// the objective with the scorer it asks (shared by the centralised and the federated trainer).
class TrainingSet {
 public:
  TrainingSet(SequentialModel::Impl& m, const nlohmann::json& c, const data::Dataset& train, TrainingSequences seqs,
              std::vector<char> is_target)
      : m_(m),
        log_(train.log),
        seqs_(std::move(seqs)),
        is_target_(std::move(is_target)),
        loss_(make_training_loss(c, train)),
        scorer_(m, train.n_items()),
        future_weight_(c.value("future_weight", 0.0)),
        seen_penalty_(seen_penalty(c)) {
    seqs_.future_targets = c.value("future_targets", int64_t{0});
  }
  /// The mean loss over the target positions of the sequences `batch` (indices into sequences();
  /// their number in *n); undefined when they have none.
  torch::Tensor loss(const std::vector<std::size_t>& batch, int64_t* n) {
    return batch_loss(m_, *loss_, scorer_, make_batch(m_, log_, seqs_, batch, is_target_), n, future_weight_,
                      seen_penalty_);
  }
  TrainingSequences& sequences() { return seqs_; }
  const TrainingSequences& sequences() const { return seqs_; }

 private:
  SequentialModel::Impl& m_;
  const data::InteractionLog& log_;
  TrainingSequences seqs_;
  std::vector<char> is_target_;
  std::unique_ptr<Loss> loss_;
  TrainingScorer scorer_;
  double future_weight_;
  double seen_penalty_;
};

}  // namespace driftrec::nn
