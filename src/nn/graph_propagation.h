#pragma once
// LightGCN's arithmetic on plain arrays (lightgcn.h): the symmetric normalised user-item graph, its
// propagation with our CSR kernel, and one BPR step's gradient with respect to the ego embeddings
// (the loss's gradient on the batch's final rows pushed back through the same propagation). Internal
// to the nn layer; tested on its own (tests/nn/lightgcn_test.cpp).
#include <cstdint>
#include <vector>

#include "graph_loss.h"

namespace driftrec::nn {

/// The normalised adjacency of the user-item graph, CSR over nodes (users 0..n_users-1, then items
/// at n_users + item): weight 1 / sqrt(deg(user) deg(item)) per distinct pair. Symmetric, so the
/// same matrix propagates forward and backward.
struct Graph {
  std::int64_t nodes = 0;
  std::vector<std::int64_t> offsets;
  std::vector<std::int32_t> cols;
  std::vector<float> vals;
  std::vector<std::int64_t> degree;
  std::int64_t edges = 0;  ///< distinct user-item pairs
};

/// The graph of `seen` (per user index, their distinct sorted items; index 0 is padding).
Graph build_graph(const std::vector<std::vector<std::int32_t>>& seen, std::int32_t n_users, std::int32_t n_items);

/// y = A x over all rows ([nodes, d], row-parallel, deterministic).
void spmm(const Graph& g, const float* x, float* y, int d);

/// How many threads the propagation's parallel loops run on: at::parallel_for is inline OpenMP, so a
/// layer compiled without -fopenmp runs it on one thread whatever torch::set_num_threads says (the
/// nn layer did until 2026-12: every LightGCN step ran serially on 2 cores).
int propagation_threads();

/// A^0 x, A^1 x, ..., A^k x (each [nodes, d]).
std::vector<std::vector<float>> powers(const Graph& g, const float* x, int d, int k);

/// One step's loss and gradient; buffers are reused across steps.
class Trainer {
 public:
  /// Trains with `loss` (BPR when none is given).
  Trainer(const Graph& g, int dim, int layers, double reg, std::shared_ptr<const GraphLoss> loss = nullptr);
  /// The batch's mean loss on the final embeddings (mean of A^0..A^K ego); writes
  /// d(loss + reg / 2 / batch * sum of the squared ego rows listed in the batch) / d ego into `grad`
  /// ([nodes, d], every entry written).
  double step(const float* ego, const Batch& batch, float* grad);

 private:
  void final_rows(const float* ego, const std::vector<std::int64_t>& rows);

  const Graph& g_;
  int d_, k_;
  double reg_;
  std::shared_ptr<const GraphLoss> loss_;
  std::vector<float> a_, b_, grad_, final_;
};

/// Adam (Kingma & Ba) over one dense parameter array in a single fused, row-parallel pass: the same
/// update as torch::optim::Adam without weight decay, which takes 8 passes over memory (75 ms per
/// step at Gowalla's 4.5M parameters here, against ~8 ms).
class DenseAdam {
 public:
  DenseAdam(std::size_t size, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8);
  void step(float* param, const float* grad);
  /// The learning rate of the next steps (a schedule sets it between steps; the moments are kept).
  void set_lr(double lr) { lr_ = lr; }

 private:
  std::vector<float> m_, v_;
  double lr_, beta1_, beta2_, eps_;
  long long t_ = 0;
};

}  // namespace driftrec::nn
