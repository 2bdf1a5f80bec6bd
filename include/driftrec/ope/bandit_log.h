#pragma once
// Logged bandit feedback: one row per shown item (a round shows a slate; each of its positions is
// a row), as the Open Bandit Dataset stores it. Columns of the OBD CSV layout:
//   [index], timestamp, item_id, position, click, propensity_score, <context columns...>
// `position` is 1-based in the file and 0-based here; `propensity_score` is the logging policy's
// probability of showing `item_id` at `position` in that round and must lie in (0, 1]. Context
// columns are numeric features (e.g. OBD's user-item_affinity_*) or categorical ones (any value
// that is not a number, e.g. OBD's hashed user_feature_*), kept for reward models.
#include <cstdint>
#include <string>
#include <vector>

namespace driftrec::ope {

/// Rows stored column-wise: estimators stream over them at memory speed.
struct BanditLog {
  std::int32_t n_actions = 0;    ///< item ids are 0..n_actions-1 (set from the data or the caller)
  std::int32_t n_positions = 0;  ///< slate length
  std::vector<std::int32_t> action;
  std::vector<std::int32_t> position;
  std::vector<float> reward;           ///< click (0/1) or any bounded reward
  std::vector<double> pscore;          ///< logging propensity of (action, position) in that round
  std::vector<std::string> timestamp;  ///< as written in the file (empty when the log has none)

  /// Context: `categorical[c]` holds, per row, an id interned per column (names in
  /// `categorical_names`); `numeric[c]` the value of numeric column c.
  std::vector<std::string> categorical_names, numeric_names;
  std::vector<std::vector<std::int32_t>> categorical;
  std::vector<std::vector<float>> numeric;
  std::vector<std::vector<std::string>> categorical_values;  ///< per column: id -> original text

  std::size_t size() const { return action.size(); }
  /// Appends one row without context. Throws InvalidInput for an action or position out of
  /// range or a propensity outside (0, 1].
  void add(std::int32_t a, std::int32_t pos, float r, double p);
  /// Mean reward over the rows: the logging policy's on-policy value.
  double mean_reward() const;
};

/// Reads an Open Bandit Dataset CSV (header required, the leading index column optional).
/// `n_actions` 0 takes the largest item id + 1. Throws IoError when unreadable and ParseError
/// naming file, line, column name and number for a bad row: missing or extra fields, a
/// non-integer item or position, a click that is not a number, a propensity outside (0, 1].
BanditLog read_obd_csv(const std::string& path, std::int32_t n_actions = 0);

/// Writes `log` in the same layout (index, timestamp, item_id, position 1-based, click,
/// propensity_score, then the context columns). Throws IoError when the file cannot be written.
void write_obd_csv(const BanditLog& log, const std::string& path);

}  // namespace driftrec::ope
