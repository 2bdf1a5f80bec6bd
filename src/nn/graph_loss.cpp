#include "graph_loss.h"

#include <algorithm>
#include <cmath>

#include "driftrec/core/error.h"
#include "pch.h"

namespace driftrec::nn {

double BprGraphLoss::gradient(const float* final, const Batch& b, int d, float* grad) const {
  if (b.pos.size() != b.user.size() || b.neg.size() != b.user.size())
    throw InvalidInput("bpr: a batch needs one positive and one negative per user row");
  double loss = 0;
  const double inv = 1.0 / static_cast<double>(std::max<std::size_t>(1, b.user.size()));
  for (std::size_t s = 0; s < b.user.size(); ++s) {
    const float* u = final + b.user[s] * d;
    const float* p = final + b.pos[s] * d;
    const float* n = final + b.neg[s] * d;
    double x = 0;
    for (int f = 0; f < d; ++f) x += static_cast<double>(u[f]) * (p[f] - n[f]);
    loss += x > 0 ? std::log1p(std::exp(-x)) : -x + std::log1p(std::exp(x));
    const auto g = static_cast<float>(-inv / (1.0 + std::exp(x)));  // d softplus(-x) / dx / batch
    float* gu = grad + b.user[s] * d;
    float* gp = grad + b.pos[s] * d;
    float* gn = grad + b.neg[s] * d;
    for (int f = 0; f < d; ++f) {
      gu[f] += g * (p[f] - n[f]);
      gp[f] += g * u[f];
      gn[f] -= g * u[f];
    }
  }
  return loss * inv;
}

SampledSoftmaxGraphLoss::SampledSoftmaxGraphLoss(double temperature, bool cosine)
    : temperature_(temperature), cosine_(cosine) {
  if (!(temperature > 0)) throw InvalidInput("softmax: temperature must be positive");
}

namespace {
torch::Tensor node_ids(const std::vector<std::int64_t>& ids) {
  return torch::from_blob(const_cast<std::int64_t*>(ids.data()), {static_cast<std::int64_t>(ids.size())}, torch::kLong);
}
}  // namespace

double SampledSoftmaxGraphLoss::gradient(const float* final, const Batch& b, int d, float* grad) const {
  if (b.pos.size() != b.user.size()) throw InvalidInput("softmax: a batch needs one positive per user row");
  if (b.user.empty()) return 0;
  if (b.neg.empty()) throw InvalidInput("softmax: a batch needs negatives");
  // The batch's rows are gathered into leaves (nothing else of the [nodes, d] matrix is touched), the
  // loss is differentiated by autograd, and the leaves' gradients are added back at their nodes
  // (index_add_: a node on several rows, or both a user's positive and a shared negative, sums).
  torch::NoGradGuard outer;
  const auto nodes =
      1 + std::max({*std::max_element(b.user.begin(), b.user.end()), *std::max_element(b.pos.begin(), b.pos.end()),
                    *std::max_element(b.neg.begin(), b.neg.end())});
  const auto table = torch::from_blob(const_cast<float*>(final), {nodes, d});
  const auto users = node_ids(b.user), pos = node_ids(b.pos), neg = node_ids(b.neg);
  auto u = table.index_select(0, users).requires_grad_(true);
  auto p = table.index_select(0, pos).requires_grad_(true);
  auto n = table.index_select(0, neg).requires_grad_(true);
  torch::Tensor loss;
  {
    torch::AutoGradMode on(true);
    namespace F = torch::nn::functional;
    const auto opts = F::NormalizeFuncOptions().dim(1).eps(1e-12);
    const auto similar = [&](const torch::Tensor& x) { return cosine_ ? F::normalize(x, opts) : x; };
    const auto uu = similar(u), pp = similar(p), nn = similar(n);
    const auto inv_t = 1.0 / temperature_;
    const auto positive = (uu * pp).sum(1, true) * inv_t;                              // [B, 1]
    auto negative = torch::mm(uu, nn.t()) * inv_t;                                     // [B, N]
    negative = negative.masked_fill(neg.unsqueeze(0) == pos.unsqueeze(1), -INFINITY);  // a row's own positive
    const auto logits = torch::cat({positive, negative}, 1);
    loss = (torch::logsumexp(logits, 1) - positive.squeeze(1)).mean();
    loss.backward();
  }
  auto out = torch::from_blob(grad, {nodes, d});
  out.index_add_(0, users, u.grad());
  out.index_add_(0, pos, p.grad());
  out.index_add_(0, neg, n.grad());
  return loss.item<double>();
}

std::unique_ptr<GraphLoss> make_graph_loss(const std::string& name, double temperature, bool cosine) {
  if (name == "bpr") return std::make_unique<BprGraphLoss>();
  if (name == "softmax") return std::make_unique<SampledSoftmaxGraphLoss>(temperature, cosine);
  throw InvalidInput("lightgcn: unknown loss '" + name + "' (bpr, softmax)");
}

}  // namespace driftrec::nn
