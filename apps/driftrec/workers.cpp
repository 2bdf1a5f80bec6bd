#include "workers.h"

#include <sys/wait.h>
#include <unistd.h>

#include "driftrec/core/error.h"

namespace driftrec::cli {

namespace {
std::vector<std::string> worker_args(int threads, const std::vector<std::string>& argv, const std::string& extra) {
  std::vector<std::string> args = {"/proc/self/exe", "--threads", std::to_string(threads)};
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--threads") {
      ++i;
      continue;
    }
    if (argv[i].rfind("--threads=", 0) == 0) continue;
    args.push_back(argv[i]);
  }
  args.push_back(extra);
  return args;
}
}  // namespace

std::vector<pid_t> spawn_workers(int count, int threads, const std::vector<std::string>& argv,
                                 const std::string& extra) {
  // Built before fork: the child only calls execv and _exit.
  auto args = worker_args(threads, argv, extra);
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  std::vector<pid_t> workers;
  for (int w = 0; w < count; ++w) {
    const pid_t pid = fork();
    if (pid < 0) throw IoError("cannot start a worker process");
    if (pid == 0) {
      execv("/proc/self/exe", cargs.data());
      _exit(127);
    }
    workers.push_back(pid);
  }
  return workers;
}

void wait_workers(const std::vector<pid_t>& workers) {
  for (const auto pid : workers) waitpid(pid, nullptr, 0);
}

}  // namespace driftrec::cli
