#include "driftrec/store/import.h"

#include "driftrec/core/error.h"

namespace driftrec::store {

ImportResult import_dataset(EventStore& store, const data::Dataset& ds, std::size_t batch_size) {
  if (batch_size == 0) throw InvalidInput("import: batch_size must be >= 1");
  ImportResult out;
  std::vector<StoredEvent> batch;
  const auto flush = [&] {
    for (const auto seq : store.append(batch)) (seq > 0 ? out.stored : out.deleted_users) += 1;
    batch.clear();
  };
  for (std::size_t r = 0; r < ds.log.size(); ++r) {
    StoredEvent e;
    e.user = ds.users.name(ds.log.user[r]);
    e.item = ds.items.name(ds.log.item[r]);
    e.ts = ds.log.ts[r];
    e.behavior = ds.log.behavior[r] == 0 ? "" : ds.behaviors.name(ds.log.behavior[r]);
    e.value = ds.log.value[r];
    e.domain = ds.log.domain[r] == 0 ? "" : ds.domains.name(ds.log.domain[r]);
    batch.push_back(std::move(e));
    if (batch.size() == batch_size) flush();
  }
  if (!batch.empty()) flush();
  return out;
}

}  // namespace driftrec::store
