#include "data_settings.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "batches.h"
#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "driftrec/nn/sequential.h"
#include "driftrec/privacy/dp_sgd_plan.h"
#include "side_tables.h"

namespace driftrec::nn {

namespace {

/// loss=auto (docs/design-notes.md, "Training cost"): the chunk the full softmax streams in (and
/// the catalogue size above which it does), and the shared uniform negatives of the sampled softmax
/// above softmax_max_items (kAutoSoftmaxMaxItems by default).
constexpr int64_t kAutoSoftmaxChunk = 4096;
constexpr int64_t kAutoNegatives = 4096;
/// loss=auto streams the full softmax only when a batch's dense logits hold more scores than this.
constexpr int64_t kAutoDenseLogits = int64_t{1} << 24;
/// repeat: auto turns the repeat head on from this share of training targets already in the history.
constexpr double kAutoRepeatShare = 0.05;
/// seen_penalty: auto (docs/design-notes.md, "Seen items as negatives"): this penalty where a training
/// position's window covers at least kAutoSeenCoverage of the catalogue on average (and users do not
/// come back to items: a repeat share under kAutoRepeatShare), else none.
constexpr double kAutoSeenPenalty = 2.0;
constexpr double kAutoSeenCoverage = 0.01;

/// `loss: auto`, the size rule of docs/design-notes.md ("Training cost"): the full softmax (exact;
/// streamed in chunks where a batch's logits are large, auto_softmax_chunk) up to softmax_max_items
/// items; above that the sampled softmax with kAutoNegatives uniform negatives shared by the batch
/// and the lazily updated item table, whose cost per step does not grow with the catalogue (on Beauty
/// within 1.5% of the full softmax's validation NDCG@10). Written back into the config, so
/// model.json says what was trained. Needs `samples` resolved: a prefix sample scores its last
/// prefix_stride positions, a whole sequence up to max_len.
void resolve_auto_loss(nlohmann::json& c, int64_t items, const std::string& who) {
  if (items <= c["softmax_max_items"].get<int64_t>()) {
    c["loss"] = "softmax";
    const bool prefixes = c["samples"] == "prefixes";  // targets: the last prefix_stride positions of a sample
    const int64_t rows = c["batch_size"].get<int64_t>() * (prefixes ? c["prefix_stride"] : c["max_len"]).get<int64_t>();
    if (c["softmax_chunk"].get<int64_t>() == 0) c["softmax_chunk"] = auto_softmax_chunk(items, rows);
  } else {
    c["loss"] = "sampled";
    c["sampling"] = "uniform";
    c["negatives"] = kAutoNegatives;
    c["sparse_items"] = true;
  }
  log_info(who + "loss " + c["loss"].get<std::string>() +
           (c["loss"] == "sampled" ? " (" + std::to_string(kAutoNegatives) + " uniform negatives, lazy item table)"
            : c["softmax_chunk"].get<int64_t>() > 0
                ? " (streamed in chunks of " + std::to_string(c["softmax_chunk"].get<int64_t>()) + " items)"
                : "") +
           " for " + std::to_string(items) + " items (loss: auto, full softmax up to " +
           std::to_string(c["softmax_max_items"].get<int64_t>()) + ")");
}

/// `samples: auto` (docs/design-notes.md, "Prefix samples"): whole sequences for private and
/// federated fits, which count users; otherwise prefix samples with their encoding cost bounded by
/// prefix_max_context events per target on average. With prefix_stride 0 the stride grows with the
/// windows (ceil(mean window / prefix_max_context)), so it is always prefixes; with a fixed stride,
/// prefixes while the mean window over that stride is within the bound, else whole sequences.
/// Written back into the config (samples, prefix_stride). `context`: the mean window of a training position.
void resolve_auto_samples(nlohmann::json& c, double context, const std::string& who) {
  const auto max_context = c["prefix_max_context"].get<int64_t>();
  const bool counted = privacy::wants_dp(c) || c["fed_rounds"].get<int64_t>() > 0;
  int64_t stride = c["prefix_stride"].get<int64_t>();
  if (stride == 0) stride = auto_prefix_stride(context, max_context);
  const bool prefixes = !counted && context / static_cast<double>(stride) <= static_cast<double>(max_context);
  c["samples"] = prefixes ? "prefixes" : "sequences";
  if (prefixes) c["prefix_stride"] = stride;
  log_info(who + "samples " + c["samples"].get<std::string>() +
           (prefixes ? " every " + std::to_string(stride) + " position(s)" : std::string()) +
           ": a training position's window holds " + std::to_string(context) +
           " events on average (samples: auto, at most " + std::to_string(max_context) + " encoded per target" +
           (counted ? "; private/federated: sequences" : "") + ")");
}

/// `seen_penalty: auto`: kAutoSeenPenalty when `window`, the mean window of a training position (events
/// before it, at most max_len), is at least kAutoSeenCoverage of the real items and the repeat share is under
/// kAutoRepeatShare; 0 otherwise, and 0 beside exclude_seen (the infinite penalty it already asks
/// for). Written back as the number.
void resolve_auto_seen_penalty(nlohmann::json& c, double window, int64_t items, double repeats,
                               const std::string& who) {
  if (c.value("exclude_seen", false)) {
    c["seen_penalty"] = 0.0;
    log_info(who + "seen_penalty 0: exclude_seen masks the seen items (seen_penalty: auto)");
    return;
  }
  const double coverage = window / static_cast<double>(std::max<int64_t>(1, items));
  const bool on = coverage >= kAutoSeenCoverage && repeats < kAutoRepeatShare;
  c["seen_penalty"] = on ? kAutoSeenPenalty : 0.0;
  std::ostringstream os;
  os << who << "seen_penalty " << c["seen_penalty"].get<double>() << ": a training position's window covers "
     << 100.0 * coverage << "% of the " << items << " items, " << 100.0 * repeats
     << "% of the training targets are repeats (seen_penalty: auto, " << kAutoSeenPenalty << " from "
     << 100.0 * kAutoSeenCoverage << "% coverage with under " << 100.0 * kAutoRepeatShare << "% repeats)";
  log_info(os.str());
}

}  // namespace

int64_t auto_softmax_chunk(int64_t items, int64_t scored_rows) {
  return items > kAutoSoftmaxChunk && items * scored_rows > kAutoDenseLogits ? kAutoSoftmaxChunk : 0;
}

int64_t auto_max_len(std::vector<int64_t> lengths) {
  if (lengths.empty()) return 50;
  std::sort(lengths.begin(), lengths.end());
  const auto k = static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(lengths.size()))) - 1;
  const int64_t p99 = lengths[std::min(k, lengths.size() - 1)];
  return std::clamp<int64_t>((p99 + 49) / 50 * 50, 50, 200);
}

