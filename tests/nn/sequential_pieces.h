#pragma once
// A sequential model's internals built from a config, for tests that drive batches and losses
// directly (prefix samples, the seen-item mask).
#include <string>
#include <vector>

#include "../../src/nn/batches.h"
#include "../../src/nn/side_tables.h"
#include "driftrec/nn/sequential.h"

namespace driftrec::test {

struct SequentialPieces {
  nlohmann::json c;
  nn::SequentialModel::Impl m;
  std::vector<char> is_target;
  /// `base` overridden by `extra`, resolved against the model's parameters; weights seeded by `seed`.
  SequentialPieces(const data::Dataset& train, const std::string& kind, nlohmann::json base,
                   const nlohmann::json& extra, std::uint64_t seed) {
    for (const auto& [k, v] : extra.items()) base[k] = v;
    c = nn::SequentialModel::params(kind).resolve(base);
    m.kind = kind;
    torch::manual_seed(seed);
    nn::configure_side_information(train, m, c, kind, "");
    is_target = nn::target_behaviors(train, "", "");
    m.build(c, train.n_items());
  }
};

}  // namespace driftrec::test
