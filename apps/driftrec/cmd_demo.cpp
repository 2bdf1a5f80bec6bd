// The main job: generate drifting e-commerce behaviour, train every classic model, compare them on
// a leave-one-out split, then show one user's recommendations moving as new events arrive
// (workflow::run_demo; this file parses and prints).
#include <algorithm>
#include <iomanip>
#include <iostream>

#include "commands.h"
#include "common.h"
#include "driftrec/workflow/demo.h"

namespace driftrec::cli {

namespace {

std::string category_name(const data::Dataset& ds, std::int32_t c) {
  return c >= 0 ? ds.item_table.categories.name(c) : "?";
}

std::string category_of(const data::Dataset& ds, std::int32_t item) {
  return category_name(ds, ds.item_table.primary_category(item));
}

void print_list(const data::Dataset& ds, const TopK& top, std::size_t n) {
  for (std::size_t r = 0; r < std::min(n, top.size()); ++r)
    std::cout << "    " << r + 1 << ". " << std::left << std::setw(7) << ds.items.name(top.items[r]) << std::right
              << " category " << std::left << std::setw(4) << category_of(ds, top.items[r]) << std::right << " score "
              << std::fixed << std::setprecision(3) << top.scores[r] << "\n";
}

void print_row(const workflow::DemoRow& r) {
  const auto& m = r.metrics;
  std::cout << std::left << std::setw(10) << r.model << std::right << std::fixed << std::setprecision(4) << std::setw(9)
            << m.at("hr@10").get<double>() << std::setw(10) << m.at("ndcg@10").get<double>() << std::setw(9)
            << m.at("mrr").get<double>() << std::setw(12) << m.at("coverage@10").get<double>() << std::setw(10)
            << std::setprecision(2) << r.training_seconds << "\n";
}

void print_live(const data::Dataset& ds, const workflow::LiveUpdate& live) {
  std::cout << "\nLive update with " << live.model << " for user " << ds.users.name(live.user) << " ("
            << live.history_length << " past events; favourite categories:";
  for (const auto& [cat, n] : live.favourites) std::cout << " " << category_name(ds, cat) << " x" << n;
  std::cout << ")\n  top-5 now:\n";
  print_list(ds, live.before, 5);
  std::cout << "  new events: the user views";
  for (auto i : live.viewed) std::cout << " " << ds.items.name(i);
  const auto cat = category_name(ds, live.new_category);
  std::cout << " (category " << cat << ")\n  top-5 right after (no retraining):\n";
  print_list(ds, live.after, 5);
  std::cout << "  share of category " << cat << " in the top-10: " << std::setprecision(0) << 100 * live.share_before
            << "% -> " << 100 * live.share_after << "%\n";
  if (live.why.empty()) return;
  std::cout << "  why " << ds.items.name(live.after.items[0]) << "? the past events that drove it most:\n";
  for (std::size_t a = 0; a < std::min<std::size_t>(3, live.why.size()); ++a)
    std::cout << "    " << ds.items.name(live.why[a].item) << " (category " << category_of(ds, live.why[a].item)
              << ") weight " << std::setprecision(3) << live.why[a].weight << "\n";
}

}  // namespace

Runner add_demo(CLI::App& app, const GlobalFlags& g) {
  struct Opts {
    workflow::DemoOptions demo;
    std::string json_out;
    std::string models = "pop,itemknn,bpr,ials";
    ConfigFlags config;
  };
  auto o = std::make_shared<Opts>();
  auto& synth = o->demo.synth;
  synth.users = 2000;
  synth.items = 1500;
  synth.seed = 7;
  app.add_option("--users", synth.users, "synthetic users")->check(CLI::PositiveNumber);
  app.add_option("--items", synth.items, "synthetic items")->check(CLI::Range(10, 10000000));
  app.add_option("--seed", synth.seed, "seed for data and models");
  app.add_option("--models", o->models, "models to compare, comma-separated");
  app.add_option("--out", o->demo.data_out, "also write the synthetic data to this directory");
  app.add_option("--json", o->json_out, "write the comparison as JSON");
  return [o, &g]() {
    auto& d = o->demo;
    std::cout << "DriftRec demo: synthetic e-commerce users whose interests drift (seed " << d.synth.seed << ")\n";
    d.models = split_commas(o->models);
    d.threads = g.threads;
    d.config = [o](const std::string& name) { return o->config.overrides(name); };
    d.on_prepared = [](const data::Prepared& p) {
      std::cout << "  " << p.full.users.count() << " users, " << p.full.items.count() << " items, " << p.full.log.size()
                << " events; leave-one-out: " << p.split.test.size()
                << " test users, full ranking, seen items excluded\n\n"
                << std::left << std::setw(10) << "model" << std::right << std::setw(9) << "HR@10" << std::setw(10)
                << "NDCG@10" << std::setw(9) << "MRR" << std::setw(12) << "coverage" << std::setw(10) << "train s"
                << "\n";
    };
    d.on_row = print_row;
    const auto demo = workflow::run_demo(d);
    if (!o->json_out.empty())
      write_file(o->json_out, demo.to_json().dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    print_live(demo.prepared.full, demo.live);
    return 0;
  };
}

}  // namespace driftrec::cli
