#include <iostream>

#include "commands.h"
#include "common.h"
#include "driftrec/data/stats.h"

namespace driftrec::cli {

Runner add_data_inspect(CLI::App& app, const GlobalFlags&) {
  auto flags = std::make_shared<DataFlags>();
  auto json = std::make_shared<bool>(false);
  app.add_option("path", flags->path, "data file or directory")->required();
  flags->add_to(app, false, "");
  app.add_flag("--json", *json, "print JSON instead of text");
  return [flags, json]() {
    data::LoadReport rep;
    auto opts = flags->read_options();
    const auto ds = data::load_dataset(flags->path, opts, &rep);
    auto stats = data::dataset_stats(ds);
    stats["load"] = {{"format", rep.format},
                     {"files", rep.files},
                     {"rows_read", rep.rows_read},
                     {"rows_loaded", rep.rows_loaded},
                     {"rows_rejected", rep.rows_rejected},
                     {"rejects_file", rep.rejects_path},
                     {"item_rows", rep.item_rows},
                     {"item_rows_unmatched", rep.item_rows_unmatched}};
    if (*json) {
      std::cout << stats.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      std::cout << "format         " << rep.format << "\n" << data::format_stats(stats);
      if (rep.rows_rejected > 0)
        std::cout << "rejected rows  " << rep.rows_rejected << " (written to " << rep.rejects_path << ")\n";
    }
    return 0;
  };
}

}  // namespace driftrec::cli
