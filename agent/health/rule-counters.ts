import type { RuleCounterDelta } from "../../core/protocol/agent-api";
import { POLICY_TABLE, ruleIdOfCounter } from "../../core/render/names";

/**
 * Rule counters (docs/semantics.md, "Counters"): the kernel's counter per rule, turned into the
 * deltas the status report carries. Pure: readings go in, deltas come out; the reader
 * (rule-counter-reader.ts) runs nft.
 *
 * - The first reading after the agent starts is only a baseline: what the kernel counted before
 *   belongs to the previous agent process, which reported it (or lost it: never twice).
 * - A counter that is lower than at the last reading was created again (its rule went and came
 *   back, or the table was rebuilt): everything it holds is new.
 * - A counter that appears after the first reading is a new rule: everything it holds is new.
 * - Deltas add up in `pending` until the console acknowledges a report that carried them, so a
 *   lost report loses nothing; `take` hands out at most a report's worth.
 */

export interface RuleReading {
  /** new connections the rule's counter has counted (its packets: only first packets pass it) */
  connections: number;
}

/** `nft -j list counters table inet gatehouse` -> the rules' counters by rule id. */
export function parseRuleCounters(stdout: string): Map<string, RuleReading> {
  const [family, table] = POLICY_TABLE.split(" ");
  const doc = JSON.parse(stdout) as { nftables?: Array<Record<string, unknown>> };
  const out = new Map<string, RuleReading>();
  for (const item of doc.nftables ?? []) {
    const c = item.counter as { family?: string; table?: string; name?: unknown; packets?: unknown } | undefined;
    if (c === undefined || c.family !== family || c.table !== table || typeof c.name !== "string") continue;
    const ruleId = ruleIdOfCounter(c.name);
    if (ruleId === null || typeof c.packets !== "number" || !Number.isSafeInteger(c.packets) || c.packets < 0) continue;
    out.set(ruleId, { connections: c.packets });
  }
  return out;
}

interface Pending {
  connections: number;
  lastHitAt: string;
}

export class RuleCounterTally {
  private last: Map<string, RuleReading> | null = null;
  private readonly pending = new Map<string, Pending>();
  /** when each rule last moved, as far as this process has seen */
  private readonly lastHit = new Map<string, string>();

  /** Takes one reading (at: the agent's clock when it was read). */
  observe(reading: Map<string, RuleReading>, at: string): void {
    const before = this.last;
    this.last = reading;
    if (before === null) return;
    for (const [ruleId, now] of reading) {
      const was = before.get(ruleId);
      const moved =
        was === undefined || now.connections < was.connections ? now.connections : now.connections - was.connections;
      if (moved === 0) continue;
      const p = this.pending.get(ruleId);
      this.pending.set(ruleId, { connections: (p?.connections ?? 0) + moved, lastHitAt: at });
      this.lastHit.set(ruleId, at);
    }
    // a rule that is gone from the kernel is gone from the spec: forget when it last moved
    for (const ruleId of this.lastHit.keys()) if (!reading.has(ruleId)) this.lastHit.delete(ruleId);
  }

  /** What the next report carries: at most `max` rules, those waiting longest first. */
  take(max: number): RuleCounterDelta[] {
    const out: RuleCounterDelta[] = [];
    for (const [ruleId, p] of this.pending) {
      if (out.length >= max) break;
      out.push({ ruleId, connections: p.connections, lastHitAt: p.lastHitAt });
    }
    return out;
  }

  /** The console accepted a report carrying these deltas: they are no longer pending. */
  acknowledge(sent: readonly RuleCounterDelta[]): void {
    for (const s of sent) {
      const p = this.pending.get(s.ruleId);
      if (p === undefined) continue;
      const left = p.connections - s.connections;
      // a Map keeps insertion order: what moved again goes to the back of the queue
      this.pending.delete(s.ruleId);
      if (left > 0) this.pending.set(s.ruleId, { connections: left, lastHitAt: p.lastHitAt });
    }
  }

  /** Rules with deltas not yet acknowledged. */
  pendingCount(): number {
    return this.pending.size;
  }

  /** The last reading (the kernel's own values) with when each rule last moved; for the metrics. */
  latest(): Array<{ ruleId: string; connections: number; lastHitAt: string | null }> {
    return [...(this.last ?? new Map<string, RuleReading>())].map(([ruleId, r]) => ({
      ruleId,
      connections: r.connections,
      lastHitAt: this.lastHit.get(ruleId) ?? null,
    }));
  }
}
