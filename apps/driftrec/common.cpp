#include "common.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "driftrec/core/config.h"
#include "driftrec/core/error.h"
#include "driftrec/models/registry.h"

namespace driftrec::cli {

void DataFlags::add_to(CLI::App& app, bool path_required, const std::string& path_flag) {
  if (!path_flag.empty()) {
    auto* opt = app.add_option(path_flag, path, "data file or directory (see --format)");
    if (path_required) opt->required();
  }
  auto formats = data::format_names();
  std::string listed = "auto";
  for (const auto& f : formats) listed += ", " + f;
  formats.insert(formats.begin(), "auto");
  app.add_option("--format", format, listed)->check(CLI::IsMember(formats));
  app.add_option("--user-col", user_col, "csv/tsv: column (name or 0-based index) holding the user id");
  app.add_option("--item-col", item_col, "csv/tsv: column holding the item id");
  app.add_option("--time-col", time_col, "csv/tsv: column holding the timestamp");
  app.add_option("--behavior-col", behavior_col, "csv/tsv: column holding the behaviour type");
  app.add_option("--value-col", value_col, "csv/tsv: column holding a rating/weight");
  app.add_option("--category-col", category_col, "csv/tsv: column holding item categories ('|'-separated)");
  app.add_option("--domain-col", domain_col, "csv/tsv: column holding the domain");
  app.add_option("--delimiter", delimiter, "csv/tsv: field delimiter (default: detected; 'tab' for a tab)");
  app.add_flag("--no-header", no_header, "csv/tsv: the first line is data (columns: user,item[,timestamp])");
  app.add_option("--on-error", on_error, "fail: stop at the first malformed row; skip: skip and count them")
      ->check(CLI::IsMember({"fail", "skip"}));
  app.add_option("--rejects", rejects, "with --on-error skip: file for rejected rows (default: rejects.tsv)");
  app.add_option(
      "--items", items,
      "item table (csv/tsv with item,category,title; RecBole .item; u.item; movies.dat; JSON item -> attribute list)");
}

data::ReadOptions DataFlags::read_options() const {
  data::ReadOptions o;
  o.format = format;
  o.columns = {user_col, item_col, time_col, behavior_col, value_col, category_col, domain_col};
  o.delimiter = data::parse_delimiter(delimiter);
  o.header = !no_header;
  o.on_error = on_error == "skip" ? data::OnError::kSkip : data::OnError::kFail;
  if (o.on_error == data::OnError::kSkip) o.rejects_path = rejects.empty() ? "rejects.tsv" : rejects;
  o.items_path = items;
  return o;
}

data::Dataset DataFlags::load() const {
  data::LoadReport rep;
  auto opts = read_options();
  if (!opts.rejects_path.empty()) std::remove(opts.rejects_path.c_str());  // a fresh rejects file per run
  auto ds = data::load_dataset(path, opts, &rep);
  log_info("loaded " + path + " (" + rep.format + "): " + std::to_string(rep.rows_loaded) + " events, " +
           std::to_string(ds.users.count()) + " users, " + std::to_string(ds.items.count()) + " items");
  if (rep.rows_rejected > 0)
    log_warn("skipped " + std::to_string(rep.rows_rejected) + " malformed row(s), written to " + rep.rejects_path +
             "; first: " + rep.first_errors.front());
  if (rep.item_rows_unmatched > 0)
    log_info("item table: " + std::to_string(rep.item_rows_unmatched) + " of " + std::to_string(rep.item_rows) +
             " rows name items without events (ignored)");
  return ds;
}

void PrepareFlags::add_to(CLI::App& app) {
  app.add_option("--split", options.split,
                 "loo (leave-one-out), temporal, or given (the data's own train/valid/test files, format given)")
      ->check(CLI::IsMember({"loo", "temporal", "given"}));
  app.add_option("--valid-start", options.valid_start,
                 "temporal: start of validation (quantile in [0,1], seconds or ISO date)");
  app.add_option("--test-start", options.test_start,
                 "temporal: start of test (quantile in [0,1], seconds or ISO date)");
  app.add_option("--valid-fraction", options.valid_fraction,
                 "given split without a validation file: hold out this share of each user's training items, "
                 "chosen at random, as validation cases (a refit trains on them again)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--valid-seed", options.valid_seed, "seed of the --valid-fraction hold-out");
  app.add_option("--targets", targets, "behaviours that count as targets, comma-separated (default: all)");
  app.add_option("--domains", domains, "keep only the events of these domains, comma-separated (default: all)");
  app.add_option("--target-domains", target_domains,
                 "only events of these domains are targets, and evaluation ranks only their items (default: all)");
  app.add_flag(
      "--new-items", options.new_items,
      "cold start (temporal split): targets are items new since the validation cutoff; only new items are ranked");
  app.add_flag("--refit", options.refit,
               "train on training + validation events (no validation cases; the test cases stay the same)");
  app.add_flag("--dedup", options.dedup, "drop consecutive duplicate events of a user");
  app.add_option("--min-user-events", options.min_user_events, "k-core: users need at least N events (0 = off)");
  app.add_option("--min-item-events", options.min_item_events, "k-core: items need at least N events (0 = off)");
}

const char* const kRerankSpecs =
    "calibrated:L[:H], calibrated_set:L[:H] (H: the history mix's half-life in events), mmr:L, longtail:SHARE, "
    "exposure:L or consumer:L, chained with '+' (strength in [0, 1]; docs/fairness.md)";

void RerankFlags::add_to(CLI::App& app, bool metrics) {
  if (metrics)
    app.add_flag("--fairness", fairness,
                 "also report fairness, calibration and diversity metrics (aplt, pop_rsp, pop_reo, miscalibration, "
                 "ild, the active-inactive ndcg gap)");
  app.add_option("--rerank", rerank, std::string("re-rank the model's top candidates: ") + kRerankSpecs);
  app.add_option("--rerank-depth", depth, "candidates the re-ranker chooses from")->check(CLI::PositiveNumber);
  add_group_flags(app, groups);
}

void add_group_flags(CLI::App& app, workflow::GroupOptions& groups) {
  app.add_option("--long-tail-items", groups.long_tail_file,
                 "long-tail item ids, one per line (default: items outside the top --head-share by training events)");
  app.add_option("--active-users", groups.active_file,
                 "active user ids, one per line (default: the top --active-share of users by history length)");
  app.add_option("--head-share", groups.head_share, "share of items in the short head")->check(CLI::Range(0.0, 1.0));
  app.add_option("--active-share", groups.active_share, "share of users counted as active")
      ->check(CLI::Range(0.0, 1.0));
}

data::PrepareOptions PrepareFlags::get() const {
  auto o = options;
  if (!targets.empty()) o.target_behaviors = split_commas(targets);
  if (!domains.empty()) o.domains = split_commas(domains);
  if (!target_domains.empty()) o.target_domains = split_commas(target_domains);
  return o;
}

bool PrepareFlags::any_given(const CLI::App& app, bool besides_refit) const {
  for (const char* f :
       {"--split", "--valid-start", "--test-start", "--valid-fraction", "--valid-seed", "--targets", "--domains",
        "--target-domains", "--new-items", "--refit", "--dedup", "--min-user-events", "--min-item-events"})
    if (app.count(f) > 0 && !(besides_refit && std::string(f) == "--refit")) return true;
  return false;
}

void ConfigFlags::add_to(CLI::App& app) {
  app.add_option("--config", files, "YAML file of model parameters (repeatable; later files win)");
  app.add_option("--set", sets, "override one parameter, key=value (repeatable; wins over files and environment)");
}

nlohmann::json ConfigFlags::overrides(const std::string& model_name) const {
  nlohmann::json merged = nlohmann::json::object();
  for (const auto& f : files) {
    auto j = load_config_file(f);
    // A config file may name its model; it must then match.
    if (j.contains("model")) {
      if (j["model"] != model_name)
        throw InvalidInput(f + ": written for model " + j["model"].dump() + ", not '" + model_name + "'");
      j.erase("model");
    }
    merged = merge_config(merged, j);
  }
  merged = merge_config(merged, models::model_params(model_name).from_environment());
  for (const auto& s : sets) {
    auto [k, v] = parse_set_option(s);
    merged[k] = v;
  }
  return merged;
}

ProgressCallback progress_printer() {
  const bool tty = isatty(fileno(stderr)) != 0;
  struct State {
    std::string stage;
    std::chrono::steady_clock::time_point last{};
    int last_decile = -1;
  };
  auto st = std::make_shared<State>();
  return [tty, st](const Progress& p) {
    const bool finished = p.total > 0 && p.done >= p.total;
    if (tty) {
      const int width = 30;
      const double frac = p.total ? static_cast<double>(p.done) / static_cast<double>(p.total) : 0.0;
      const int filled = static_cast<int>(frac * width);
      std::string bar(static_cast<std::size_t>(filled), '#');
      bar.resize(width, '-');
      if (p.total)
        std::fprintf(stderr, "\r\033[K%-16s [%s] %3d%% %zu/%zu %s", p.stage.c_str(), bar.c_str(),
                     static_cast<int>(frac * 100), p.done, p.total, p.message.c_str());
      else
        std::fprintf(stderr, "\r\033[K%-16s #%zu %s", p.stage.c_str(), p.done, p.message.c_str());
      if (finished) std::fprintf(stderr, "\n");
      std::fflush(stderr);
      return;
    }
    // Not a terminal: one line per epoch-like step (with a message), else every 10%.
    const int decile = p.total ? static_cast<int>(10 * p.done / p.total) : 0;
    if (p.stage != st->stage) st->last_decile = -1;
    st->stage = p.stage;
    if (!p.message.empty() || decile != st->last_decile) {
      st->last_decile = decile;
      // An open-ended step count (total 0, e.g. weight-search trials) prints as "#N".
      const std::string count =
          p.total ? std::to_string(p.done) + "/" + std::to_string(p.total) : "#" + std::to_string(p.done);
      log_info(p.stage + " " + count + (p.message.empty() ? "" : " " + p.message));
    }
  };
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::vector<int> parse_ks(const std::string& s) {
  std::vector<int> ks;
  for (const auto& t : split_commas(s)) {
    try {
      std::size_t used = 0;
      const int k = std::stoi(t, &used);
      if (used != t.size() || k < 1) throw std::invalid_argument(t);
      ks.push_back(k);
    } catch (const std::exception&) {
      throw InvalidInput("--k expects positive integers separated by commas, got '" + s + "'");
    }
  }
  if (ks.empty()) throw InvalidInput("--k needs at least one cut-off");
  return ks;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw IoError(path + ": cannot open for writing");
  out << text;
  if (!out.flush()) throw IoError(path + ": write failed");
}

SharedSplit load_shared_split(const std::vector<std::string>& dirs, const DataFlags& data_flags, const std::string& on,
                              const std::string& request_at) {
  return workflow::load_shared_split(
      dirs, [&data_flags] { return data_flags.load(); }, on,
      [&request_at](const data::PrepareOptions& prep) { workflow::check_request_at(prep, request_at); });
}

std::string truth_path(const std::string& flag, const DataFlags& data) {
  if (!flag.empty()) return flag;
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto beside = fs::path(data.path) / "interests.csv";
  if (fs::is_directory(data.path, ec) && fs::is_regular_file(beside, ec)) return beside.string();
  return "";
}

}  // namespace driftrec::cli
