#include "serve_process.h"

#include <pthread.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "common.h"
#include "driftrec/core/error.h"

namespace driftrec::cli {

std::string read_token(const std::string& file, const char* env_name) {
  std::string token;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) throw IoError(file + ": cannot read the token file");
    std::getline(in, token);
  } else if (const char* env = std::getenv(env_name)) {
    token = env;
  }
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (!file.empty() && token.empty()) throw InvalidInput(file + ": the token file is empty");
  return token;
}

sigset_t block_server_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

void serve_until_stopped(serve::Service& service, serve::HttpServer& server, const sigset_t& signals) {
  std::thread waiter([&] {
    for (;;) {
      int sig = 0;
      sigwait(&signals, &sig);
      if (sig == SIGHUP) {
        try {
          service.reload();
        } catch (const std::exception& e) {
          log_error(std::string("reload on SIGHUP failed, the previous model keeps serving: ") + e.what());
        }
        continue;
      }
      log_info("stopping");
      server.stop();
      return;
    }
  });
  server.run();
  waiter.join();
}

}  // namespace driftrec::cli
