#include "driftrec/core/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "driftrec/core/error.h"

namespace driftrec {

ParamSpec int_param(std::string name, long long def, std::string description, std::optional<double> min,
                    std::optional<double> max) {
  return ParamSpec{std::move(name), ParamType::kInt, def, std::move(description), min, max, {}};
}
ParamSpec float_param(std::string name, double def, std::string description, std::optional<double> min,
                      std::optional<double> max) {
  return ParamSpec{std::move(name), ParamType::kFloat, def, std::move(description), min, max, {}};
}
ParamSpec float_or_word_param(std::string name, nlohmann::json def, std::string description,
                              std::vector<std::string> words, std::optional<double> min, std::optional<double> max) {
  return ParamSpec{std::move(name), ParamType::kFloat, std::move(def), std::move(description), min, max,
                   std::move(words)};
}
ParamSpec bool_param(std::string name, bool def, std::string description) {
  return ParamSpec{std::move(name), ParamType::kBool, def, std::move(description), std::nullopt, std::nullopt, {}};
}
ParamSpec string_param(std::string name, std::string def, std::string description, std::vector<std::string> choices) {
  return ParamSpec{std::move(name), ParamType::kString, def, std::move(description), std::nullopt,
                   std::nullopt,    std::move(choices)};
}

ParamSet::ParamSet(std::string owner, std::vector<ParamSpec> specs)
    : owner_(std::move(owner)), specs_(std::move(specs)) {}

const ParamSpec* ParamSet::find(const std::string& name) const {
  for (const auto& s : specs_)
    if (s.name == name) return &s;
  return nullptr;
}

namespace {

const char* type_name(ParamType t) {
  switch (t) {
    case ParamType::kInt:
      return "int";
    case ParamType::kFloat:
      return "float";
    case ParamType::kBool:
      return "bool";
    case ParamType::kString:
      return "string";
  }
  return "?";
}

// Turns a YAML scalar text into a typed JSON value (int, float, bool, string).
nlohmann::json scalar_from_text(const std::string& text) {
  if (text == "true" || text == "True" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "False" || text == "no" || text == "off") return false;
  if (!text.empty()) {
    char* end = nullptr;
    const long long i = std::strtoll(text.c_str(), &end, 10);
    if (end && *end == '\0') return i;
    const double d = std::strtod(text.c_str(), &end);
    if (end && *end == '\0' && std::isfinite(d)) return d;
  }
  return text;
}

std::string joined(const std::vector<std::string>& words) {
  std::string all;
  for (const auto& w : words) all += (all.empty() ? "" : ", ") + w;
  return all;
}

bool listed(const std::vector<std::string>& words, const nlohmann::json& value) {
  return value.is_string() && std::find(words.begin(), words.end(), value.get<std::string>()) != words.end();
}

nlohmann::json coerce(const std::string& owner, const ParamSpec& spec, const nlohmann::json& v) {
  auto fail = [&](const std::string& why) { return InvalidInput(owner + ": parameter '" + spec.name + "' " + why); };
  const bool numeric = spec.type == ParamType::kInt || spec.type == ParamType::kFloat;
  if (numeric && listed(spec.choices, v))
    return v;  // a word the number may be given as ("auto"), before "off" reads as false
  nlohmann::json value = v;
  if (value.is_string() && spec.type != ParamType::kString) value = scalar_from_text(value.get<std::string>());
  if (numeric && !spec.choices.empty() && !value.is_number())
    throw fail("must be a number or one of {" + joined(spec.choices) + "}, got " + v.dump());
  switch (spec.type) {
    case ParamType::kInt: {
      if (value.is_number_float()) {
        const double d = value.get<double>();
        if (std::floor(d) != d) throw fail("must be an integer, got " + v.dump());
        value = static_cast<long long>(d);
      }
      if (!value.is_number_integer()) throw fail("must be an integer, got " + v.dump());
      break;
    }
    case ParamType::kFloat:
      if (!value.is_number()) throw fail("must be a number, got " + v.dump());
      value = value.get<double>();
      break;
    case ParamType::kBool:
      if (!value.is_boolean()) throw fail("must be true or false, got " + v.dump());
      break;
    case ParamType::kString:
      if (value.is_number() || value.is_boolean()) value = value.dump();
      if (!value.is_string()) throw fail("must be a string, got " + v.dump());
      if (!spec.choices.empty() && !listed(spec.choices, value))
        throw fail("must be one of {" + joined(spec.choices) + "}, got " + v.dump());
      break;
  }
  if (value.is_number()) {
    const double d = value.get<double>();
    std::ostringstream os;
    if (spec.min && d < *spec.min) {
      os << "must be >= " << *spec.min << ", got " << v.dump();
      throw fail(os.str());
    }
    if (spec.max && d > *spec.max) {
      os << "must be <= " << *spec.max << ", got " << v.dump();
      throw fail(os.str());
    }
  }
  return value;
}

}  // namespace

nlohmann::json ParamSet::resolve(const nlohmann::json& overrides) const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& s : specs_) out[s.name] = s.default_value;
  if (overrides.is_null()) return out;
  if (!overrides.is_object()) throw InvalidInput(owner_ + ": configuration must be a mapping of parameter: value");
  for (auto it = overrides.begin(); it != overrides.end(); ++it) {
    const ParamSpec* spec = find(it.key());
    if (!spec) {
      std::string known;
      for (const auto& s : specs_) known += (known.empty() ? "" : ", ") + s.name;
      throw InvalidInput(owner_ + ": unknown parameter '" + it.key() + "' (known: " + known + ")");
    }
    out[spec->name] = coerce(owner_, *spec, it.value());
  }
  return out;
}

