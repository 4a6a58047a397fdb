import { MAX_RULE_COUNTER_READ_MS } from "../../core/protocol/agent-api";
import { POLICY_TABLE, SET_RULE_HITS } from "../../core/render/names";
import { RuleCounterParser, type RuleReading } from "./rule-counters";
import type { ProcessSpawner } from "./spawner";

const TIMEOUT_MS = 10_000;

export interface RuleCounterReading {
  counters: Map<string, RuleReading>;
  durationMs: number;
  noSet: boolean;
}

/**
 * One `nft list set` of the rules' counter set: the counters of every rule that moved lately in
 * one call, parsed as it streams (rule-counters.ts), each key's rule taken from `rules` (the
 * loaded ruleset's). nft fetches only the set for it, not the table's rules: a set of 20000
 * elements (10000 busy rules) takes 0.1-0.3 s of CPU to list; the reading loop spaces reads by
 * their duration (readIntervalMs). A policy with no counted rule has no set: an empty reading,
 * marked `noSet` (the set comes only with another load, so reading again before one is wasted).
 * The agent reads through its long-lived nft (rule-counter-shell.ts), by this where that cannot run.
 */
export async function readRuleCounters(
  spawner: ProcessSpawner,
  rules: ReadonlyMap<number, string>,
): Promise<RuleCounterReading> {
  const started = performance.now();
  const parser = new RuleCounterParser(rules);
  let stderr = "";
  const args = ["nft", "list", "set", ...POLICY_TABLE.split(" "), SET_RULE_HITS];
  const proc = spawner.spawn(args, {
    stdout: (chunk) => parser.push(chunk),
    // nft writes each word of the listing separately: 120000 writes for 20000 elements
    stdoutViaFile: true,
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
  const what = args.join(" ");
  if (timedOut) throw new Error(`${what}: timed out after ${TIMEOUT_MS} ms`);
  if (exit.code !== 0) {
    if (exit.code === 1 && /No such file or directory/.test(stderr) && (await tableExists(spawner))) {
      return { counters: new Map(), durationMs: performance.now() - started, noSet: true };
    }
    throw new Error(
      `${what}: ${exit.error ?? `exit ${exit.code ?? exit.signal}`}${stderr.trim() ? `: ${stderr.trim()}` : ""}`,
    );
  }
  return { counters: parser.end(), durationMs: performance.now() - started, noSet: false };
}

/** Whether the policy table is there (the set is missing when no rule is counted). */
export async function tableExists(spawner: ProcessSpawner): Promise<boolean> {
  let out = "";
  const proc = spawner.spawn(["nft", "list", "tables", POLICY_TABLE.split(" ")[0] as string], {
    stdout: (chunk) => {
      out += chunk;
    },
  });
  return (await proc.exited).code === 0 && out.split("\n").some((l) => l.trim() === `table ${POLICY_TABLE}`);
}

/** the share of the agent's time reading the counters may take */
export const READ_SHARE = 0.002;

/**
 * The pause before the next read: the configured interval, stretched so that reading takes at
 * most 0.2% of the time (a read that took 100 ms waits 50 s), which bounds the agent's idle CPU
 * whatever the number of busy rules, up to a minute (MAX_RULE_COUNTER_READ_MS). The read's wall
 * time stands for its CPU time: on a busy gateway that overestimates it, which only makes reads
 * rarer.
 */
export function readIntervalMs(configuredMs: number, lastReadMs: number, share = READ_SHARE): number {
  return Math.min(
    Math.max(configuredMs, Math.ceil(lastReadMs / share)),
    Math.max(configuredMs, MAX_RULE_COUNTER_READ_MS),
  );
}
