#pragma once
// Worker processes for commands that run in parallel (tune --parallel): each re-runs this command
// line as a worker with its share of the threads.
#include <sys/types.h>

#include <string>
#include <vector>

namespace driftrec::cli {

/// Starts `count` copies of this program with `argv` (the command line after the program name,
/// any --threads dropped), `--threads THREADS` in front and `extra` appended. Throws IoError when
/// a process cannot be started.
std::vector<pid_t> spawn_workers(int count, int threads, const std::vector<std::string>& argv,
                                 const std::string& extra);

/// Waits for every worker to exit.
void wait_workers(const std::vector<pid_t>& workers);

}  // namespace driftrec::cli
