#include "driftrec/nn/sasrec.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <cmath>
#include <numeric>

#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"
#include "driftrec/models/early_stopping.h"
#include "pch.h"
#include "transformer.h"

namespace driftrec::nn {

namespace {

// Training checkpoints: net.pt, optimizer.pt, best.pt (the best parameters so far) and state.json,
// written to a temporary directory and renamed over the previous checkpoint.
class Checkpoint {
 public:
  struct State {
    int epoch = 0;
    double best = -1;
    int bad = 0;
    int64_t step = 0;
    bool stopped = false;
  };
  explicit Checkpoint(std::string dir) : dir_(std::move(dir)) {}
  bool enabled() const { return !dir_.empty(); }

  void save(Net& net, torch::optim::Optimizer& opt, const std::vector<torch::Tensor>& best, const State& st) const {
    namespace fs = std::filesystem;
    const fs::path tmp = dir_ + ".tmp";
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    try {
      torch::save(net, (tmp / "net.pt").string());
      torch::save(opt, (tmp / "optimizer.pt").string());
      torch::save(best, (tmp / "best.pt").string());
    } catch (const c10::Error& e) {
      throw IoError(dir_ + ": cannot write checkpoint: " + e.what_without_backtrace());
    }
    std::ofstream(tmp / "state.json") << nlohmann::json{{"epoch", st.epoch}, {"best", st.best}, {"bad", st.bad},
                                                          {"step", st.step}, {"stopped", st.stopped}}.dump();
    fs::remove_all(dir_);
    fs::rename(tmp, dir_);
  }

  State load(Net& net, torch::optim::Optimizer& opt, std::vector<torch::Tensor>& best) const {
    namespace fs = std::filesystem;
    std::ifstream in(fs::path(dir_) / "state.json");
    if (!in) throw NotFound(dir_ + ": no checkpoint to resume from");
    State st;
    try {
      const auto j = nlohmann::json::parse(in);
      st = {j.at("epoch").get<int>(), j.at("best").get<double>(), j.at("bad").get<int>(), j.at("step").get<int64_t>(),
            j.at("stopped").get<bool>()};
      torch::load(net, (fs::path(dir_) / "net.pt").string());
      torch::load(opt, (fs::path(dir_) / "optimizer.pt").string());
      torch::load(best, (fs::path(dir_) / "best.pt").string());
    } catch (const nlohmann::json::exception& e) {
      throw CorruptModel(dir_ + "/state.json: " + e.what());
    } catch (const c10::Error& e) {
      throw CorruptModel(dir_ + ": cannot read checkpoint (was it written with other parameters?): " + e.what_without_backtrace());
    }
    return st;
  }

