#pragma once
// The process side of `driftrec serve`: bearer tokens from files or the environment, and signals
// (SIGHUP reloads the model directory; SIGINT/SIGTERM stop cleanly).
#include <signal.h>

#include <string>

#include "driftrec/serve/http_server.h"

namespace driftrec::cli {

/// The first line of `file` (trailing spaces and CR dropped), else the environment variable
/// `env_name`, else "". An unreadable or empty file is an error.
std::string read_token(const std::string& file, const char* env_name);

/// Blocks SIGHUP, SIGINT and SIGTERM in the calling thread. Call before any other thread starts,
/// so that every thread inherits the mask and only serve_until_stopped receives them.
sigset_t block_server_signals();

/// Runs `server` until SIGINT or SIGTERM; SIGHUP reloads `service`'s model (a failed reload is
/// logged and the previous model keeps serving).
void serve_until_stopped(serve::Service& service, serve::HttpServer& server, const sigset_t& signals);

}  // namespace driftrec::cli
