#include "driftrec/models/evaluation.h"

#include "dense.h"
#include "driftrec/core/parallel.h"

namespace driftrec::models {

std::optional<std::int64_t> RequestTime::of(const data::EvalCase& c) const {
  switch (at) {
    case At::cutoff:
      return cutoff;
    case At::arrival:
      return c.target_ts;
    case At::none:
      break;
  }
  return std::nullopt;
}

eval::BatchScorer model_scorer(const Model& model, const data::Dataset& full, RequestTime when) {
  return [&model, &full, when](const data::EvalCase* const* cases, std::size_t n, float* out) {
    std::vector<std::int32_t> users(n);
    std::vector<std::vector<data::Event>> histories(n);
    for (std::size_t b = 0; b < n; ++b) {
      const auto& c = *cases[b];
      users[b] = c.user;
      histories[b] = full.log.events(full.log.user_begin(c.user), c.history_end);
    }
    auto states = model.encode_batch(users, histories);
    std::vector<const UserState*> ptrs;
    for (std::size_t b = 0; b < states.size(); ++b) {
      states[b].now = when.of(*cases[b]);
      ptrs.push_back(&states[b]);
    }
    model.score_batch(ptrs, out);
  };
}

eval::EvalResult evaluate_model(const Model& model, const data::Dataset& full, const std::vector<data::EvalCase>& cases,
                                const data::Dataset& train, const eval::EvalOptions& options,
                                const ProgressCallback& progress, RequestTime when) {
  const auto counts = data::item_counts(train.log, std::max(train.n_items(), model.n_items()));
  // Parallelism comes from the evaluator's threads: inside them LibTorch (encode) and BLAS (score)
  // run single-threaded, or N threads x N OpenMP threads oversubscribe the cores. The calling
  // thread takes part, and it may be the one that trains (validation inside fit): its count is put
  // back after each block.
  auto scorer = model_scorer(model, full, when);
  if (resolve_threads(options.threads) > 1)
    scorer = [inner = std::move(scorer)](const data::EvalCase* const* c, std::size_t n, float* out) {
      const dense::OneThreadHere one;
      inner(c, n, out);
    };
  return eval::evaluate(full, cases, model.n_items(), counts, train.users.count(), scorer, options, progress);
}

}  // namespace driftrec::models

#include <chrono>

namespace driftrec::models {

TrainReport fit_and_validate(Model& model, const data::Dataset& full, const data::Split& split, FitOptions options,
                             const eval::EvalOptions& eval_options, RequestTime when) {
  TrainReport rep;
  if (!split.valid.empty() && !options.validate) {
    eval::EvalOptions quick = eval_options;
    quick.ks = {10};
    quick.save_top = 0;
    quick.threads = options.threads;
    options.validate = [&full, &split, quick, when](const Model& m) {
      return evaluate_model(m, full, split.valid, split.train, quick, {}, when).metrics.at("ndcg@10");
    };
  }
  const auto t0 = std::chrono::steady_clock::now();
  model.fit(split.train, options);
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!split.valid.empty()) {
    eval::EvalOptions o = eval_options;
    o.threads = options.threads;
    rep.validation = evaluate_model(model, full, split.valid, split.train, o, {}, when);
  }
  return rep;
}

}  // namespace driftrec::models
