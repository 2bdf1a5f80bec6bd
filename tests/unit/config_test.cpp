#include "driftrec/core/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "driftrec/core/error.h"
#include "test_util.h"

using namespace driftrec;

namespace {
ParamSet demo() {
  return ParamSet("demo", {int_param("factors", 64, "dims", 1, 1024), float_param("lr", 0.1, "rate", 0.0),
                           bool_param("bias", true, "use bias"), string_param("decay", "none", "d", {"none", "time"})});
}
// The message of the InvalidInput that resolving `j` with `params` throws ("no error" if none).
std::string refusal(const ParamSet& params, const nlohmann::json& j) {
  return test::thrown_message<InvalidInput>([&] { params.resolve(j); });
}
}  // namespace

TEST(Config, DefaultsAndCoercion) {
  const auto c = demo().resolve({{"factors", "32"}, {"lr", 1}, {"bias", "false"}, {"decay", "time"}});
  EXPECT_EQ(c["factors"].get<int>(), 32);
  EXPECT_DOUBLE_EQ(c["lr"].get<double>(), 1.0);
  EXPECT_FALSE(c["bias"].get<bool>());
  EXPECT_EQ(c["decay"], "time");
  EXPECT_EQ(demo().resolve(nullptr)["factors"].get<int>(), 64);
}

TEST(Config, ErrorsNameTheParameter) {
  auto message = [](const nlohmann::json& j) { return refusal(demo(), j); };
  EXPECT_NE(message({{"factor", 3}}).find("unknown parameter 'factor'"), std::string::npos);
  EXPECT_NE(message({{"factors", 0}}).find("'factors' must be >= 1"), std::string::npos);
  EXPECT_NE(message({{"factors", 2.5}}).find("integer"), std::string::npos);
  EXPECT_NE(message({{"decay", "linear"}}).find("one of"), std::string::npos);
  EXPECT_NE(message({{"bias", "maybe"}}).find("true or false"), std::string::npos);
}

TEST(Config, NumbersThatMayBeGivenAsAWord) {
  const ParamSet p("demo", {float_or_word_param("penalty", "auto", "p", {"auto"}, 0.0, 10.0),
                            float_or_word_param("rate", 0.5, "r", {"auto", "off"}, 0.0)});
  const auto d = p.resolve(nullptr);
  EXPECT_EQ(d["penalty"], "auto");
  EXPECT_DOUBLE_EQ(d["rate"].get<double>(), 0.5);
  const auto c = p.resolve({{"penalty", "2.5"}, {"rate", "off"}});
  EXPECT_DOUBLE_EQ(c["penalty"].get<double>(), 2.5);  // numeric text, as --set and YAML give it
  EXPECT_EQ(c["rate"], "off");
  EXPECT_EQ(p.resolve({{"penalty", 3}})["penalty"].get<double>(), 3.0);
  auto message = [&](const nlohmann::json& j) { return refusal(p, j); };
  EXPECT_NE(message({{"penalty", "two"}}).find("demo: parameter 'penalty' must be a number or one of {auto}"),
            std::string::npos);
  EXPECT_NE(message({{"penalty", true}}).find("must be a number or one of {auto}"), std::string::npos);
  EXPECT_NE(message({{"penalty", 11}}).find("must be <= 10"), std::string::npos);
  EXPECT_NE(message({{"rate", "-1"}}).find("must be >= 0"), std::string::npos);
  EXPECT_NE(message({{"rate", "Auto"}}).find("one of {auto, off}"), std::string::npos);  // words match exactly
  EXPECT_NE(p.describe().find("penalty (float, default \"auto\", min 0, max 10, or auto)"), std::string::npos);
}

TEST(Config, YamlFilesSetOptionsAndEnvironment) {
  test::TempDir d;
  const auto f = d.write("c.yaml", "# a model config\nfactors: 16\nlr: 0.5\n");
  auto j = load_config_file(f);
  EXPECT_EQ(j["factors"], 16);
  const auto [k, v] = parse_set_option("lr=0.25");
  EXPECT_EQ(k, "lr");
  EXPECT_DOUBLE_EQ(v.get<double>(), 0.25);
  EXPECT_THROW(parse_set_option("lr"), InvalidInput);
  EXPECT_THROW(load_config_file(d.file("missing.yaml")), IoError);
  const auto bad = d.write("bad.yaml", "factors: [1, 2\n");
  EXPECT_THROW(load_config_file(bad), InvalidInput);
  setenv("DRIFTREC_FACTORS", "8", 1);
  const auto env = demo().from_environment();
  unsetenv("DRIFTREC_FACTORS");
  EXPECT_EQ(demo().resolve(merge_config(j, env))["factors"].get<int>(), 8);
}
