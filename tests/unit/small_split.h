#pragma once
// A small synthetic dataset with its leave-one-out split, and a model's test NDCG@10 on it (shared
// by the private and federated training tests).
#include <cstdint>

#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/evaluation.h"

namespace driftrec::test {

struct SmallSplit {
  data::Dataset full;
  data::Split split;
  SmallSplit(int users, int items, int categories, std::uint64_t seed) {
    data::SynthOptions so;
    so.users = users;
    so.items = items;
    so.categories = categories;
    so.seed = seed;
    full = data::to_dataset(data::generate_synthetic(so));
    split = data::leave_one_out(full);
  }
  double test_ndcg(const models::Model& m) const {
    return models::evaluate_model(m, full, split.test, split.train).metrics.at("ndcg@10");
  }
};

}  // namespace driftrec::test