 private:
  std::string dir_;
};

}  // namespace

struct SasRecModel::Impl {
  Net net{nullptr};
  std::vector<float> item_matrix;  // copy of the item embeddings [n_items, d] for scoring
  int64_t d = 0, max_len = 0;
  void build(const nlohmann::json& c, int64_t n_items) {
    d = c["dim"].get<int64_t>();
    max_len = c["max_len"].get<int64_t>();
    const auto ffn = c["ffn_dim"].get<int64_t>() > 0 ? c["ffn_dim"].get<int64_t>() : d;
    net = Net(n_items, d, max_len, c["layers"].get<int64_t>(), c["heads"].get<int64_t>(), ffn, c["dropout"].get<double>());
  }
  void snapshot_items() {
    auto w = net->items->weight.detach().contiguous();
    item_matrix.assign(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
  }
  /// Last `max_len` items of a history as a [1, L] tensor.
  torch::Tensor sequence(const std::vector<data::Event>& h) const {
    const auto n = std::min<std::size_t>(h.size(), static_cast<std::size_t>(max_len));
    std::vector<int64_t> ids(n);
    for (std::size_t i = 0; i < n; ++i) ids[i] = h[h.size() - n + i].item;
    return torch::from_blob(ids.data(), {1, static_cast<int64_t>(n)}, torch::kLong).clone();
  }
};

const ParamSet& SasRecModel::params() {
  static const ParamSet p("sasrec", {
      int_param("dim", 64, "hidden size d", 8, 4096),
      int_param("layers", 2, "transformer blocks", 1, 48),
      int_param("heads", 1, "attention heads (must divide dim)", 1, 64),
      int_param("ffn_dim", 0, "feed-forward width (0 = dim)", 0),
      int_param("max_len", 50, "most recent events a sequence keeps", 2, 4096),
      float_param("dropout", 0.2, "dropout rate", 0.0, 0.9),
      string_param("loss", "sampled", "training objective", {"sampled", "softmax", "bce"}),
      int_param("negatives", 256, "negatives per batch (loss=sampled)", 1),
      string_param("sampling", "uniform", "negative distribution (loss=sampled)", {"uniform", "popularity"}),
      int_param("batch_size", 128, "sequences per batch", 1),
      int_param("epochs", 200, "maximum epochs", 1),
      float_param("lr", 1e-3, "AdamW learning rate", 1e-8, 10.0),
      float_param("weight_decay", 0.0, "AdamW weight decay", 0.0),
      float_param("clip_norm", 5.0, "gradient norm clip (0 = off)", 0.0),
      int_param("warmup_steps", 100, "linear learning-rate warm-up steps", 0),
      string_param("lr_schedule", "constant", "after warm-up: constant, or cosine decay to 0 over `epochs`",
                   {"constant", "cosine"}),
      int_param("eval_every", 5, "epochs between validation checks (0 = never)", 0),
      int_param("patience", 4, "validation checks without improvement before stopping", 1),
  });
  return p;
}

SasRecModel::SasRecModel(const nlohmann::json& config) : Model(params().resolve(config)), impl_(std::make_unique<Impl>()) {
  if (config_["dim"].get<int64_t>() % config_["heads"].get<int64_t>() != 0)
    throw InvalidInput("sasrec: heads must divide dim");
}

SasRecModel::~SasRecModel() = default;

void SasRecModel::fit(const data::Dataset& train, const models::FitOptions& options) {
  const auto& log = train.log;
  if (log.size() == 0) throw InvalidInput("sasrec: no training events");
  torch::manual_seed(options.seed);
  torch::set_num_threads(std::max(1, options.threads > 0 ? options.threads : 2));
  const auto& c = config_;
  n_items_ = train.n_items();
  n_users_ = train.n_users();
  impl_->build(c, n_items_);
  auto& net = impl_->net;
  const int64_t max_len = impl_->max_len;
  // Training sequences: the last max_len + 1 items of each user (inputs = all but the last,
  // targets = all but the first).
  std::vector<std::vector<int64_t>> seqs;
  for (std::int32_t u = 1; u < n_users_; ++u) {
    const auto b = log.user_begin(u), e = log.user_end(u);
    if (e - b < 2) continue;
    const auto from = std::max(b, e - max_len - 1);
    std::vector<int64_t> s;
    for (auto r = from; r < e; ++r) s.push_back(log.item[static_cast<std::size_t>(r)]);
    seqs.push_back(std::move(s));
  }
  if (seqs.empty()) throw InvalidInput("sasrec: no user has two or more training events");
  // Length buckets: sort by length, cut into batches, shuffle the batch order each epoch.
  std::vector<std::size_t> order(seqs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return seqs[a].size() < seqs[b].size(); });
  const auto bs = static_cast<std::size_t>(c["batch_size"].get<int64_t>());
  std::vector<std::vector<std::size_t>> batches;
  for (std::size_t i = 0; i < order.size(); i += bs)
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(i), order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), i + bs)));
  // Negative sampling distribution.
  const std::string loss = c["loss"], sampling = c["sampling"];
  const int64_t n_neg = c["negatives"].get<int64_t>();
  torch::Tensor pop_probs, log_q;
  if (loss == "sampled" && sampling == "popularity") {
    auto counts = data::item_counts(log, n_items_);
    std::vector<float> p(counts.begin(), counts.end());
    p[0] = 0;
    pop_probs = torch::tensor(p);
    pop_probs = pop_probs / pop_probs.sum();
    log_q = torch::log(pop_probs.clamp_min(1e-12));
  }
  torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(c["lr"].get<double>()).weight_decay(c["weight_decay"].get<double>()));
  const double base_lr = c["lr"].get<double>(), clip = c["clip_norm"].get<double>();
  const int64_t warmup = c["warmup_steps"].get<int64_t>();
  const int epochs = static_cast<int>(c["epochs"].get<int64_t>());
  const int eval_every = static_cast<int>(c["eval_every"].get<int64_t>());
  const int patience = static_cast<int>(c["patience"].get<int64_t>());
  const auto t_fit = std::chrono::steady_clock::now();
  const Rng rng_root(options.seed);
  const bool cosine = c["lr_schedule"] == "cosine";
  const int64_t total_steps = static_cast<int64_t>(epochs) * static_cast<int64_t>(batches.size());
  models::EarlyStopping stopping(patience);
  std::vector<torch::Tensor> best_state;
  int64_t step = 0;
  int first_epoch = 1;
  bool stopped = false;
  Checkpoint ckpt(options.checkpoint_dir);
  if (options.resume) {
    if (!ckpt.enabled()) throw InvalidInput("sasrec: resume needs a checkpoint directory");
    auto st = ckpt.load(net, opt, best_state);
    first_epoch = st.epoch + 1;
    stopping = models::EarlyStopping(patience, st.best, st.bad);
    step = st.step;
    stopped = st.stopped;
  }
  for (int epoch = first_epoch; epoch <= epochs && !stopped; ++epoch) {
    net->train();
    // Each epoch's randomness depends only on (seed, epoch), so a resumed run repeats it exactly.
    torch::manual_seed(options.seed + static_cast<std::uint64_t>(epoch) * 7919);
    Rng rng = rng_root.fork(static_cast<std::uint64_t>(epoch));
    std::sort(batches.begin(), batches.end());
    for (std::size_t i = batches.size(); i > 1; --i) std::swap(batches[i - 1], batches[rng.uniform_int(i)]);
    double total = 0;
    int64_t positions = 0;
    for (const auto& batch : batches) {
      std::size_t L = 0;
      for (auto s : batch) L = std::max(L, seqs[s].size() - 1);
      std::vector<int64_t> in(batch.size() * L, 0), tgt(batch.size() * L, 0);
      for (std::size_t b = 0; b < batch.size(); ++b) {
        const auto& s = seqs[batch[b]];
        const auto n = s.size() - 1, off = L - n;  // left padding
        for (std::size_t p = 0; p < n; ++p) {
          in[b * L + off + p] = s[p];
          tgt[b * L + off + p] = s[p + 1];
        }
      }
      auto input = torch::from_blob(in.data(), {static_cast<int64_t>(batch.size()), static_cast<int64_t>(L)}, torch::kLong);
      auto target = torch::from_blob(tgt.data(), {static_cast<int64_t>(batch.size() * L)}, torch::kLong);
      auto h = net->forward(input).reshape({-1, impl_->d});
      auto keep = target.ne(0).nonzero().squeeze(1);
      h = h.index_select(0, keep);
      auto t = target.index_select(0, keep);
      torch::Tensor l;
      const auto& E = net->items->weight;
      if (loss == "softmax") {
        l = torch::nn::functional::cross_entropy(torch::matmul(h, E.t()), t);
      } else if (loss == "bce") {
        auto neg = torch::randint(1, n_items_, {t.size(0)}, torch::kLong);
        auto pos_logit = (h * E.index_select(0, t)).sum(-1);
        auto neg_logit = (h * E.index_select(0, neg)).sum(-1);
        l = -(torch::log_sigmoid(pos_logit) + torch::log_sigmoid(-neg_logit)).mean();
      } else {
        auto neg = pop_probs.defined() ? torch::multinomial(pop_probs, n_neg, true)
                                       : torch::randint(1, n_items_, {n_neg}, torch::kLong);
        auto pos_logit = (h * E.index_select(0, t)).sum(-1, true);       // [N, 1]
        auto neg_logit = torch::matmul(h, E.index_select(0, neg).t());   // [N, S]
        if (log_q.defined()) {
          pos_logit = pos_logit - log_q.index_select(0, t).unsqueeze(1);
          neg_logit = neg_logit - log_q.index_select(0, neg).unsqueeze(0);
        }
        neg_logit = neg_logit.masked_fill(neg.unsqueeze(0).eq(t.unsqueeze(1)), -INFINITY);  // accidental hits
        auto logits = torch::cat({pos_logit, neg_logit}, 1);
        l = torch::nn::functional::cross_entropy(logits, torch::zeros({logits.size(0)}, torch::kLong));
      }
      ++step;
      double lr = base_lr;
      if (warmup > 0 && step < warmup) {
        lr = base_lr * static_cast<double>(step) / static_cast<double>(warmup);
      } else if (cosine) {
        const double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total_steps - warmup));
        lr = base_lr * 0.5 * (1.0 + std::cos(3.141592653589793 * std::min(1.0, progress)));
      }
      for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
      opt.zero_grad();
      l.backward();
      if (clip > 0) torch::nn::utils::clip_grad_norm_(net->parameters(), clip);
      opt.step();
      {
        torch::NoGradGuard g;
        net->items->weight[0].zero_();
      }
      total += l.item<double>() * static_cast<double>(t.size(0));
      positions += t.size(0);
    }
    net->eval();
    impl_->snapshot_items();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_fit).count();
    std::string msg = "loss=" + std::to_string(total / static_cast<double>(std::max<int64_t>(1, positions))) +
                      " seconds=" + std::to_string(elapsed);
    if (options.validate && eval_every > 0 && (epoch % eval_every == 0 || epoch == epochs)) {
      const double v = options.validate(*this);
      msg += " valid=" + std::to_string(v);
      if (stopping.record(v)) {
        best_state.clear();
        for (const auto& p : net->parameters()) best_state.push_back(p.detach().clone());
      } else if (stopping.should_stop()) {
        stopped = true;
        msg += " (early stop)";
      }
    }
    if (ckpt.enabled()) ckpt.save(net, opt, best_state, {epoch, stopping.best(), stopping.bad(), step, stopped});
    if (options.progress) options.progress({"train sasrec", static_cast<std::size_t>(epoch), static_cast<std::size_t>(epochs), msg});
  }
  if (!best_state.empty()) {
    torch::NoGradGuard g;
    auto params = net->parameters();
    for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(best_state[i]);
  }
  net->eval();
  impl_->snapshot_items();
}

