// A join that never waits for a thread to wake up: the calling thread runs chunks of a job while
// helper threads, once they are awake, claim chunks too; the call returns as soon as every chunk is
// done. OpenMP's parallel regions end at a barrier that waits for every team thread to arrive, and
// with sleeping (passive) waiters — which the addon needs, or a busy-waiting pool halves throughput
// when another process shares the 2 cores — each region paid the second thread's wake-up: on this
// project's VMs ≈ 150–200 µs per region (Adam with EWC on a 784×400 layer: 182 µs with a spinning
// pool, 369 µs with a sleeping one). The optimizer updates use this pool instead (penalty-blocks.h).
#pragma once
#include <cstdint>

namespace engram {

// Work of one chunk: `chunk` in [0, chunks) of the current job, `context` as given to RunChunks.
using ChunkFn = void (*)(void* context, int64_t chunk);

// Runs fn(context, c) for every c in [0, chunks), each exactly once, on the calling thread and on up to
// `helpers` helper threads (started on first use, kept for the process), and returns when all are
// done. Which thread runs a chunk is not fixed, so each chunk must write its own outputs only. A
// helper that is still asleep when the calling thread has claimed the last chunk costs nothing; one
// that is running a chunk is waited for. A call made while another thread's call is in the pool runs
// all its chunks on its own thread.
void RunChunks(int64_t chunks, int helpers, ChunkFn fn, void* context);

}  // namespace engram
