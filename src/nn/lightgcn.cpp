#include "lightgcn.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "../models/linalg.h"
#include "driftrec/core/error.h"
#include "driftrec/core/parallel.h"
#include "driftrec/core/rng.h"
#include "driftrec/models/bpr_sampling.h"
#include "driftrec/models/weights_io.h"
#include "driftrec/train/early_stopping.h"
#include "driftrec/train/epoch_loop.h"
#include "graph_propagation.h"
#include "pch.h"

namespace driftrec::nn {

namespace {

/// Ego rows [n_users + n_items, d] from the top singular pairs of R~ = Du^-1/2 R Di^-1/2 (users then
/// items, as the graph numbers its nodes). [u_j; v_j] is an eigenvector of the propagation A with
/// eigenvalue sigma_j, so the final embeddings are the ego rows times p(sigma_j) = mean_k sigma_j^k;
/// weighting column j by sqrt(sigma_j) / p(sigma_j) makes the untrained scores the rank-d
/// reconstruction of R~. Those columns are scaled to RMS `rms`; columns past the matrix's rank
/// get N(0, rms) noise (a zero column would never receive a gradient).
std::vector<float> spectral_ego(const data::Dataset& train, std::int32_t n_users, std::int32_t n_items, int d,
                                int layers, double rms, Rng& rng, int threads) {
  auto R =
      models::linalg::binary_matrix(train.log, static_cast<std::size_t>(n_users), static_cast<std::size_t>(n_items));
  models::linalg::normalize_bipartite(R);
  const auto dim = static_cast<std::size_t>(d);
  const auto svd = models::linalg::randomized_svd(R, dim, 16, 2, rng.next_u64(), threads);
  std::size_t k = 0;  // the numerical rank among the computed pairs
  while (k < svd.k && svd.sigma[k] > 1e-9 * svd.sigma[0]) ++k;
  std::vector<double> U(R.rows * svd.k);
  models::linalg::multiply(R, svd.V.data(), svd.k, U.data(), threads);
  std::vector<double> weight(k, 0.0);
  for (std::size_t j = 0; j < k; ++j) {
    const double s = svd.sigma[j];
    double p = 0, power = 1;
    for (int l = 0; l <= layers; ++l, power *= s) p += power / (layers + 1);
    weight[j] = std::sqrt(s) / p;
  }
  const auto nodes = R.rows + R.cols;
  auto spectral = [&](std::size_t r, std::size_t j) {  // row r, column j < k, before the scaling
    const double x = r < R.rows ? U[r * svd.k + j] / svd.sigma[j] : svd.V[(r - R.rows) * svd.k + j];
    return x * weight[j];
  };
  double sq = 0;
  for (std::size_t r = 0; r < nodes; ++r)
    for (std::size_t j = 0; j < k; ++j) sq += spectral(r, j) * spectral(r, j);
  const double scale = sq > 0 ? rms * std::sqrt(static_cast<double>(nodes * k) / sq) : 0.0;
  std::vector<float> out(nodes * dim);
  for (std::size_t r = 0; r < nodes; ++r)
    for (std::size_t j = 0; j < dim; ++j)
      out[r * dim + j] = static_cast<float>(j < k ? spectral(r, j) * scale : rng.normal() * rms);
  return out;
}

}  // namespace

const ParamSet& LightGcnModel::params() {
  static const ParamSet p(
      "lightgcn",
      {
          int_param("dim", 64, "embedding size", 1, 4096),
          int_param("layers", 3, "propagation layers", 1, 8),
          float_param("lr", 1e-3, "Adam learning rate", 1e-8, 10.0),
          float_param("lr_decay", 1.0,
                      "epoch e trains at lr * lr_decay^(e-1) (1 = constant); the schedule does not depend on "
                      "`epochs`, so a refit for the validated epoch count repeats it",
                      1e-6, 1.0),
          float_param("reg", 1e-4, "L2 weight on the batch's ego embeddings", 0.0),
          int_param("batch", 2048, "training rows (user, positive) per step", 1),
          string_param("loss", "bpr",
                       "bpr: the paper's, one sampled negative per row; softmax: sampled softmax over "
                       "`similarity` / temperature against `negatives` shared uniform negatives (converges "
                       "in far fewer epochs; with cosines serving ranks by normalised item vectors)",
                       {"bpr", "softmax"}),
          int_param("negatives", 1024, "loss=softmax: uniformly drawn negatives shared by a batch's rows", 1),
          float_param("temperature", 0.1, "loss=softmax: the temperature dividing the similarities", 1e-4, 100.0),
          string_param("similarity", "cosine",
                       "loss=softmax: cosine (serving ranks by unit item vectors) or dot (inner products, "
                       "lengths kept, as BPR scores)",
                       {"cosine", "dot"}),
          int_param("epochs", 1000, "maximum epochs (one epoch = as many triples as training pairs)", 1),
          string_param("init", "normal",
                       "normal: N(0, init_std) ego rows (the paper's); svd: the top `dim` singular pairs of the "
                       "normalised interaction matrix, weighted so the untrained model scores its rank-`dim` "
                       "reconstruction (eigenvectors of the propagation: training starts from the graph's "
                       "low-pass filter instead of noise)",
                       {"normal", "svd"}),
          float_param("init_std", 0.1, "standard deviation of the initial embeddings (init=svd: their RMS)", 0.0),
          int_param("eval_every", 20, "epochs between validation checks for early stopping (0 = never)", 0),
          int_param("patience", 5, "validation checks without improvement before stopping", 1),
          train::min_delta_param(),
      });
  return p;
}

LightGcnModel::LightGcnModel(const nlohmann::json& config) : Model(params().resolve(config)) {}

void LightGcnModel::fit(const data::Dataset& train, const models::FitOptions& options) {
  if (train.log.size() == 0) throw InvalidInput("lightgcn: no training events");
  if (train.n_items() < 3) throw InvalidInput("lightgcn: needs at least 2 items");
  dim_ = static_cast<int>(config_["dim"].get<long long>());
  layers_ = static_cast<int>(config_["layers"].get<long long>());
  const auto batch_size = static_cast<std::size_t>(config_["batch"].get<long long>());
  if (options.threads > 0) torch::set_num_threads(options.threads);
  n_users_ = train.n_users();
  n_items_ = train.n_items();
  report_ = nlohmann::json::object();
  const auto seen = models::bpr::seen_items(train.log, n_users_);
  const auto g = build_graph(seen, n_users_, n_items_);
  item_scale_.assign(static_cast<std::size_t>(n_items_), 0.0f);
  for (std::int32_t i = 1; i < n_items_; ++i)
    if (const auto deg = g.degree[static_cast<std::size_t>(n_users_ + i)]; deg > 0)
      item_scale_[static_cast<std::size_t>(i)] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(deg)));
  std::vector<std::int32_t> active;  // users with training items (the ones sampled)
  for (std::int32_t u = 1; u < n_users_; ++u)
    if (!seen[static_cast<std::size_t>(u)].empty()) active.push_back(u);
  Rng rng(options.seed);
  const double std = config_["init_std"].get<double>();
  std::vector<float> ego;
  if (config_["init"].get<std::string>() == "svd") {
    ego = spectral_ego(train, n_users_, n_items_, dim_, layers_, std, rng, resolve_threads(options.threads));
  } else {
    ego.resize(static_cast<std::size_t>(g.nodes) * static_cast<std::size_t>(dim_));
    for (auto& x : ego) x = static_cast<float>(rng.normal() * std);
  }
  const double lr = config_["lr"].get<double>(), lr_decay = config_["lr_decay"].get<double>();
  DenseAdam adam(ego.size(), lr);  // the rate is set again at each epoch's start (lr_decay)
  std::vector<float> grad(ego.size());
  const std::shared_ptr<const GraphLoss> objective =
      make_graph_loss(config_["loss"].get<std::string>(), config_["temperature"].get<double>(),
                      config_["similarity"].get<std::string>() == "cosine");
  const bool shared_negatives = objective->shares_negatives();
  const auto negatives = static_cast<std::size_t>(config_["negatives"].get<long long>());
  Trainer trainer(g, dim_, layers_, config_["reg"].get<double>(), objective);
  auto publish = [&] {
    set_tables(powers(g, ego.data(), dim_, layers_), objective->cosine());
    user_ego_.assign(ego.begin(), ego.begin() + static_cast<std::ptrdiff_t>(n_users_) * dim_);
  };
  double train_seconds = 0;
  train::EpochHooks hooks;
  hooks.train = [&](int epoch) {
    adam.set_lr(lr * std::pow(lr_decay, epoch - 1));
    const auto t0 = std::chrono::steady_clock::now();
    double loss = 0;
    std::size_t steps = 0;
    for (std::int64_t done = 0; done < g.edges; done += static_cast<std::int64_t>(batch_size)) {
      Batch b;
      const auto n = std::min<std::int64_t>(static_cast<std::int64_t>(batch_size), g.edges - done);
      for (std::int64_t s = 0; s < n; ++s) {
        const auto u = active[rng.uniform_int(active.size())];
        const auto& items = seen[static_cast<std::size_t>(u)];
        b.user.push_back(u);
        b.pos.push_back(std::int64_t{n_users_} + items[rng.uniform_int(items.size())]);
        if (!shared_negatives)
          b.neg.push_back(std::int64_t{n_users_} + models::bpr::sample_negative(rng, n_items_, items));
      }
      if (shared_negatives)
        for (std::size_t j = 0; j < negatives; ++j)
          b.neg.push_back(std::int64_t{n_users_} + 1 +
                          static_cast<std::int64_t>(rng.uniform_int(static_cast<std::size_t>(n_items_ - 1))));
      loss += trainer.step(ego.data(), b, grad.data());
      adam.step(ego.data(), grad.data());
      ++steps;
    }
    train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return loss / static_cast<double>(std::max<std::size_t>(1, steps));
  };
  if (options.validate)
    hooks.validate = [&] {
      publish();
      return options.validate(*this);
    };
  std::vector<float> best;
  hooks.keep_best = [&] { best = ego; };
  const auto state = train::run_epochs({"train lightgcn",
                                        static_cast<int>(config_["epochs"].get<long long>()),
                                        static_cast<int>(config_["eval_every"].get<long long>()),
                                        static_cast<int>(config_["patience"].get<long long>()),
                                        {},
                                        options.time_budget_s,
                                        config_["min_delta"].get<double>()},
                                       hooks, options.on_epoch, options.progress);
  if (!best.empty()) ego = std::move(best);
  publish();
  report_["graph"] = {{"edges", g.edges}, {"nodes", g.nodes}};
  report_["epochs_run"] = state.epoch;
  report_["seconds_per_epoch"] = state.epoch > 0 ? train_seconds / state.epoch : 0.0;
}

