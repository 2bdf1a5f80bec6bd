#include <iomanip>
#include <iostream>
#include <memory>
#include <thread>

#include "commands.h"
#include "common.h"
#include "driftrec/core/error.h"
#include "driftrec/core/free_port.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/workflow/train.h"
#include "workers.h"

namespace driftrec::cli {

namespace {

struct Opts {
  DataFlags data;
  PrepareFlags prep;
  ConfigFlags config;
  std::string model, out;
  std::uint64_t seed = 42;
  bool no_validation = false;
  std::string checkpoint_dir;
  double time_budget = 0.0;
  bool resume = false;
  bool include_seen = false;
  bool skip_repeats = false;
  std::string refit_from;
  std::string objective = "ndcg@10", request_at = "none";
  int nproc = 1, rank = -1, world_size = 0, master_port = 0;
  std::string master_addr;
};

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  try {
    return std::stoi(v);
  } catch (const std::exception&) {
    throw InvalidInput(std::string("environment ") + name + "='" + v + "' is not a number");
  }
}

/// The job this process belongs to: the flags, else torchrun's environment (RANK, WORLD_SIZE,
/// MASTER_ADDR, MASTER_PORT), else a single process.
models::DistributedOptions distributed_options(const Opts& o) {
  models::DistributedOptions d;
  d.world_size = o.world_size > 0 ? o.world_size : env_int("WORLD_SIZE", 1);
  d.rank = o.rank >= 0 ? o.rank : env_int("RANK", 0);
  const char* addr = std::getenv("MASTER_ADDR");
  d.master_addr = !o.master_addr.empty() ? o.master_addr : addr && *addr ? addr : "127.0.0.1";
  d.master_port = o.master_port > 0 ? o.master_port : env_int("MASTER_PORT", 29500);
  if (d.rank >= d.world_size)
    throw InvalidInput("train: --rank " + std::to_string(d.rank) + " outside --world-size " +
                       std::to_string(d.world_size));
  return d;
}

/// train --nproc N: this command line again as ranks 0..N-1 on a free local port (the kernel's
/// pick, not a random one that may be taken), the threads
/// shared out; a rank that fails stops the others and fails the job.
int launch_ranks(const Opts& o, const GlobalFlags& g) {
  if (o.rank >= 0 || o.world_size > 0) throw InvalidInput("train: give --nproc, or --rank with --world-size, not both");
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = std::max(1, (g.threads > 0 ? g.threads : cores) / o.nproc);
  const int port = o.master_port > 0 ? o.master_port : free_local_port();
  std::vector<pid_t> ranks;
  for (int r = 0; r < o.nproc; ++r)
    ranks.push_back(spawn_worker(
        threads, g.argv,
        {"--rank", std::to_string(r), "--world-size", std::to_string(o.nproc), "--master-port", std::to_string(port)},
        {"--nproc", "--master-port"}));
  wait_workers_or_stop(ranks, "train --nproc: rank");
  return 0;
}

}  // namespace

