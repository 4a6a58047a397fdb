import { NFT_TABLE } from "../../core/spec/marks";
import { RuleCounterParser, type RuleReading } from "./rule-counters";
import type { ProcessSpawner } from "./spawner";

const TIMEOUT_MS = 10_000;

/**
 * One `nft list counters` of the policy table: every rule's counter in one call, parsed as it
 * streams (rule-counters.ts). nft builds its cache of the whole table for it, so with 10000 rules
 * (20000 counters) one read takes ~0.3 s; the reading loop spaces reads by this duration
 * (readIntervalMs).
 */
export async function readRuleCounters(
  spawner: ProcessSpawner,
): Promise<{ counters: Map<string, RuleReading>; durationMs: number }> {
  const started = performance.now();
  const parser = new RuleCounterParser();
  let stderr = "";
  const proc = spawner.spawn(["nft", "list", "counters", "table", "inet", NFT_TABLE], {
    stdout: (chunk) => parser.push(chunk),
    stderr: (chunk) => {
      stderr = (stderr + chunk).slice(-2000);
    },
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.stop();
  }, TIMEOUT_MS);
  const exit = await proc.exited;
  clearTimeout(timer);
  const what = `nft list counters table inet ${NFT_TABLE}`;
  if (timedOut) throw new Error(`${what}: timed out after ${TIMEOUT_MS} ms`);
  if (exit.code !== 0) {
    throw new Error(
      `${what}: ${exit.error ?? `exit ${exit.code ?? exit.signal}`}${stderr.trim() ? `: ${stderr.trim()}` : ""}`,
    );
  }
  return { counters: parser.end(), durationMs: performance.now() - started };
}

/** However slow a read, the counters are read at least this often. */
export const MAX_READ_INTERVAL_MS = 60_000;

/**
 * The pause before the next read: the configured interval, stretched so that reading takes at
 * most 0.5% of the time (a read that took 300 ms waits 60 s), which bounds the agent's idle CPU
 * whatever the number of rules, up to a minute. The read's wall time stands for its CPU time:
 * on a busy gateway that overestimates it, which only makes reads rarer.
 */
export function readIntervalMs(configuredMs: number, lastReadMs: number): number {
  return Math.min(Math.max(configuredMs, Math.ceil(lastReadMs * 200)), Math.max(configuredMs, MAX_READ_INTERVAL_MS));
}
