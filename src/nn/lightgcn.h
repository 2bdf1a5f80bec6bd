#pragma once
// LightGCN (He et al., "LightGCN: Simplifying and Powering Graph Convolution Network for
// Recommendation", SIGIR 2020). Users and items are nodes of the bipartite graph of training
// interactions, with the symmetric normalised adjacency A = D^-1/2 [[0, R], [R^T, 0]] D^-1/2. The
// only parameters are the ego embeddings E0 [users + items, d]; the final embeddings are the mean of
// E0, A E0, ..., A^K E0 and a user scores an item by the inner product of their final embeddings.
// Trained with BPR on uniformly sampled (user, positive, negative) triples, L2 on the batch's ego
// rows and Adam (the paper's defaults: 3 layers, d = 64, lr 1e-3, L2 1e-4, batch 2048), or with
// `loss: softmax`: a sampled softmax over cosine similarities against negatives shared by the batch
// (graph_loss.h), which needs far fewer epochs; a model trained on cosines ranks by unit item vectors,
// one trained on inner products (`similarity: dot`) by the raw rows. `init: svd` starts the ego rows
// from the top singular pairs of the normalised interaction matrix (eigenvectors of the propagation).
//
// The propagation is exact and runs on our own CSR kernel (LibTorch 1.13's sparse CPU matmul was 7x
// slower here); gradients are written by hand: the loss's gradient on the batch's final rows, pushed
// back through the same (symmetric) propagation. Our fused Adam updates the ego matrix.
//
// Serving without the graph: a user's final embedding only needs the items' layer embeddings,
//   e_u = (e_u^0 + sum_{k=1..K} sum_{i in N(u)} e_i^{k-1} / sqrt(|N(u)| deg_i)) / (K + 1),
// with e_u^0 the trained ego row (0 for a new user) and N(u) the distinct items of the current
// history. For a trained user with their training history this is the trained embedding exactly;
// a new event or a new user is folded in through the item side, with no retraining. explain()
// splits the score into each history item's exact share (the ego term is nobody's).
#include <string>
#include <utility>
#include <vector>

#include "driftrec/core/config.h"
#include "driftrec/models/model.h"

namespace driftrec::nn {

class LightGcnModel : public models::Model {
 public:
  static const ParamSet& params();
  explicit LightGcnModel(const nlohmann::json& config);
  std::string name() const override { return "lightgcn"; }
  models::Capabilities capabilities() const override { return {true, true, true}; }
  void fit(const data::Dataset& train, const models::FitOptions& options) override;
  models::UserState encode(std::int32_t user, const std::vector<data::Event>& history) const override;
  void observe(models::UserState& state, const data::Event& event) const override;
  void score(const models::UserState& state, float* out) const override;
  void score_batch(const std::vector<const models::UserState*>& states, float* out) const override;
  std::vector<models::Attribution> explain(const models::UserState& state, std::int32_t item) const override;
  const float* item_embeddings(int* dim) const override;
  nlohmann::json training_report() const override { return report_; }
  void save_weights(const std::string& path) const override;
  void load_weights(const std::string& path) override;

 private:
  /// The distinct items of `history` that were in the training graph, with their latest positions.
  std::vector<std::pair<std::int32_t, std::size_t>> graph_items(const std::vector<data::Event>& history) const;
  /// The final embedding of a user with ego row `user` (< 1: none) and this history.
  std::vector<float> user_vector(std::int32_t user, const std::vector<data::Event>& history) const;
  /// The serving tables from the propagated embeddings: layers[k] = A^k E0, [n_users + n_items, d];
  /// with `unit_items` (a model trained on cosines) the final item rows are normalised to length 1.
  void set_tables(const std::vector<std::vector<float>>& layers, bool unit_items);

  int dim_ = 0;
  int layers_ = 0;
  std::vector<float> user_ego_;     ///< [n_users, d]
  std::vector<float> item_layers_;  ///< [layers, n_items, d]: items after 0 .. layers-1 propagations
  std::vector<float> item_final_;   ///< [n_items, d]: mean over 0 .. layers (row 0 = padding = 0)
  std::vector<float> item_scale_;   ///< [n_items]: 1 / sqrt(training degree), 0 for items never trained on
  nlohmann::json report_ = nlohmann::json::object();
};

}  // namespace driftrec::nn
