// driftrec export-feedback: recorded feedback as an Open Bandit CSV (flags -> one library call ->
// write), for `driftrec ope`.
#include <cstdio>

#include "commands.h"
#include "driftrec/core/log.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/serve/feedback_log.h"

namespace driftrec::cli {

Runner add_export_feedback(CLI::App& app, const GlobalFlags&) {
  struct Flags {
    std::string store, model, out, reward = "click";
  };
  auto f = std::make_shared<Flags>();
  app.add_option("--store", f->store, "event store URL the server recorded into (sqlite://PATH or postgresql://...)")
      ->required();
  app.add_option("--model", f->model, "model directory whose item ids become the log's item_id")->required();
  app.add_option("--out", f->out, "CSV to write (Open Bandit layout)")->required();
  app.add_option("--reward", f->reward, "click or buy")->check(CLI::IsMember({"click", "buy"}));
  return [f]() {
    models::read_model_meta(f->model);  // a model directory, not any folder
    const auto items = data::IdMap::load_tsv(f->model + "/items.tsv");
    const auto store = store::open_event_store(f->store);
    const auto e = serve::feedback_log(*store, items, f->reward);
    ope::write_obd_csv(e.log, f->out);
    std::printf("%zu feedback rows written to %s (%zu with items the model does not know skipped)\n", e.log.size(),
                f->out.c_str(), e.skipped_items);
    return 0;
  };
}

}  // namespace driftrec::cli