void LightGcnModel::set_tables(const std::vector<std::vector<float>>& layers, bool unit_items) {
  const auto d = static_cast<std::size_t>(dim_);
  const auto items = static_cast<std::size_t>(n_items_);
  const auto first = static_cast<std::size_t>(n_users_) * d;  // the first item row
  item_layers_.assign(static_cast<std::size_t>(layers_) * items * d, 0.0f);
  item_final_.assign(items * d, 0.0f);
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const float* src = layers[l].data() + first;
    if (l < static_cast<std::size_t>(layers_)) std::copy(src, src + items * d, item_layers_.begin() + l * items * d);
    for (std::size_t q = d; q < items * d; ++q) item_final_[q] += src[q] / static_cast<float>(layers.size());
  }
  if (unit_items)  // trained on cosines: rank by unit item vectors
    for (std::size_t i = 1; i < items; ++i) {
      float* row = item_final_.data() + i * d;
      double sq = 0;
      for (std::size_t f = 0; f < d; ++f) sq += double{row[f]} * row[f];
      if (sq > 0)
        for (std::size_t f = 0; f < d; ++f) row[f] = static_cast<float>(row[f] / std::sqrt(sq));
    }
}

std::vector<std::pair<std::int32_t, std::size_t>> LightGcnModel::graph_items(
    const std::vector<data::Event>& history) const {
  auto items = models::linalg::distinct_items(history, n_items_);
  items.erase(std::remove_if(items.begin(), items.end(),
                             [this](const auto& e) { return !(item_scale_[static_cast<std::size_t>(e.first)] > 0); }),
              items.end());
  return items;
}

