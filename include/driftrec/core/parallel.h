#pragma once
// Static partitioning of index ranges over a fixed number of threads. Each index is processed by
// exactly one thread, in a schedule that depends only on (n, threads), so results that are
// written per index are deterministic whatever the timing.
#include <cstddef>
#include <functional>

namespace driftrec {

/// Number of worker threads to use when the caller asks for `requested` (0 = all cores).
int resolve_threads(int requested);

/// Calls body(begin, end, thread_id) on `threads` contiguous chunks of [0, n); the calling
/// thread takes chunk 0. Exceptions from any chunk are rethrown (the first one) after all join.
void parallel_for(std::size_t n, int threads,
                  const std::function<void(std::size_t begin, std::size_t end, int thread_id)>& body);

/// Like parallel_for but hands out blocks of `block` indices dynamically (for uneven work).
/// Output must be written per index for determinism.
void parallel_blocks(std::size_t n, std::size_t block, int threads,
                     const std::function<void(std::size_t begin, std::size_t end, int thread_id)>& body);

}  // namespace driftrec