Runner add_train(CLI::App& app, const GlobalFlags& g) {
  auto o = std::make_shared<Opts>();
  o->data.add_to(app, true);
  o->prep.add_to(app);
  app.add_option("--model", o->model, "model name (see `driftrec models`; required unless --refit-from)");
  o->config.add_to(app);
  app.add_option("--out", o->out, "model directory to write")->required();
  app.add_option("--seed", o->seed, "random seed");
  app.add_flag("--no-validation", o->no_validation, "skip early stopping and validation metrics");
  app.add_option("--checkpoint-dir", o->checkpoint_dir, "LibTorch models: write a checkpoint here after every epoch");
  app.add_flag("--resume", o->resume, "continue from the checkpoint in --checkpoint-dir");
  app.add_option("--time-budget", o->time_budget,
                 "seconds of training: stop after the first epoch that ends past it, keeping the best validated "
                 "weights (iterative models; 0 = none)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--include-seen", o->include_seen,
               "validation ranks items the user already interacted with too (e.g. buys after views)");
  app.add_flag("--skip-repeats", o->skip_repeats,
               "validation scores only targets new to the user (as evaluate --skip-repeats): early stopping "
               "selects for discovery");
  app.add_option("--objective", o->objective,
                 "validation metric early stopping maximises: hr@K, recall@K, precision@K, ndcg@K, map@K or mrr");
  app.add_option("--request-at", o->request_at,
                 "when the validation lists (early stopping's) are asked for, which a model with request_time reads: "
                 "none (default), cutoff (the validation period's first timestamp, temporal splits) or arrival "
                 "(each case's first target); as evaluate --request-at")
      ->check(CLI::IsMember({"none", "cutoff", "arrival"}));
  app.add_option("--refit-from", o->refit_from,
                 "retrain the model in this directory (same model, parameters, seed and split) on training + "
                 "validation events, for its best validation epoch count; --config/--set still override");
  app.add_option("--nproc", o->nproc,
                 "data-parallel training on N local processes (LibTorch sequential models, Gloo; --threads is "
                 "shared out between them)")
      ->check(CLI::Range(1, 256));
  app.add_option("--rank", o->rank, "this process's rank in a data-parallel job (default: $RANK, else 0)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--world-size", o->world_size, "processes in the data-parallel job (default: $WORLD_SIZE, else 1)")
      ->check(CLI::Range(1, 65536));
  app.add_option("--master-addr", o->master_addr, "rank 0's address (default: $MASTER_ADDR, else 127.0.0.1)");
  app.add_option("--master-port", o->master_port, "rank 0's rendezvous port (default: $MASTER_PORT, else 29500)")
      ->check(CLI::Range(1, 65535));
  return [o, &g, &app]() {
    if (o->nproc > 1) return launch_ranks(*o, g);
    workflow::TrainOptions to;
    to.distributed = distributed_options(*o);
    const int rank = to.distributed.rank;
    to.model = o->model;
    to.refit_from = o->refit_from;
    if (!o->refit_from.empty() && o->prep.any_given(app))
      throw InvalidInput("--refit-from takes the preprocessing and split of " + o->refit_from +
                         "; leave out the split and filter flags");
    if (to.refit_from.empty() && to.model.empty())
      throw InvalidInput("train: --model is required (or --refit-from a model directory)");
    // The model's name decides which DRIFTREC_<NAME> environment applies.
    const std::string name =
        to.model.empty() ? models::read_model_meta(o->refit_from).value("model", std::string()) : to.model;
    to.config = o->config.overrides(name);
    to.prepare = o->prep.get();
    if (to.refit_from.empty() || app.count("--seed") > 0) to.seed = o->seed;
    to.threads = g.threads;
    to.validate = !o->no_validation;
    to.include_seen = o->include_seen;
    to.skip_repeats = o->skip_repeats;
    to.objective = o->objective;
    to.request_at = o->request_at;
    to.checkpoint_dir = o->checkpoint_dir;
    to.resume = o->resume;
    to.time_budget_s = o->time_budget;
    to.progress = progress_printer();
    workflow::check_train_options(to);  // a bad parameter is refused before a large log is read
    const auto trained = workflow::train_model(o->data.load(), std::move(to));
    if (rank > 0) {  // every rank holds the same model; rank 0 writes it
      std::cout << "rank " << rank << " done\n";
      return 0;
    }
    trained.save(o->out);
    const auto& model = *trained.loaded.model;
    std::cout << "saved " << model.name() << " to " << o->out << " (trained in " << std::fixed << std::setprecision(2)
              << trained.seconds << " s)\n";
    const auto& v = trained.validation.metrics;
    if (!v.empty())
      std::cout << "validation: hr@10 " << std::setprecision(4) << v.at("hr@10") << ", ndcg@10 " << v.at("ndcg@10")
                << ", mrr " << v.at("mrr") << "\n";
    return 0;
  };
}

}  // namespace driftrec::cli