std::vector<float> LightGcnModel::user_vector(std::int32_t user, const std::vector<data::Event>& history) const {
  const auto d = static_cast<std::size_t>(dim_);
  std::vector<float> v(d, 0.0f);
  if (user >= 1 && user < n_users_)
    std::copy(user_ego_.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(user) * d),
              user_ego_.begin() + static_cast<std::ptrdiff_t>((static_cast<std::size_t>(user) + 1) * d), v.begin());
  const auto items = graph_items(history);
  if (!items.empty()) {
    const float norm = 1.0f / std::sqrt(static_cast<float>(items.size()));
    const auto stride = static_cast<std::size_t>(n_items_) * d;
    for (const auto& entry : items) {
      const auto i = entry.first;
      const float w = norm * item_scale_[static_cast<std::size_t>(i)];
      for (std::size_t l = 0; l < static_cast<std::size_t>(layers_); ++l) {
        const float* e = item_layers_.data() + l * stride + static_cast<std::size_t>(i) * d;
        for (std::size_t f = 0; f < d; ++f) v[f] += w * e[f];
      }
    }
  }
  for (auto& x : v) x /= static_cast<float>(layers_ + 1);
  return v;
}

models::UserState LightGcnModel::encode(std::int32_t user, const std::vector<data::Event>& history) const {
  auto s = Model::encode(user, history);
  s.vector = user_vector(s.user, s.history);
  return s;
}

