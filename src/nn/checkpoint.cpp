#include "checkpoint.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "driftrec/core/error.h"

namespace driftrec::nn {

void Checkpoint::save(SeqEncoder& net, torch::optim::Optimizer& opt, const std::vector<torch::Tensor>& best,
                      const State& st, const LazyAdam* item_opt, const std::vector<torch::Tensor>* average) const {
  namespace fs = std::filesystem;
  const fs::path tmp = dir_ + ".tmp";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  try {
    torch::serialize::OutputArchive a;
    net.save(a);
    a.save_to((tmp / "net.pt").string());
    torch::save(opt, (tmp / "optimizer.pt").string());
    torch::save(best, (tmp / "best.pt").string());
    if (item_opt) torch::save(item_opt->state(), (tmp / "item_optimizer.pt").string());
    if (average) torch::save(*average, (tmp / "average.pt").string());
  } catch (const c10::Error& e) {
    throw IoError(dir_ + ": cannot write checkpoint: " + e.what_without_backtrace());
  }
  std::ofstream(tmp / "state.json") << nlohmann::json{
      {"epoch", st.epoch},
      {"best", st.best},
      {"bad", st.bad},
      {"step", st.step},
      {"stopped", st.stopped}}.dump();
  fs::remove_all(dir_);
  fs::rename(tmp, dir_);
}

Checkpoint::State Checkpoint::load(SeqEncoder& net, torch::optim::Optimizer& opt, std::vector<torch::Tensor>& best,
                                   LazyAdam* item_opt, std::vector<torch::Tensor>* average) const {
  namespace fs = std::filesystem;
  std::ifstream in(fs::path(dir_) / "state.json");
  if (!in) throw NotFound(dir_ + ": no checkpoint to resume from");
  State st;
  try {
    const auto j = nlohmann::json::parse(in);
    st = {j.at("epoch").get<int>(), j.at("best").get<double>(), j.at("bad").get<int>(), j.at("step").get<int64_t>(),
          j.at("stopped").get<bool>()};
    torch::serialize::InputArchive a;
    a.load_from((fs::path(dir_) / "net.pt").string());
    net.load(a);
    torch::load(opt, (fs::path(dir_) / "optimizer.pt").string());
    torch::load(best, (fs::path(dir_) / "best.pt").string());
    if (item_opt) {
      std::vector<torch::Tensor> state;
      torch::load(state, (fs::path(dir_) / "item_optimizer.pt").string());
      item_opt->load_state(state);
    }
    if (average) {
      std::vector<torch::Tensor> loaded;
      torch::load(loaded, (fs::path(dir_) / "average.pt").string());
      if (loaded.size() != average->size()) throw CorruptModel(dir_ + "/average.pt: does not fit the model");
      torch::NoGradGuard g;
      for (std::size_t i = 0; i < loaded.size(); ++i) (*average)[i].copy_(loaded[i]);
    }
  } catch (const nlohmann::json::exception& e) {
    throw CorruptModel(dir_ + "/state.json: " + e.what());
  } catch (const c10::Error& e) {
    throw CorruptModel(
        dir_ + ": cannot read checkpoint (was it written with other parameters?): " + e.what_without_backtrace());
  }
  return st;
}

}  // namespace driftrec::nn
