#pragma once
// Declared parameters. Each parameter is declared once (name, type, default, check,
// description); a ParamSet resolves layered overrides into an effective config:
//   defaults < config files (YAML) < DRIFTREC_<NAME> environment < --set key=value.
// The effective config is a flat JSON object saved in every model directory and results file.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace driftrec {

enum class ParamType { kInt, kFloat, kBool, kString };

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kFloat;
  nlohmann::json default_value;
  std::string description;
  std::optional<double> min;  ///< inclusive lower bound for numbers
  std::optional<double> max;  ///< inclusive upper bound for numbers
  /// Strings: the allowed values (empty = any). Numbers: words accepted besides a number (e.g.
  /// "auto", a setting the model reads from the data), kept as strings; other text is refused.
  std::vector<std::string> choices;
};

/// Helpers to declare parameters tersely.
ParamSpec int_param(std::string name, long long def, std::string description, std::optional<double> min = std::nullopt,
                    std::optional<double> max = std::nullopt);
ParamSpec float_param(std::string name, double def, std::string description, std::optional<double> min = std::nullopt,
                      std::optional<double> max = std::nullopt);
/// A number in [min, max] or one of `words` (e.g. {"auto"}); the default may be either.
ParamSpec float_or_word_param(std::string name, nlohmann::json def, std::string description,
                              std::vector<std::string> words, std::optional<double> min = std::nullopt,
                              std::optional<double> max = std::nullopt);
ParamSpec bool_param(std::string name, bool def, std::string description);
ParamSpec string_param(std::string name, std::string def, std::string description,
                       std::vector<std::string> choices = {});

class ParamSet {
 public:
  ParamSet() = default;
  ParamSet(std::string owner, std::vector<ParamSpec> specs);
  const std::vector<ParamSpec>& specs() const { return specs_; }
  const ParamSpec* find(const std::string& name) const;

  /// Applies `overrides` (a flat JSON object) on top of the defaults, coercing strings given on
  /// the command line ("64", "true") to the declared type. Throws InvalidInput naming the owner
  /// and parameter for unknown keys, wrong types and out-of-range values.
  nlohmann::json resolve(const nlohmann::json& overrides) const;

  /// DRIFTREC_<UPPER_NAME> variables for the declared parameters, as a flat JSON object.
  nlohmann::json from_environment() const;

  /// One line per parameter: name, type, default, range, description (for --help texts/docs).
  std::string describe() const;

 private:
  std::string owner_;
  std::vector<ParamSpec> specs_;
};

/// Reads a YAML file holding a flat mapping (nested mappings are flattened with '.').
/// Throws IoError when it cannot be read and InvalidInput when it is not a mapping.
nlohmann::json load_config_file(const std::string& path);

/// Parses "key=value" (value read as a YAML scalar: 64, 0.1, true, text). Throws InvalidInput.
std::pair<std::string, nlohmann::json> parse_set_option(const std::string& key_value);

/// Layers b over a (flat objects; later wins).
nlohmann::json merge_config(nlohmann::json a, const nlohmann::json& b);

}  // namespace driftrec