void LightGcnModel::observe(models::UserState& state, const data::Event& event) const {
  const auto before = state.version;
  Model::observe(state, event);
  if (state.version != before) state.vector = user_vector(state.user, state.history);
}

void LightGcnModel::score(const models::UserState& state, float* out) const { score_batch({&state}, out); }

void LightGcnModel::score_batch(const std::vector<const models::UserState*>& states, float* out) const {
  score_by_embeddings(states, out);
}

const float* LightGcnModel::item_embeddings(int* dim) const {
  if (item_final_.empty()) return nullptr;
  *dim = dim_;
  return item_final_.data();
}

std::vector<models::Attribution> LightGcnModel::explain(const models::UserState& state, std::int32_t item) const {
  require_fitted();
  if (item < 1 || item >= n_items_) throw InvalidInput("lightgcn: explain: item index out of range");
  const auto d = static_cast<std::size_t>(dim_);
  const float* target = item_final_.data() + static_cast<std::size_t>(item) * d;
  const auto items = graph_items(state.history);
  std::vector<models::Attribution> out;
  if (items.empty()) return out;
  const float norm = 1.0f / std::sqrt(static_cast<float>(items.size())) / static_cast<float>(layers_ + 1);
  const auto stride = static_cast<std::size_t>(n_items_) * d;
  for (const auto& [i, position] : items) {
    float w = 0;
    for (std::size_t l = 0; l < static_cast<std::size_t>(layers_); ++l) {
      const float* e = item_layers_.data() + l * stride + static_cast<std::size_t>(i) * d;
      for (std::size_t f = 0; f < d; ++f) w += e[f] * target[f];
    }
    out.push_back({position, i, w * norm * item_scale_[static_cast<std::size_t>(i)]});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.weight > b.weight || (a.weight == b.weight && a.position > b.position);
  });
  return out;
}

void LightGcnModel::save_weights(const std::string& path) const {
  require_fitted();
  models::WeightsWriter w;
  const auto d = static_cast<std::uint64_t>(dim_);
  const auto items = static_cast<std::uint64_t>(n_items_);
  w.add_f32("user_ego", user_ego_, {static_cast<std::uint64_t>(n_users_), d});
  w.add_f32("item_layers", item_layers_, {static_cast<std::uint64_t>(layers_), items, d});
  w.add_f32("item_final", item_final_, {items, d});
  w.add_f32("item_scale", item_scale_, {items});
  w.write(path);
}

void LightGcnModel::load_weights(const std::string& path) {
  models::WeightsReader r(path);
  const auto shape = r.shape("item_layers");
  if (shape.size() != 3 || shape[0] < 1 || shape[1] < 2 || shape[2] < 1)
    throw CorruptModel(path + ": 'item_layers' must be [layers, n_items, dim]");
  const auto us = r.shape("user_ego");
  if (us.size() != 2 || us[1] != shape[2]) throw CorruptModel(path + ": 'user_ego' must be [n_users, dim]");
  if (static_cast<long long>(shape[0]) != config_["layers"].get<long long>() ||
      static_cast<long long>(shape[2]) != config_["dim"].get<long long>())
    throw CorruptModel(path + ": layers and dim differ from the model's config");
  user_ego_ = r.f32("user_ego", us);
  item_layers_ = r.f32("item_layers", shape);
  item_final_ = r.f32("item_final", {shape[1], shape[2]});
  item_scale_ = r.f32("item_scale", {shape[1]});
  layers_ = static_cast<int>(shape[0]);
  dim_ = static_cast<int>(shape[2]);
  n_items_ = static_cast<std::int32_t>(shape[1]);
  n_users_ = static_cast<std::int32_t>(us[0]);
}

}  // namespace driftrec::nn
