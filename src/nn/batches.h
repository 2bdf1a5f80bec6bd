#pragma once
// Training batches of the sequential models (batches.cpp). Internal to src/nn.
#include <cstdint>
#include <vector>

#include "sequential_impl.h"

namespace driftrec::nn {

/// Each user's last max_len + 1 training events as one sequence (inputs = all but the last,
/// targets = all but the first), cut into length-bucketed batches.
struct TrainingSequences {
  struct Seq {
    int64_t from, end;  ///< rows [from, end) of the log
    int64_t length() const { return end - from; }
  };
  std::vector<Seq> seqs;
  std::vector<std::vector<std::size_t>> batches;  ///< indices into seqs, similar lengths together
};

/// Throws InvalidInput (prefixed by `who`) when no user has two or more events.
TrainingSequences training_sequences(const data::InteractionLog& log, std::int32_t n_users, int64_t max_len,
                                     std::size_t batch_size, const std::string& who);

/// One batch as left-padded inputs and next-item targets (0 where the next event's behaviour is not
/// a target, per `is_target`).
struct TrainBatch {
  SequentialModel::Impl::Buffer inputs;
  torch::Tensor targets;  ///< [B * L] long
};
TrainBatch make_batch(const SequentialModel::Impl& m, const data::InteractionLog& log, const TrainingSequences& t,
                      const std::vector<std::size_t>& batch, const std::vector<char>& is_target);

}  // namespace driftrec::nn
