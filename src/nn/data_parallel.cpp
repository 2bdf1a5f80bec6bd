#define USE_C10D_GLOO 1
#include "data_parallel.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "driftrec/core/error.h"
#include "driftrec/core/log.h"

namespace driftrec::nn {

DataParallel::DataParallel(const models::DistributedOptions& o) : rank_(o.rank), world_(o.world_size) {
  if (world_ < 1 || rank_ < 0 || rank_ >= world_)
    throw InvalidInput("distributed: rank " + std::to_string(rank_) + " outside a world of " + std::to_string(world_));
  if (o.master_port < 1 || o.master_port > 65535)
    throw InvalidInput("distributed: master port " + std::to_string(o.master_port) + " outside 1..65535");
  const auto timeout = std::chrono::milliseconds(1000L * std::max(1, o.timeout_seconds));
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(o.master_port);
    so.isServer = rank_ == 0;
    so.numWorkers = static_cast<std::size_t>(world_);
    so.timeout = timeout;
    store_ = c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
    opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store_, rank_, world_, opts);
  } catch (const c10::Error& e) {
    throw IoError("distributed: rank " + std::to_string(rank_) + " could not join the job at " + o.master_addr + ":" +
                  std::to_string(o.master_port) + ": " + e.what_without_backtrace());
  }
  log_info("distributed: rank " + std::to_string(rank_) + " of " + std::to_string(world_) + " joined (Gloo, " +
           o.master_addr + ":" + std::to_string(o.master_port) + ")");
}

DataParallel::~DataParallel() = default;

namespace {
/// Runs a collective; a peer that died or timed out becomes an IoError naming the step.
template <class Fn>
void collective(const char* what, int rank, Fn fn) {
  try {
    fn()->wait();
  } catch (const c10::Error& e) {
    throw IoError(std::string("distributed: ") + what + " failed on rank " + std::to_string(rank) +
                  " (a peer stopped or timed out): " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw IoError(std::string("distributed: ") + what + " failed on rank " + std::to_string(rank) + ": " + e.what());
  }
}
}  // namespace

std::vector<double> DataParallel::allreduce_gradients(const std::vector<torch::Tensor>& params,
                                                      const std::vector<double>& extra) {
  torch::NoGradGuard g;
  // One bucket, one allreduce: every gradient flattened, then the extras (counts and loss sums:
  // exact in float up to 2^24, far above a batch's target positions).
  std::vector<torch::Tensor> parts;
  for (const auto& p : params) {
    const auto& grad = p.grad();
    parts.push_back(grad.defined() ? (grad.is_sparse() ? grad.to_dense() : grad).reshape({-1}).to(torch::kFloat)
                                   : torch::zeros({p.numel()}, torch::kFloat));
  }
  parts.push_back(torch::tensor(extra, torch::kDouble).to(torch::kFloat));
  std::vector<at::Tensor> bucket{torch::cat(parts)};
  collective("gradient allreduce", rank_, [&] { return group_->allreduce(bucket); });
  int64_t at = 0;
  for (const auto& p : params) {
    const auto n = p.numel();
    auto q = p;  // the handle shares the parameter
    q.mutable_grad() = bucket[0].narrow(0, at, n).view(p.sizes()).to(p.scalar_type()).clone();
    at += n;
  }
  std::vector<double> out(extra.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = bucket[0][at + static_cast<int64_t>(i)].item<double>();
  return out;
}

double DataParallel::broadcast(double v) {
  std::vector<at::Tensor> t{torch::tensor({v}, torch::kDouble)};
  collective("broadcast", rank_, [&] { return group_->broadcast(t); });
  return t[0].item<double>();
}

void DataParallel::broadcast_parameters(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard g;
  std::vector<torch::Tensor> flat;
  for (const auto& p : params) flat.push_back(p.detach().reshape({-1}));
  std::vector<at::Tensor> t{torch::cat(flat)};
  collective("parameter broadcast", rank_, [&] { return group_->broadcast(t); });
  int64_t at = 0;
  for (const auto& p : params) {
    auto q = p;
    q.copy_(t[0].narrow(0, at, p.numel()).view(p.sizes()));
    at += p.numel();
  }
}

void DataParallel::barrier() {
  collective("barrier", rank_, [&] { return group_->barrier(); });
}

}  // namespace driftrec::nn