models::UserState SasRecModel::encode(std::int32_t user, const std::vector<data::Event>& history) const {
  models::UserState s = Model::encode(user, history);
  s.vector.assign(static_cast<std::size_t>(impl_->d), 0.0f);
  if (s.history.empty()) return s;
  torch::NoGradGuard g;
  auto h = impl_->net->forward(impl_->sequence(s.history));
  auto last = h[0][h.size(1) - 1].contiguous();
  std::copy(last.data_ptr<float>(), last.data_ptr<float>() + impl_->d, s.vector.begin());
  return s;
}

void SasRecModel::observe(models::UserState& s, const data::Event& e) const {
  const auto before = s.version;
  Model::observe(s, e);
  if (s.version == before) return;
  auto fresh = encode(s.user, s.history);
  s.vector = std::move(fresh.vector);
}

void SasRecModel::score(const models::UserState& s, float* out) const { score_by_embeddings({&s}, out); }

void SasRecModel::score_batch(const std::vector<const models::UserState*>& states, float* out) const {
  score_by_embeddings(states, out);
}

std::vector<models::Attribution> SasRecModel::explain(const models::UserState& s, std::int32_t item) const {
  require_fitted();
  if (item <= 0 || item >= n_items_) throw InvalidInput("sasrec: item index out of range");
  if (s.history.empty()) return {};
  torch::NoGradGuard g;
  auto seq = impl_->sequence(s.history);
  torch::Tensor attn;
  impl_->net->forward(seq, &attn);
  const auto L = seq.size(1);
  auto row = attn[0][L - 1].contiguous();  // attention of the newest position over the sequence
  const std::size_t first = s.history.size() - static_cast<std::size_t>(L);
  std::vector<models::Attribution> out;
  for (int64_t p = 0; p < L; ++p)
    out.push_back({first + static_cast<std::size_t>(p), s.history[first + static_cast<std::size_t>(p)].item, row[p].item<float>()});
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.weight > b.weight; });
  return out;
}

