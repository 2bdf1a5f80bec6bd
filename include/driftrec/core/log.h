#pragma once
// One logger for the library, writing to stderr (library code never prints to stdout).
#include <functional>
#include <string>

namespace driftrec {

enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };

void set_log_level(LogLevel level);
void log_debug(const std::string& message);
void log_info(const std::string& message);
void log_warn(const std::string& message);
void log_error(const std::string& message);

/// Progress of a long step, reported through callbacks (the CLI draws a bar; tests may count).
struct Progress {
  std::string stage;      ///< e.g. "train bpr", "evaluate"
  std::size_t done = 0;   ///< units finished
  std::size_t total = 0;  ///< units in all (0 = unknown)
  std::string message;    ///< e.g. "loss=0.312"
};
using ProgressCallback = std::function<void(const Progress&)>;

}  // namespace driftrec
