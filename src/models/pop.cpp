#include <algorithm>
#include <cmath>

#include "driftrec/core/error.h"
#include "driftrec/models/classic.h"
#include "driftrec/models/weights_io.h"

namespace driftrec::models {

const ParamSet& PopularityModel::params() {
  static const ParamSet p(
      "pop",
      {
          float_param("window_days", 0.0, "count only events in the last N days of training (0 = all time)", 0.0),
      });
  return p;
}

PopularityModel::PopularityModel(const nlohmann::json& config) : Model(params().resolve(config)) {}

void PopularityModel::fit(const data::Dataset& train, const FitOptions& options) {
  if (train.log.size() == 0) throw InvalidInput("pop: no training events");
  const double window = config_["window_days"].get<double>();
  if (window > 0 && !train.has_clock)
    throw InvalidInput("pop: window_days needs real timestamps, but this dataset only has event order");
  n_items_ = train.n_items();
  n_users_ = train.n_users();
  counts_.assign(static_cast<std::size_t>(n_items_), 0.0f);
  const auto t_max = *std::max_element(train.log.ts.begin(), train.log.ts.end());
  const auto t_min = window > 0 ? t_max - static_cast<std::int64_t>(window * 86400.0) : INT64_MIN;
  for (std::size_t r = 0; r < train.log.size(); ++r)
    if (train.log.ts[r] > t_min) counts_[static_cast<std::size_t>(train.log.item[r])] += 1.0f;
  if (options.progress) options.progress({"train pop", 1, 1, ""});
}

void PopularityModel::score(const UserState&, float* out) const {
  require_fitted();
  std::copy(counts_.begin(), counts_.end(), out);
  mask_padding(out);
}

void PopularityModel::save_weights(const std::string& path) const {
  require_fitted();
  WeightsWriter w;
  w.add_f32("counts", counts_, {counts_.size()});
  w.add_i64("n_users", {n_users_}, {1});
  w.write(path);
}

void PopularityModel::load_weights(const std::string& path) {
  WeightsReader r(path);
  const auto shape = r.shape("counts");
  if (shape.size() != 1 || shape[0] < 1) throw CorruptModel(path + ": 'counts' must be a non-empty vector");
  counts_ = r.f32("counts", shape);
  n_items_ = static_cast<std::int32_t>(shape[0]);
  n_users_ = static_cast<std::int32_t>(r.i64("n_users", {1})[0]);
}

}  // namespace driftrec::models