nlohmann::json ParamSet::from_environment() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& s : specs_) {
    std::string var = "DRIFTREC_";
    for (char c : s.name)
      var += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (const char* v = std::getenv(var.c_str())) out[s.name] = std::string(v);
  }
  return out;
}

std::string ParamSet::describe() const {
  std::ostringstream os;
  for (const auto& s : specs_) {
    os << "  " << s.name << " (" << type_name(s.type) << ", default " << s.default_value.dump();
    if (s.min) os << ", min " << *s.min;
    if (s.max) os << ", max " << *s.max;
    if (!s.choices.empty()) {
      os << (s.type == ParamType::kString ? ", one of" : ", or");
      for (const auto& c : s.choices) os << " " << c;
    }
    os << "): " << s.description << "\n";
  }
  return os.str();
}

namespace {
void flatten_yaml(const YAML::Node& node, const std::string& prefix, nlohmann::json& out, const std::string& path) {
  for (const auto& kv : node) {
    // yaml-cpp's iterator hands out temporaries: copy the nodes (a reference would dangle).
    const YAML::Node k = kv.first;
    const YAML::Node v = kv.second;
    const std::string key = prefix.empty() ? k.as<std::string>() : prefix + "." + k.as<std::string>();
    if (v.IsMap()) {
      flatten_yaml(v, key, out, path);
    } else if (v.IsScalar()) {
      out[key] = scalar_from_text(v.Scalar());
    } else if (v.IsSequence()) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& e : v) {
        if (!e.IsScalar()) throw InvalidInput(path + ": key '" + key + "': lists may hold only scalars");
        arr.push_back(scalar_from_text(e.Scalar()));
      }
      out[key] = arr;
    } else if (v.IsNull()) {
      throw InvalidInput(path + ": key '" + key + "' has no value");
    }
  }
}
}  // namespace

nlohmann::json load_config_file(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw IoError(path + ": cannot open config file");
  } catch (const YAML::Exception& e) {
    throw InvalidInput(path + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  nlohmann::json out = nlohmann::json::object();
  if (root.IsNull()) return out;
  if (!root.IsMap()) throw InvalidInput(path + ": a config file must be a mapping of parameter: value");
  flatten_yaml(root, "", out, path);
  return out;
}

std::pair<std::string, nlohmann::json> parse_set_option(const std::string& kv) {
  const auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) throw InvalidInput("--set expects key=value, got '" + kv + "'");
  return {kv.substr(0, eq), scalar_from_text(kv.substr(eq + 1))};
}

nlohmann::json merge_config(nlohmann::json a, const nlohmann::json& b) {
  if (a.is_null()) a = nlohmann::json::object();
  if (b.is_null()) return a;
  for (auto it = b.begin(); it != b.end(); ++it) a[it.key()] = it.value();
  return a;
}

}  // namespace driftrec
