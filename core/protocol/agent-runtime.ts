/**
 * The Node.js options the agent runs with, wherever it is started (the systemd unit, the
 * supervisor script, the executable's own `#!` line, the benchmarks). The agent's work comes in
 * small bursts (a counter read, a report): a young generation capped at 1 MB per semi-space
 * collects them promptly instead of growing to V8's default 16 MB, which takes about a third off
 * the agent's resident memory at 10000 rules (`npm run bench:counters`) for a little more
 * collection work.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1"];
