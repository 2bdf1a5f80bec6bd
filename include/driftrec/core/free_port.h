#pragma once
// A TCP port that is free right now, for a rendezvous whose address the other processes are told
// (data-parallel ranks): the kernel picks it, where a random port may already be taken by another
// program's connection ("Address already in use").

namespace driftrec {

/// Binds a socket to 127.0.0.1 port 0, reads the port the kernel gave it and closes the socket.
/// Throws IoError when no socket can be opened or bound.
int free_local_port();

}  // namespace driftrec