const float* SasRecModel::item_embeddings(int* dim) const {
  *dim = static_cast<int>(impl_->d);
  return impl_->item_matrix.data();
}

void SasRecModel::save_weights(const std::string& path) const {
  require_fitted();
  torch::serialize::OutputArchive archive;
  impl_->net->save(archive);
  archive.write("driftrec_shape", torch::tensor({static_cast<int64_t>(n_items_), static_cast<int64_t>(n_users_)}));
  try {
    archive.save_to(path);
  } catch (const c10::Error& e) {
    throw IoError(path + ": cannot write weights: " + e.what_without_backtrace());
  }
}

void SasRecModel::load_weights(const std::string& path) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    torch::Tensor shape;
    archive.read("driftrec_shape", shape);
    const auto n_items = shape[0].item<int64_t>(), n_users = shape[1].item<int64_t>();
    if (n_items < 2) throw CorruptModel(path + ": bad item count");
    impl_->build(config_, n_items);
    impl_->net->load(archive);
    impl_->net->eval();
    n_items_ = static_cast<std::int32_t>(n_items);
    n_users_ = static_cast<std::int32_t>(n_users);
    impl_->snapshot_items();
  } catch (const c10::Error& e) {
    throw CorruptModel(path + ": cannot read sasrec weights: " + e.what_without_backtrace());
  }
}

}  // namespace driftrec::nn
