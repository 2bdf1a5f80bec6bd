#include "driftrec/train/epoch_record.h"

#include "driftrec/core/error.h"

namespace driftrec::train {

nlohmann::json EpochRecord::to_json() const {
  nlohmann::json j = {{"epoch", epoch}, {"seconds", seconds}};
  if (has_loss()) j["loss"] = loss;
  if (validated()) j["valid"] = valid;
  if (best) j["best"] = true;
  if (early_stop) j["early_stop"] = true;
  if (out_of_time) j["out_of_time"] = true;
  return j;
}

EpochRecord EpochRecord::from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("epoch") || !j["epoch"].is_number_integer())
    throw InvalidInput("history entry without an integer 'epoch': " + j.dump());
  EpochRecord r;
  r.epoch = j["epoch"].get<int>();
  auto number = [&j](const char* key, double fallback) {
    return j.contains(key) && j[key].is_number() ? j[key].get<double>() : fallback;
  };
  r.loss = number("loss", kNone);
  r.valid = number("valid", kNone);
  r.seconds = number("seconds", 0.0);
  r.best = j.value("best", false);
  r.early_stop = j.value("early_stop", false);
  r.out_of_time = j.value("out_of_time", false);
  return r;
}

std::string EpochRecord::message() const {
  std::string msg;
  auto add = [&msg](const std::string& part) { msg += (msg.empty() ? "" : " ") + part; };
  if (has_loss()) add("loss=" + std::to_string(loss));
  add("seconds=" + std::to_string(seconds));
  if (validated()) add("valid=" + std::to_string(valid));
  if (out_of_time)
    add("(time budget)");
  else if (early_stop)
    add("(early stop)");
  return msg;
}

nlohmann::json history_json(const std::vector<EpochRecord>& history) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : history) out.push_back(r.to_json());
  return out;
}

int best_validated_epoch(const std::vector<EpochRecord>& history) {
  // The run's own decision when recorded (it follows min_delta): the last check it kept.
  int kept = 0;
  for (const auto& r : history)
    if (r.validated() && r.best) kept = r.epoch;
  if (kept > 0) return kept;
  // Histories written before the flag: the best check (the first of equals), the rule of min_delta 0.
  int best = 0;
  double best_v = 0.0;
  for (const auto& r : history)
    if (r.validated() && (best == 0 || r.valid > best_v)) {
      best = r.epoch;
      best_v = r.valid;
    }
  return best;
}

}  // namespace driftrec::train
