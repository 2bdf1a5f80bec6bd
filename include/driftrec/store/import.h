#pragma once
// Copies a dataset's events into an event store (`serve --import`, `driftrec store import`), in
// batches, each one atomic. Events of deleted users stamped before their deletion are dropped by
// the store, so an old file imported again cannot resurrect anyone.
#include <cstdint>

#include "driftrec/data/dataset.h"
#include "driftrec/store/event_store.h"

namespace driftrec::store {

struct ImportResult {
  std::int64_t stored = 0;
  std::int64_t deleted_users = 0;  ///< events dropped: their user was deleted after them
};

ImportResult import_dataset(EventStore& store, const data::Dataset& ds, std::size_t batch_size = 50000);

}  // namespace driftrec::store
