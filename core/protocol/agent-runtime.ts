/**
 * The Node.js options the agent runs with, wherever it is started (the systemd unit, the
 * supervisor script, the executable's own `#!` line, the benchmarks). The agent's work comes in
 * small bursts (a counter read, a report): a young generation capped at 1 MB per semi-space
 * collects them promptly instead of growing to V8's default 16 MB, which takes about a third off
 * the agent's resident memory at 10000 rules (`npm run bench:counters`) for a little more
 * collection work.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1"];

/**
 * The C library's allocator settings the agent runs with, in the same places. Left alone, glibc
 * raises its mmap threshold after the first large buffer is freed (up to 32 MB), so the next
 * ones (a spec, an nft listing, a command's output) come from the heap, which it rarely gives back;
 * pinned at 128 KB, large buffers are mapped and unmapped with their use and the heap is trimmed
 * past 128 KB free: about 10 MB less resident at 10000 rules (`npm run bench:counters`).
 */
export const AGENT_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: "131072",
  MALLOC_TRIM_THRESHOLD_: "131072",
};

/** AGENT_ENV as NAME=VALUE words (env(1), systemd's Environment=, a shell's export). */
export const agentEnvAssignments = (): string[] => Object.entries(AGENT_ENV).map(([k, v]) => `${k}=${v}`);
