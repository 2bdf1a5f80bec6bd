#pragma once
// Settings a sequential model's config may leave to the training data ("sizes read from the data"):
// max_len 0, loss / samples / repeat / seen_penalty "auto", prefix_stride 0, target_behaviors left
// empty. Each is written back into the config, so model.json says what was trained; a private fit
// refuses those read from the users' data outside the privacy accounting.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "driftrec/data/dataset.h"

namespace driftrec::nn {

/// loss=auto: the largest catalogue trained with the full softmax (softmax_max_items' default).
constexpr int64_t kAutoSoftmaxMaxItems = 16384;

/// loss=auto's chunk of the full softmax: kAutoSoftmaxChunk items (4,096) when the catalogue exceeds
/// one chunk and a batch's dense logits (`scored_rows` positions x `items`) would exceed 2^24 scores
/// (64 MB, each held again by its gradient), else 0, the logits at once (docs/design-notes.md,
/// "Training cost": streaming small logits only adds its autograd function's cost).
int64_t auto_softmax_chunk(int64_t items, int64_t scored_rows);

/// Resolves the settings above in `c` from `train` (logged, prefixed by `who`).
void resolve_data_settings(nlohmann::json& c, const data::Dataset& train, const std::string& who);

/// A private fit's settings must not come from the data outside the accounting: refuses max_len 0
/// (from the histories' lengths), popularity-based negatives (from the items' counts), repeat auto
/// (from how often users come back to items) and seen_penalty auto (from both). Throws InvalidInput.
void check_private_config(const nlohmann::json& c, const std::string& who);

}  // namespace driftrec::nn