void resolve_data_settings(nlohmann::json& c, const data::Dataset& train, const std::string& who) {
  // Training events of each user who has any (max_len 0, samples auto, prefix_stride 0, seen_penalty auto).
  std::vector<int64_t> lengths;
  const bool stride_from_data = c["samples"] == "prefixes" && c["prefix_stride"].get<int64_t>() == 0;
  const bool penalty_from_data = !seen_penalty_setting(c).has_value();
  if (c["max_len"].get<int64_t>() == 0 || c["samples"] == "auto" || stride_from_data || penalty_from_data)
    for (std::int32_t u = 1; u < train.n_users(); ++u)
      if (train.log.user_length(u) > 0) lengths.push_back(train.log.user_length(u));
  if (c["max_len"].get<int64_t>() == 0) {
    c["max_len"] = auto_max_len(lengths);
    log_info(who + "max_len " + std::to_string(c["max_len"].get<int64_t>()) + " from the data (" +
             std::to_string(lengths.size()) + " training histories)");
  }
  // The mean window of a training position (samples auto, prefix_stride 0, seen_penalty auto).
  const double window = mean_prefix_context(lengths, c["max_len"].get<int64_t>());
  if (c["target_behaviors"] == "" && !train.target_behaviors.empty()) {
    std::string names;
    for (const auto& b : train.target_behaviors) names += (names.empty() ? "" : ",") + b;
    c["target_behaviors"] = names;
    log_info(who + "target_behaviors " + names + " from the split's targets");
  }
  double share = -1;  // the repeat share, computed once for repeat and seen_penalty auto
  if (c["repeat"] == "auto" || penalty_from_data)
    share = repeat_share(train, target_behaviors(train, c["target_behaviors"], who));
  if (penalty_from_data) resolve_auto_seen_penalty(c, window, train.n_items() - 1, share, who);
  if (c["repeat"] == "auto") {
    c["repeat"] = share >= kAutoRepeatShare ? "true" : "false";
    std::ostringstream os;
    os << who << "repeat " << c["repeat"].get<std::string>() << ": " << 100.0 * share
       << "% of the training targets are items the user had before (repeat: auto, on from " << 100.0 * kAutoRepeatShare
       << "%)";
    log_info(os.str());
  }
  if (c["samples"] == "auto") resolve_auto_samples(c, window, who);
  if (stride_from_data) c["prefix_stride"] = auto_prefix_stride(window, c["prefix_max_context"].get<int64_t>());
  if (c["loss"] == "auto") resolve_auto_loss(c, train.n_items() - 1, who);  // after samples: the batch's rows
}

void check_private_config(const nlohmann::json& c, const std::string& who) {
  if (c["max_len"].get<int64_t>() == 0)
    throw InvalidInput(who +
                       "a private fit (dp_epsilon/dp_noise) needs a fixed max_len: max_len 0 would be chosen "
                       "from the users' history lengths, outside the privacy accounting");
  if (c["loss"] == "sampled" && c["sampling"] != "uniform")
    throw InvalidInput(who +
                       "a private fit needs sampling: uniform (popularity-based negatives come from the "
                       "training counts, outside the privacy accounting)");
  if (c["repeat"] == "auto")
    throw InvalidInput(who +
                       "a private fit needs repeat true or false: repeat auto would be chosen from how often the "
                       "users come back to items, outside the privacy accounting");
  if (!seen_penalty_setting(c))
    throw InvalidInput(who +
                       "a private fit needs a number for seen_penalty: seen_penalty auto would be chosen from the "
                       "users' history lengths and repeats, outside the privacy accounting");
}

}  // namespace driftrec::nn
