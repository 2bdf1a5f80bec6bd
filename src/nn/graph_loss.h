#pragma once
// The objectives LightGCN can train with (lightgcn.h), one small class each behind one interface,
// on plain arrays: a loss reads the batch's rows of the final (propagated) embeddings and adds its
// gradient with respect to them; the trainer pushes that back through the propagation.
//   bpr      the paper's: softplus(x_un - x_up) per (user, positive, negative) triple.
//   softmax  sampled softmax over cosine similarities (or inner products) with a temperature (Wu et al., "On the
//            Effectiveness of Sampled Softmax Loss for Item Recommendation", TOIS 2024): each row's
//            positive against the batch's shared, uniformly drawn negatives. The scores are a
//            [batch, negatives] matrix product, so hundreds of negatives cost less than one
//            propagation, and every step moves the user away from many items at once.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace driftrec::nn {

/// One training batch of node ids (items at n_users + item). For `bpr`, `neg` holds one negative per
/// row; for `softmax`, the negatives shared by every row (any number).
struct Batch {
  std::vector<std::int64_t> user, pos, neg;
};

class GraphLoss {
 public:
  virtual ~GraphLoss() = default;
  /// The mean loss over the batch's rows; adds d(mean loss) / d final into `grad` ([nodes, d], rows
  /// outside the batch untouched). `final` is the final embedding matrix ([nodes, d]; only the
  /// batch's rows are read).
  virtual double gradient(const float* final, const Batch& batch, int d, float* grad) const = 0;
  /// Whether the loss scores by cosine (then serving must rank by normalised item vectors).
  virtual bool cosine() const { return false; }
  /// Whether Batch::neg holds negatives shared by every row (else one per row).
  virtual bool shares_negatives() const { return false; }
};

class BprGraphLoss : public GraphLoss {
 public:
  double gradient(const float* final, const Batch& batch, int d, float* grad) const override;
};

class SampledSoftmaxGraphLoss : public GraphLoss {
 public:
  /// `cosine`: logits are cosine / temperature; otherwise inner product / temperature (item and user
  /// lengths then carry popularity and confidence, as in BPR).
  explicit SampledSoftmaxGraphLoss(double temperature, bool cosine = true);
  double gradient(const float* final, const Batch& batch, int d, float* grad) const override;
  bool cosine() const override { return cosine_; }
  bool shares_negatives() const override { return true; }

 private:
  double temperature_;
  bool cosine_;
};

/// "bpr" or "softmax" (with `temperature`, on cosines or, with `cosine` false, inner products);
/// anything else is InvalidInput.
std::unique_ptr<GraphLoss> make_graph_loss(const std::string& name, double temperature, bool cosine = true);

}  // namespace driftrec::nn
