#pragma once
// Data-parallel training over torch.distributed's Gloo process group (LibTorch's c10d; CPU, and
// the same calls under NCCL on GPUs): rank 0 hosts a TCP store where the processes meet; the
// gradients of each step are summed over the ranks in one flat bucket (one allreduce per step).
// Internal to src/nn.
#include <memory>
#include <vector>

#include "driftrec/models/model.h"
#include "pch.h"

namespace c10d {
class ProcessGroup;
class Store;
}  // namespace c10d

namespace driftrec::nn {

class DataParallel {
 public:
  /// Joins the job. Throws InvalidInput for a rank outside [0, world_size) and IoError when the
  /// peers do not meet within the timeout.
  explicit DataParallel(const models::DistributedOptions& o);
  ~DataParallel();
  int rank() const { return rank_; }
  int world() const { return world_; }
  /// Sums over the ranks every parameter's gradient (an undefined one counts as zero; a sparse one
  /// is made dense) and the `extra` values, in one allreduce; the summed gradients are left in
  /// the parameters' grad, the summed extras returned.
  std::vector<double> allreduce_gradients(const std::vector<torch::Tensor>& params, const std::vector<double>& extra);
  /// Rank 0's value on every rank.
  double broadcast(double v);
  /// Rank 0's weights on every rank.
  void broadcast_parameters(const std::vector<torch::Tensor>& params);
  void barrier();

 private:
  int rank_, world_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
};

}  // namespace driftrec::nn
