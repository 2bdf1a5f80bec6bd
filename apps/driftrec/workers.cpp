#include "workers.h"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "driftrec/core/error.h"

namespace driftrec::cli {

namespace {
std::vector<std::string> worker_args(int threads, const std::vector<std::string>& argv,
                                     const std::vector<std::string>& extra, const std::vector<std::string>& drop) {
  std::vector<std::string> args = {"/proc/self/exe", "--threads", std::to_string(threads)};
  for (std::size_t i = 0; i < argv.size(); ++i) {
    bool dropped = false;
    for (std::string flag : drop) {
      if (argv[i] == flag) {
        ++i;  // and its value
        dropped = true;
      } else if (argv[i].rfind(flag + "=", 0) == 0) {
        dropped = true;
      }
    }
    if (!dropped) args.push_back(argv[i]);
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

pid_t start(std::vector<std::string> args) {
  // Built before fork: the child only calls execv and _exit.
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw IoError("cannot start a worker process");
  if (pid == 0) {
    execv("/proc/self/exe", cargs.data());
    _exit(127);
  }
  return pid;
}
}  // namespace

std::vector<pid_t> spawn_workers(int count, int threads, const std::vector<std::string>& argv,
                                 const std::string& extra) {
  std::vector<pid_t> workers;
  for (int w = 0; w < count; ++w) workers.push_back(start(worker_args(threads, argv, {extra}, {"--threads"})));
  return workers;
}

pid_t spawn_worker(int threads, const std::vector<std::string>& argv, const std::vector<std::string>& extra,
                   const std::vector<std::string>& drop) {
  auto all = drop;
  all.push_back("--threads");
  return start(worker_args(threads, argv, extra, all));
}

void wait_workers(const std::vector<pid_t>& workers) {
  for (const auto pid : workers) waitpid(pid, nullptr, 0);
}

void wait_workers_or_stop(const std::vector<pid_t>& workers, const std::string& what) {
  std::vector<bool> done(workers.size(), false);
  std::string failure;
  for (std::size_t left = workers.size(); left > 0; --left) {
    int status = 0;
    const pid_t pid = wait(&status);
    if (pid < 0) break;
    std::size_t w = 0;
    while (w < workers.size() && workers[w] != pid) ++w;
    if (w == workers.size()) {
      ++left;  // not one of ours
      continue;
    }
    done[w] = true;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok && failure.empty()) {
      failure = what + " " + std::to_string(w) +
                (WIFSIGNALED(status) ? " was killed by signal " + std::to_string(WTERMSIG(status))
                                     : " exited with status " + std::to_string(WEXITSTATUS(status)));
      for (std::size_t o = 0; o < workers.size(); ++o)
        if (!done[o]) kill(workers[o], SIGTERM);
    }
  }
  if (!failure.empty()) throw IoError(failure + "; the other processes were stopped");
}

}  // namespace driftrec::cli
