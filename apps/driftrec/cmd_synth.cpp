#include <iostream>

#include "commands.h"
#include "driftrec/core/log.h"
#include "driftrec/data/stats.h"
#include "driftrec/data/synth.h"

namespace driftrec::cli {

Runner add_synth(CLI::App& app, const GlobalFlags&) {
  auto o = std::make_shared<data::SynthOptions>();
  auto out = std::make_shared<std::string>();
  app.add_option("--preset", o->preset, "ecommerce, news or crossdomain")
      ->check(CLI::IsMember({"ecommerce", "news", "crossdomain"}));
  app.add_option("--users", o->users, "number of users")->check(CLI::PositiveNumber);
  app.add_option("--items", o->items, "number of items")->check(CLI::Range(2, 100000000));
  app.add_option("--categories", o->categories, "item categories (0 = preset default)")->check(CLI::NonNegativeNumber);
  app.add_option("--seed", o->seed, "random seed (same seed, same files)");
  app.add_option("--events-per-user", o->mean_events, "mean events per user")->check(CLI::Range(2.0, 1e6));
  app.add_option("--shift-rate", o->shift_rate, "probability per session of a sudden interest shift")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--drift", o->drift, "per-session step of gradual interest drift")->check(CLI::Range(0.0, 1.0));
  app.add_option("--correlation", o->correlation, "crossdomain: correlation of the two domains' interests")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--zipf", o->zipf, "popularity exponent within a category (0 = every item equally likely)")
      ->check(CLI::Range(0.0, 10.0));
  app.add_option("--days", o->days, "length of the simulated period in days")->check(CLI::PositiveNumber);
  app.add_option("--out", *out, "output directory (events.csv, items.csv, interests.csv)")->required();
  return [o, out]() {
    const auto d = data::generate_synthetic(*o);
    data::write_synthetic(d, *out);
    const auto ds = data::to_dataset(d);
    log_info("wrote " + *out + "/events.csv, items.csv, interests.csv");
    std::cout << data::format_stats(data::dataset_stats(ds));
    return 0;
  };
}

}  // namespace driftrec::cli
