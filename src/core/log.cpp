#include "driftrec/core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace driftrec {

namespace {
spdlog::logger& logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = spdlog::stderr_color_mt("driftrec");
    l->set_pattern("[%H:%M:%S] %^%l%$ %v");
    l->set_level(spdlog::level::info);
    return l;
  }();
  return *instance;
}
}  // namespace

void set_log_level(LogLevel level) {
  static const spdlog::level::level_enum map[] = {spdlog::level::debug, spdlog::level::info, spdlog::level::warn,
                                                  spdlog::level::err, spdlog::level::off};
  logger().set_level(map[static_cast<int>(level)]);
}
void log_debug(const std::string& m) { logger().debug(m); }
void log_info(const std::string& m) { logger().info(m); }
void log_warn(const std::string& m) { logger().warn(m); }
void log_error(const std::string& m) { logger().error(m); }

}  // namespace driftrec
