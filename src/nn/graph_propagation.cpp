#include "graph_propagation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <set>
#include <thread>

#include "pch.h"

namespace driftrec::nn {

Graph build_graph(const std::vector<std::vector<std::int32_t>>& seen, std::int32_t n_users, std::int32_t n_items) {
  Graph g;
  g.nodes = std::int64_t{n_users} + n_items;
  g.degree.assign(static_cast<std::size_t>(g.nodes), 0);
  for (std::int32_t u = 1; u < n_users; ++u)
    for (auto i : seen[static_cast<std::size_t>(u)]) {
      ++g.degree[static_cast<std::size_t>(u)];
      ++g.degree[static_cast<std::size_t>(n_users + i)];
      ++g.edges;
    }
  g.offsets.assign(static_cast<std::size_t>(g.nodes) + 1, 0);
  for (std::int64_t v = 0; v < g.nodes; ++v)
    g.offsets[static_cast<std::size_t>(v) + 1] =
        g.offsets[static_cast<std::size_t>(v)] + g.degree[static_cast<std::size_t>(v)];
  g.cols.resize(static_cast<std::size_t>(g.offsets.back()));
  g.vals.resize(g.cols.size());
  auto fill = g.offsets;
  auto weight = [&](std::int64_t a, std::int64_t b) {
    return static_cast<float>(1.0 / std::sqrt(static_cast<double>(g.degree[static_cast<std::size_t>(a)]) *
                                              static_cast<double>(g.degree[static_cast<std::size_t>(b)])));
  };
  for (std::int32_t u = 1; u < n_users; ++u)
    for (auto i : seen[static_cast<std::size_t>(u)]) {
      const std::int64_t item = std::int64_t{n_users} + i;
      const float w = weight(u, item);
      g.cols[static_cast<std::size_t>(fill[static_cast<std::size_t>(u)])] = static_cast<std::int32_t>(item);
      g.vals[static_cast<std::size_t>(fill[static_cast<std::size_t>(u)]++)] = w;
      g.cols[static_cast<std::size_t>(fill[static_cast<std::size_t>(item)])] = u;
      g.vals[static_cast<std::size_t>(fill[static_cast<std::size_t>(item)]++)] = w;
    }
  return g;
}

namespace {

constexpr int kBlock = 64;  // output floats accumulated in registers / on the stack per pass over a row

/// y[r] = sum_c A[r, c] x[c] for one row: the output is built in a local block (which the compiler
/// knows aliases nothing, so it stays in vector registers) and stored once.
inline __attribute__((always_inline)) void spmm_row(const Graph& g, std::int64_t r, const float* x, float* y, int d) {
  const auto begin = g.offsets[static_cast<std::size_t>(r)], end = g.offsets[static_cast<std::size_t>(r) + 1];
  for (int f0 = 0; f0 < d; f0 += kBlock) {
    float acc[kBlock] = {};
    const int width = std::min(kBlock, d - f0);
    if (width == kBlock) {
      for (auto q = begin; q < end; ++q) {
        const float w = g.vals[static_cast<std::size_t>(q)];
        const float* in = x + std::int64_t{g.cols[static_cast<std::size_t>(q)]} * d + f0;
        for (int t = 0; t < kBlock; ++t) acc[t] += w * in[t];
      }
    } else {
      for (auto q = begin; q < end; ++q) {
        const float w = g.vals[static_cast<std::size_t>(q)];
        const float* in = x + std::int64_t{g.cols[static_cast<std::size_t>(q)]} * d + f0;
        for (int t = 0; t < width; ++t) acc[t] += w * in[t];
      }
    }
    std::copy(acc, acc + width, y + r * d + f0);
  }
}

/// spmm_row for rows [b, e) (of `rows` when given, else the rows themselves). Built twice, for
/// AVX2 and for the baseline, and chosen at load time (GCC function multi-versioning): the
/// propagation is most of LightGCN's training time.
__attribute__((target_clones("avx2", "default"))) void spmm_range(const Graph& g, const std::int64_t* rows,
                                                                  std::int64_t b, std::int64_t e, const float* x,
                                                                  float* y, int d) {
  for (auto q = b; q < e; ++q) spmm_row(g, rows ? rows[q] : q, x, y, d);
}

}  // namespace

/// y = A x over all rows ([nodes, d], row-parallel, deterministic).
void spmm(const Graph& g, const float* x, float* y, int d) {
  at::parallel_for(0, g.nodes, 512, [&](std::int64_t b, std::int64_t e) { spmm_range(g, nullptr, b, e, x, y, d); });
}

int propagation_threads() {
  std::mutex lock;
  std::set<std::thread::id> seen;
  at::parallel_for(0, 64 * at::get_num_threads(), 1, [&](std::int64_t, std::int64_t) {
    // Long enough that every thread of the team gets a chunk before the first ones finish.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const std::lock_guard<std::mutex> hold(lock);
    seen.insert(std::this_thread::get_id());
  });
  return static_cast<int>(seen.size());
}

/// A^0 x, A^1 x, ..., A^k x (each [nodes, d]).
std::vector<std::vector<float>> powers(const Graph& g, const float* x, int d, int k) {
  const auto n = static_cast<std::size_t>(g.nodes) * static_cast<std::size_t>(d);
  std::vector<std::vector<float>> out(static_cast<std::size_t>(k) + 1);
  out[0].assign(x, x + n);
  for (int l = 1; l <= k; ++l) {
    out[static_cast<std::size_t>(l)].resize(n);
    spmm(g, out[static_cast<std::size_t>(l) - 1].data(), out[static_cast<std::size_t>(l)].data(), d);
  }
  return out;
}

Trainer::Trainer(const Graph& g, int dim, int layers, double reg, std::shared_ptr<const GraphLoss> loss)
    : g_(g), d_(dim), k_(layers), reg_(reg), loss_(loss ? std::move(loss) : std::make_shared<BprGraphLoss>()) {
  const auto n = static_cast<std::size_t>(g.nodes) * static_cast<std::size_t>(d_);
  a_.resize(n);
  b_.resize(n);
  grad_.resize(n);
  final_.resize(n);
}

namespace {
std::vector<std::int64_t> rows_of(const Batch& b) {
  std::vector<std::int64_t> rows(b.user);
  rows.insert(rows.end(), b.pos.begin(), b.pos.end());
  rows.insert(rows.end(), b.neg.begin(), b.neg.end());
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  return rows;
}
}  // namespace

double Trainer::step(const float* ego, const Batch& batch, float* grad) {
  const auto rows = rows_of(batch);
  final_rows(ego, rows);
  std::fill(grad_.begin(), grad_.end(), 0.0f);
  const double loss = loss_->gradient(final_.data(), batch, d_, grad_.data());
  // d / d ego = (G + A G + ... + A^K G) / (K + 1): the propagation is symmetric.
  const auto n = grad_.size();
  const float scale = 1.0f / static_cast<float>(k_ + 1);
  for (std::size_t q = 0; q < n; ++q) grad[q] = grad_[q] * scale;
  const float* src = grad_.data();
  for (int l = 1; l <= k_; ++l) {
    float* dst = (l % 2) ? a_.data() : b_.data();
    spmm(g_, src, dst, d_);
    for (std::size_t q = 0; q < n; ++q) grad[q] += dst[q] * scale;
    src = dst;
  }
  // L2 on the batch's ego rows, as LightGCN: reg * (|u|^2 + |p|^2 + |n|^2) / 2 / batch.
  const float r = static_cast<float>(reg_ / static_cast<double>(batch.user.size()));
  for (const auto* list : {&batch.user, &batch.pos, &batch.neg})
    for (auto v : *list)
      for (int f = 0; f < d_; ++f) grad[v * d_ + f] += r * ego[v * d_ + f];
  return loss;
}

void Trainer::final_rows(const float* ego, const std::vector<std::int64_t>& rows) {
  const float* prev = ego;
  for (auto r : rows) std::copy(ego + r * d_, ego + (r + 1) * d_, final_.data() + r * d_);
  for (int l = 1; l <= k_; ++l) {
    float* dst = (l % 2) ? a_.data() : b_.data();
    if (l < k_) {
      spmm(g_, prev, dst, d_);
    } else {
      at::parallel_for(0, static_cast<std::int64_t>(rows.size()), 256,
                       [&](std::int64_t b, std::int64_t e) { spmm_range(g_, rows.data(), b, e, prev, dst, d_); });
    }
    for (auto r : rows)
      for (int f = 0; f < d_; ++f) final_[r * d_ + f] += dst[r * d_ + f];
    prev = dst;
  }
  const float scale = 1.0f / static_cast<float>(k_ + 1);
  for (auto r : rows)
    for (int f = 0; f < d_; ++f) final_[r * d_ + f] *= scale;
}

DenseAdam::DenseAdam(std::size_t size, double lr, double beta1, double beta2, double eps)
    : m_(size, 0.0f), v_(size, 0.0f), lr_(lr), beta1_(beta1), beta2_(beta2), eps_(eps) {}

namespace {
__attribute__((target_clones("avx2", "default"))) void adam_range(float* p, const float* g, float* m, float* v,
                                                                  std::int64_t b, std::int64_t e, float b1, float b2,
                                                                  float step, float c2, float eps) {
  for (auto q = b; q < e; ++q) {
    m[q] = b1 * m[q] + (1 - b1) * g[q];
    v[q] = b2 * v[q] + (1 - b2) * g[q] * g[q];
    p[q] -= step * m[q] / (std::sqrt(v[q] * c2) + eps);
  }
}
}  // namespace

void DenseAdam::step(float* param, const float* grad) {
  ++t_;
  // torch's form: p -= lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps).
  const auto step = static_cast<float>(lr_ / (1 - std::pow(beta1_, static_cast<double>(t_))));
  const auto c2 = static_cast<float>(1 / (1 - std::pow(beta2_, static_cast<double>(t_))));
  float* m = m_.data();
  float* v = v_.data();
  at::parallel_for(0, static_cast<std::int64_t>(m_.size()), 1 << 16, [&](std::int64_t b, std::int64_t e) {
    adam_range(param, grad, m, v, b, e, static_cast<float>(beta1_), static_cast<float>(beta2_), step, c2,
               static_cast<float>(eps_));
  });
}

}  // namespace driftrec::nn
