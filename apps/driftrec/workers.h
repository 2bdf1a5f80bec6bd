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

/// Starts one copy of this program with `argv` (any --threads and the options named in `drop`,
/// with their values, left out), `--threads THREADS` in front and `extra` appended.
pid_t spawn_worker(int threads, const std::vector<std::string>& argv, const std::vector<std::string>& extra,
                   const std::vector<std::string>& drop);

/// Waits for every worker to exit.
void wait_workers(const std::vector<pid_t>& workers);

/// Waits for every worker; when one fails (non-zero exit or a signal) the others are stopped
/// (SIGTERM) and IoError names the first failing worker (by its index) and how it ended.
void wait_workers_or_stop(const std::vector<pid_t>& workers, const std::string& what);

}  // namespace driftrec::cli
