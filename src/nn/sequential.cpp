// Supervised fit of the sequential models: parameters (settings from the data: data_settings.h), and the choice of
// trainer: EpochTrainer (epoch_trainer.h: batched steps, data-parallel over ranks, or DP-SGD over
// users) or, for a federated fit (fed_rounds > 0), FederatedTrainer (federated_trainer.h).
#include "driftrec/nn/sequential.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>

#include "batches.h"
#include "checkpoint.h"
#include "data_parallel.h"
#include "data_settings.h"
#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "driftrec/core/rng.h"
#include "driftrec/data/vectors.h"
#include "driftrec/privacy/dp_sgd_plan.h"
#include "driftrec/train/early_stopping.h"
#include "driftrec/train/epoch_loop.h"
#include "epoch_trainer.h"
#include "federated_trainer.h"
#include "lazy_adam.h"
#include "loss.h"
#include "pch.h"
#include "private_gradient.h"
#include "seqnets.h"
#include "sequential_impl.h"
#include "side_tables.h"

namespace driftrec::nn {

namespace {

const std::vector<std::string> kKinds = {"sasrec", "gru4rec", "caser", "hstu", "crossdomain"};

}  // namespace

namespace {

std::vector<ParamSpec> common_params(int64_t default_dim, double default_dropout) {
  return {
      int_param("dim", default_dim, "hidden size d (item vectors and user state)", 8, 4096),
      int_param("max_len", 50,
                "most recent events a sequence keeps; 0 = from the data: the 99th percentile of training history "
                "lengths rounded up to a multiple of 50, within [50, 200]",
                0, 4096),
      float_param("dropout", default_dropout, "dropout rate", 0.0, 0.9),
      string_param("loss", "sampled",
                   "training objective; auto = chosen by the catalogue's size (softmax_max_items), saved resolved",
                   {"sampled", "softmax", "bce", "auto"}),
      int_param("softmax_max_items", kAutoSoftmaxMaxItems,
                "loss=auto: full softmax (streamed in chunks of 4096 items where a batch's logits exceed 2^24 "
                "scores) up to this many items, "
                "above: sampled softmax with 4096 shared uniform negatives and the lazily updated item table",
                1),
      int_param("negatives", 256, "negatives per batch (loss=sampled)", 1),
      bool_param("sparse_items", false,
                 "loss=sampled or bce: the item table's gradient is sparse and only the rows a batch touched are "
                 "updated (lazy Adam), so a step costs the same whatever the catalogue's size (loss=auto turns it "
                 "on with the sampled objective)"),
      string_param("sampling", "uniform",
                   "negatives (loss=sampled): uniform, popularity (log-q corrected), or mixed (the batch's other "
                   "targets plus `negatives` uniform draws, log-q corrected)",
                   {"uniform", "popularity", "mixed"}),
      int_param("softmax_chunk", 0,
                "loss=softmax: items per chunk of a streaming log-sum-exp, so the [positions, items] logits are "
                "never held at once (0 = all at once)",
                0),
      float_param("label_smoothing", 0.0,
                  "loss=softmax: share of the target's probability spread uniformly over the items", 0.0, 0.99),
      int_param("future_targets", 0,
                "a multi-horizon objective: each training position also learns the items of the next this-many "
                "training events after its target (the user's own), so the state is trained for what the user goes "
                "on to want, not only the next event (0 = the next item only)",
                0, 64),
      float_param("future_weight", 0.5, "future_targets > 0: weight of the future items' loss against the next item's",
                  0.0, 100.0),
      string_param("samples", "sequences",
                   "training samples: sequences (each user's last max_len + 1 events, a target at every position) "
                   "or prefixes (every training position its own sample: the events before it, up to max_len, with "
                   "its event the one target at the newest position, where serving reads the state; more "
                   "optimiser steps per epoch, each sample encoded on its own; see prefix_stride), or auto (prefixes "
                   "while their cost is within prefix_max_context, else sequences)",
                   {"sequences", "prefixes", "auto"}),
      int_param("prefix_stride", 1,
                "samples=prefixes or auto: a sample every this many training positions, counted back from each "
                "user's newest event, its last this-many positions the targets (1: every position its own sample; "
                "larger strides encode each window once for several targets, for long histories; 0: from the data, "
                "the smallest stride within prefix_max_context)",
                0),
      int_param("prefix_max_context", 32,
                "samples=auto: prefixes while a training position's mean window (its earlier events, at most "
                "max_len) over prefix_stride is at most this many events, else sequences (prefix_stride 0: the "
                "stride that keeps it within); always sequences for a private or federated fit",
                1),
      int_param("batch_size", 128, "samples per batch", 1),
      int_param("epochs", 200, "maximum epochs", 1),
      float_param("lr", 1e-3, "AdamW learning rate", 1e-8, 10.0),
      float_param("weight_decay", 0.0, "AdamW weight decay", 0.0),
      float_param("clip_norm", 5.0, "gradient norm clip (0 = off)", 0.0),
      int_param("warmup_steps", 100, "linear learning-rate warm-up steps", 0),
      float_param("weight_average", 0.0,
                  "decay of an exponential moving average of the weights over optimiser steps (e.g. 0.999; "
                  "0 = off): validation, the kept best weights and the released model use the average, training "
                  "continues from the raw weights (every step touches every weight, the item table included)",
                  0.0, 0.999999),
      string_param("lr_schedule", "constant", "after warm-up: constant, or cosine decay to 0 over `epochs`",
                   {"constant", "cosine"}),
      int_param("eval_every", 5, "epochs between validation checks (0 = never)", 0),
      int_param("patience", 4, "validation checks without improvement before stopping", 1),
      train::min_delta_param(),
      bool_param("behavior_embedding", false, "add an embedding of the event's behaviour type (view, cart, buy...)"),
      bool_param("time_gaps", false,
                 "add an embedding of the log2-bucketed seconds since the previous event (needs timestamps)"),
      bool_param("request_time", false,
                 "add an embedding of the time to the next event (log2 buckets, under a minute one bucket; needs "
                 "timestamps): at the newest event the time to the request, so a user back after a day and one "
                 "still clicking are scored differently; the replay gives each event's own time, the server the "
                 "request's"),
      float_param("request_time_dropout", 0.2,
                  "request_time: share of the training positions that learn without it, as a request with no "
                  "time (the split protocol's lists) is scored",
                  0.0, 1.0),
      bool_param("attributes", false, "add the mean of the item's category/attribute embeddings (needs an item table)"),
      int_param("max_attributes", 16, "attributes kept per item (attributes=true)", 1, 1024),
      string_param("text", "none", "content tower over the item's title tokens (needs an item table with text)",
                   {"none", "cnn", "attention"}),
      int_param("max_tokens", 32, "title tokens kept per item (text)", 1, 4096),
      string_param("word_vectors", "", "word2vec/GloVe text file to initialise the token embeddings (text)"),
      string_param(
          "item_vectors", "",
          "file of item vectors (item_id + numbers per line, or .npy + .ids) fed through a learned linear map"),
      float_param(
          "id_dropout", 0.0,
          "training: probability of dropping an item's id embedding so content stands alone (text/item_vectors)", 0.0,
          1.0),
      bool_param("item_bias", false,
                 "a learned bias per item (and per attribute, with attributes) added to its score, as BERT4Rec's "
                 "output layer has: the last coordinate of the user state is fixed at 1 (one of dim's coordinates)"),
      string_param("repeat", "false",
                   "repeat-aware score: items already in the history get a learned bonus by behaviour type and "
                   "recency, gated by the user state (for data where users come back to items, e.g. buying what "
                   "they viewed); auto = on when at least 5% of the training targets are items the user had "
                   "before, saved resolved",
                   {"false", "true", "auto"}),
      bool_param("exclude_seen", false,
                 "train on the ranking that evaluation and serving ask for: items already in a position's history "
                 "(except its own target) are left out of that position's softmax and negatives"),
      float_or_word_param("seen_penalty", 0.0,
                          "training: subtracted from the score of each item already in a position's history (except "
                          "its target), so seen items stay in the softmax with exp(-this) of their share: between "
                          "plain training (0) and exclude_seen (infinite); or auto = 2 where a training position's "
                          "window covers at least 1% of the catalogue on average and fewer than 5% of the training "
                          "targets are items the user had before, else 0 (saved resolved)",
                          {"auto"}, 0, 1000),
      bool_param("category_softmax", false,
                 "class-factored output: score = log p(category | state) + log p(item | category, state) over the "
                 "items' categories (Goodman 2001), each item's within-category bias starting at the log of "
                 "its training count; needs an item table and loss: softmax, and scores every item when serving"),
      string_param("category_classes", "first",
                   "category_softmax: an item's class is its first category (first), or each of its categories "
                   "(all: an item with several mixes them, p(item) = sum over its categories c of p(c) p(item | c))",
                   {"first", "all"}),
      float_param("category_prior_half_life", 0.0,
                  "category_softmax: the category part also reads the history's own category mix, each past event "
                  "weighted 0.5^(events since / this half-life), as scale x log(mix + floor) added to its logits "
                  "(scale and floor learned; 0 = off)",
                  0.0, 10000.0),
      string_param("target_behaviors", "",
                   "comma-separated behaviours the model learns to predict (e.g. buy); inputs keep every behaviour "
                   "(empty = the split's target behaviours, --targets; all when it names none; saved resolved)"),
      float_param("dp_epsilon", 0.0,
                  "user-level differential privacy budget: DP-SGD over users (0 = not private; needs a fixed "
                  "max_len and uniform sampling; no validation, the last epoch is released)",
                  0.0),
      float_param("dp_delta", 1e-5, "DP delta (at most 1 / number of users is customary)", 1e-12, 0.1),
      float_param("dp_clip", 1.0, "DP-SGD: L2 bound of each user's gradient over all weights", 1e-6),
      float_param("dp_noise", 0.0, "DP-SGD noise multiplier (0 = the smallest that meets dp_epsilon)", 0.0),
      int_param("dp_batch_users", 1024, "DP-SGD: expected users per step (Poisson sampling)", 1),
      int_param("fed_rounds", 0,
                "federated training: rounds in which sampled users train on their own history and send only "
                "weight changes (0 = centralised; then eval_every and patience count rounds and epochs is not used)",
                0),
      float_param("fed_client_rate", 0.1, "federated: probability that a user takes part in a round", 1e-9, 1.0),
      int_param("fed_local_epochs", 1, "federated: SGD steps a client takes on its own sequence per round", 1),
      float_param("fed_client_lr", 0.1, "federated: the clients' SGD learning rate", 1e-9),
      float_param("fed_prox_mu", 0.0, "federated: FedProx pull of the local weights toward the round's", 0.0),
      string_param("fed_server", "adam",
                   "federated: how the server applies the mean change: adam (FedAdam: AdamW at lr, weight_decay) or "
                   "avg (FedAvg: weights += fed_server_lr x mean)",
                   {"adam", "avg"}),
      float_param("fed_server_lr", 1.0, "federated, fed_server=avg: the server's step on the mean change", 1e-9),
      bool_param("fed_sparse", true,
                 "federated: clients download and upload only the item rows they touch (else the whole table)"),
      bool_param("fed_secure", false,
                 "federated: secure aggregation by pairwise additive masking (the server sees only sums; uploads "
                 "are dense)"),
      int_param("fed_mask_neighbors", 16, "federated, fed_secure: peers each client masks with (0 = all)", 0),
      float_param("fed_dropout", 0.0, "federated (simulation): share of a round's clients whose upload is lost", 0.0,
                  0.99),
  };
}

ParamSet make_params(const std::string& kind) {
  std::vector<ParamSpec> own;
  if (kind == "sasrec") {
    own = {int_param("layers", 2, "transformer blocks", 1, 48),
           int_param("heads", 1, "attention heads (must divide dim)", 1, 64),
           int_param("ffn_dim", 0, "feed-forward width (0 = dim)", 0),
           float_param("filter_mix", 0.0,
                       "share of each block's update from a causal spectral filter (BSARec's alpha: low-pass of the "
                       "last max_len events plus a learned per-dimension weight on the rest; 0 = attention only)",
                       0.0, 1.0),
           int_param("filter_bins", 3,
                     "filter_mix > 0: low-frequency DFT bins of a max_len-long window kept as "
                     "the low-pass (BSARec's c = 5 keeps 3)",
                     1),
           string_param("norm", "pre",
                        "block layout: pre (LayerNorm before attention and feed-forward, final norm) or post "
                        "(BERT's and BSARec's: each residual closed under its own norm, normalised input)",
                        {"pre", "post"}),
           string_param("ffn_act", "gelu",
                        "feed-forward: gelu (BERT's, SASRec's) or swiglu (a SiLU-gated linear unit, as eSASRec's LiGR "
                        "blocks; ffn_dim hidden units, one more d x ffn_dim weight per block)",
                        {"gelu", "swiglu"})};
  } else if (kind == "hstu") {
    own = {int_param("layers", 2, "HSTU layers", 1, 48),
           int_param("heads", 1, "attention heads (must divide dim)", 1, 64),
           bool_param("time_bias", true,
                      "attention bias by log-bucketed time difference (used when the data has timestamps)")};
  } else if (kind == "gru4rec") {
    own = {int_param("layers", 1, "recurrent layers", 1, 16),
           int_param("hidden", 0, "recurrent state size (0 = dim)", 0),
           string_param("cell", "gru", "recurrent cell", {"gru", "lstm"})};
  } else if (kind == "caser") {
    own = {int_param("window", 5, "events each position looks back over (the convolution image height)", 1, 64),
           int_param("h_filters", 16, "horizontal filters per height", 1),
           int_param("v_filters", 4, "vertical filters", 1)};
  } else if (kind == "crossdomain") {
    // No sasrec here: its positions count back from the newest event of the (compacted) domain
    // sequence, so in training a state would reveal how many same-domain events follow it.
    own = {string_param("encoder", "hstu", "the per-domain sequence encoder (position-free or relative only)",
                        {"hstu", "gru4rec"}),
           int_param("layers", 2, "layers of each encoder", 1, 48),
           int_param("heads", 1, "attention heads (must divide dim)", 1, 64),
           int_param("ffn_dim", 0, "sasrec feed-forward width (0 = dim)", 0),
           bool_param("time_bias", true, "hstu: attention bias by log-bucketed time difference"),
           string_param("fusion", "attention", "how the domains' states are fused per target domain",
                        {"concat", "attention"}),
           int_param("fusion_hidden", 0, "concat: hidden width of the fusion MLP (0 = domains x dim)", 0)};
  } else {
    throw InvalidInput("unknown sequential model '" + kind + "'");
  }
  auto all = common_params(64, kind == "caser" ? 0.3 : 0.2);
  all.insert(all.end(), own.begin(), own.end());
  return ParamSet(kind, all);
}

}  // namespace

const ParamSet& SequentialModel::params(const std::string& kind) {
  static const std::map<std::string, ParamSet> sets = [] {
    std::map<std::string, ParamSet> m;
    for (const auto& k : kKinds) m.emplace(k, make_params(k));
    return m;
  }();
  const auto it = sets.find(kind);
  if (it == sets.end()) throw InvalidInput("unknown sequential model '" + kind + "'");
  return it->second;
}

SequentialModel::SequentialModel(std::string kind, const nlohmann::json& config)
    : Model(params(kind).resolve(config)), kind_(std::move(kind)), impl_(std::make_unique<Impl>()) {
  impl_->kind = kind_;
  if (config_.contains("heads") && config_["dim"].get<int64_t>() % config_["heads"].get<int64_t>() != 0)
    throw InvalidInput(kind_ + ": heads must divide dim");
}

SequentialModel::~SequentialModel() = default;

void SequentialModel::prepare(const data::Dataset& train, const models::FitOptions& options) {
  const std::string who = kind_ + ": ";
  if (train.log.size() == 0) throw InvalidInput(who + "no training events");
  torch::manual_seed(options.seed);
  torch::set_num_threads(std::max(1, options.threads > 0 ? options.threads : 2));
  n_items_ = train.n_items();
  n_users_ = train.n_users();
  if (privacy::wants_dp(config_)) check_private_config(config_, who);
  seen_penalty_setting(config_);  // refuses a bad value or a contradictory pair before any work
  resolve_data_settings(config_, train, who);
  configure_side_information(train, *impl_, config_, kind_, who);
  impl_->build(config_, n_items_);
  impl_->net->eval();
  impl_->snapshot_items();
}

void SequentialModel::fit(const data::Dataset& train, const models::FitOptions& options) {
  const std::string who = kind_ + ": ";
  prepare(train, options);
  const bool dp = privacy::wants_dp(config_);
  const auto& c = config_;
  auto& m = *impl_;
  auto is_target = target_behaviors(train, c["target_behaviors"], who);
  const bool federated = c["fed_rounds"].get<int64_t>() > 0;
  const bool prefixes = c["samples"] == "prefixes";
  if (prefixes && (federated || dp))
    throw InvalidInput(who + "samples=prefixes is for the centralised fit (privacy and federation count users)");
  if (federated && c["weight_average"].get<double>() > 0)
    throw InvalidInput(who + "weight_average is for the centralised fit (a federated server steps on client updates)");
  auto seqs =
      training_sequences(train.log, n_users_, m.max_len, static_cast<std::size_t>(c["batch_size"].get<int64_t>()), who,
                         prefixes ? c["prefix_stride"].get<int64_t>() : 0, &is_target);
  std::optional<privacy::DpSgdPlan> dp_plan;
  if (dp && !federated) {  // the population sampled: users with a training sequence (the others contribute nothing)
    dp_plan =
        privacy::plan_dp_sgd(privacy::DpSgdSettings::from_config(c, static_cast<std::int64_t>(seqs.seqs.size())), who);
    log_info(who + "DP-SGD over " + std::to_string(dp_plan->users) + " users: sampling rate " +
             std::to_string(dp_plan->q) + ", noise multiplier " + std::to_string(dp_plan->sigma) + ", " +
             std::to_string(dp_plan->steps) + " steps, epsilon " + std::to_string(dp_plan->spent.epsilon) +
             " at delta " + std::to_string(dp_plan->delta) + " (not validated: the last epoch is released)");
  }
  // Data-parallel: every rank starts from rank 0's weights (the same seed gives them anyway).
  std::unique_ptr<DataParallel> world;
  if (options.distributed.active()) {
    if (federated || dp)
      throw InvalidInput(who + "distributed training is for the centralised fit (not with fed_rounds or dp_*)");
    world = std::make_unique<DataParallel>(options.distributed);
    world->broadcast_parameters(unique_parameters(*m.net));
  }
  const bool lead = !world || world->rank() == 0;  // validates and writes checkpoints
  // One of the two trainers: centralised (batches, or DP-SGD over users) or federated (rounds).
  std::optional<EpochTrainer> central;
  std::optional<FederatedTrainer> fed;
  if (federated) {
    fed.emplace(m, c, TrainingSet(m, c, train, std::move(seqs), std::move(is_target)), options.seed, who);
    if (fed->dp()) dp_plan = fed->dp();
  } else {
    central.emplace(m, c, TrainingSet(m, c, train, std::move(seqs), std::move(is_target)), options.seed, dp_plan,
                    world.get());
  }
  const auto& params = fed ? fed->params() : central->params();
  const auto epochs = static_cast<int>(federated ? c["fed_rounds"].get<int64_t>() : c["epochs"].get<int64_t>());
  // A private fit runs its planned epochs without validation (model selection is outside the accounting).
  train::EpochPlan plan{"train " + kind_ + (federated ? " (federated rounds)" : "") + (dp ? " (private)" : ""),
                        epochs,
                        dp ? 0 : static_cast<int>(c["eval_every"].get<int64_t>()),
                        dp ? epochs + 1 : static_cast<int>(c["patience"].get<int64_t>()),
                        {}};
  plan.min_delta = c["min_delta"].get<double>();
  std::vector<torch::Tensor> best_state;
  Checkpoint ckpt(options.checkpoint_dir);
  if (options.resume) {
    if (!ckpt.enabled()) throw InvalidInput(who + "resume needs a checkpoint directory");
    plan.resume = fed ? fed->load(ckpt, best_state) : central->load(ckpt, best_state);
  }
  train::EpochHooks hooks;
  hooks.train = [&](int epoch) { return fed ? fed->run(epoch) : central->run(epoch); };
  if (options.validate && !dp)
    hooks.validate = [&] {  // rank 0 validates; every rank takes its decision
      const double v = lead ? options.validate(*this) : 0.0;
      return world ? world->broadcast(v) : v;
    };
  hooks.keep_best = [&] {
    best_state.clear();
    for (const auto& p : params) best_state.push_back(p.detach().clone());
  };
  if (ckpt.enabled())
    hooks.after_epoch = [&](const train::EpochState& st) {
      if (lead) fed ? fed->save(ckpt, best_state, st) : central->save(ckpt, best_state, st);
      if (world) world->barrier();  // the checkpoint is complete before any rank moves on
    };
  if (dp) train::refuse_time_budget(options.time_budget_s, kind_);
  plan.time_budget_s = options.time_budget_s;
  // Ranks take rank 0's budget decision (their clocks differ); without a budget nothing to agree on.
  if (world && plan.time_budget_s > 0)
    hooks.agree = [&](bool over) { return world->broadcast(over ? 1.0 : 0.0) > 0.5; };
  train::run_epochs(plan, hooks, options.on_epoch, options.progress);
  if (!best_state.empty()) {
    torch::NoGradGuard g;
    for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(best_state[i]);
  }
  m.net->eval();
  m.snapshot_items();
  report_ = nlohmann::json::object();
  if (dp) config_["dp_noise"] = dp_plan->sigma;
  if (fed)
    report_ = fed->report();
  else if (dp)
    report_ = dp_plan->report();
  if (m.has_class_prior()) report_["category_prior"] = m.net->category->prior_report();
  if (world)
    report_["distributed"] = {{"world_size", world->world()},
                              {"backend", "gloo"},
                              {"batch", "global batch_size split between the ranks, gradients summed"}};
  // A private or federated release keeps no user slots (no user list in the model directory either):
  // the server never held the users' data.
  if (dp || federated) n_users_ = 1;
}

}  // namespace driftrec::nn
