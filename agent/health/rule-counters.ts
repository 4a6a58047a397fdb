import type { RuleCounterDelta } from "../../core/protocol/agent-api";
import type { RuleCountElement } from "../../core/render/nft";
import { POLICY_TABLE } from "../../core/render/names";
import { RULE_COUNT_CONNECTIONS } from "../../core/spec/marks";
import { LineSplitter } from "./fping";

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
 * - A rule has two counters, elements of one set: its new connections and the packets and bytes
 *   of those connections; each is followed on its own.
 * - Deltas add up in `pending` until the console acknowledges a report that carried them, so a
 *   lost report loses nothing; `take` hands out at most a report's worth.
 */

export interface RuleReading {
  /** new connections the rule's counter has counted (the first packets of its connections) */
  connections: number;
  /** packets and bytes of the rule's connections, both ways (its traffic counter; 0 when it has none) */
  packets: number;
  bytes: number;
}

const FIELDS = ["connections", "packets", "bytes"] as const;
type Field = (typeof FIELDS)[number];

const ELEMENT = /(0x[0-9a-f]+) counter packets (\d+) bytes (\d+) comment "([^"]*)"/g;

/**
 * `nft list set inet gatehouse rule_counts` (text: a third of the JSON's size) -> the rules'
 * counters by rule id, read line by line as the listing streams in, so no copy of the whole
 * listing is ever held (at 10000 rules it is ~1.1 MB). nft prints the elements a few to a line,
 * each as `0x08001000 counter packets N bytes M comment "<rule id>"`; the key with
 * RULE_COUNT_CONNECTIONS holds the rule's new connections (its packets), the other its traffic.
 */
export class RuleCounterParser {
  private readonly out = new Map<string, RuleReading>();
  private readonly keys: RuleCountElement[] | null;
  private readonly lines = new LineSplitter();
  private sawTable = false;
  private head = "";

  /** keepElements: also keep the elements' keys (a load's listing), not only the readings */
  constructor(options: { keepElements?: boolean } = {}) {
    this.keys = options.keepElements === true ? [] : null;
  }

  push(chunk: string): void {
    if (!this.sawTable && this.head.length < 200) this.head += chunk.slice(0, 200);
    for (const line of this.lines.push(chunk)) this.line(line);
  }

  /** The readings; throws when the text was not a listing of the policy table (an error, say). */
  end(): Map<string, RuleReading> {
    for (const line of this.lines.push("\n")) this.line(line);
    if (!this.sawTable) throw new Error(`not a listing of table ${POLICY_TABLE}: ${this.head.slice(0, 200)}`);
    return this.out;
  }

  /** The set's elements as listed (after end(); empty unless kept). */
  elements(): RuleCountElement[] {
    return this.keys ?? [];
  }

  private line(line: string): void {
    if (!this.sawTable && line.trim() === `table ${POLICY_TABLE} {`) this.sawTable = true;
    for (const m of line.matchAll(ELEMENT)) {
      const key = Number(m[1]);
      const packets = Number(m[2]);
      const bytes = Number(m[3]);
      const ruleId = m[4] as string;
      if (!Number.isSafeInteger(packets) || !Number.isSafeInteger(bytes) || ruleId === "") continue;
      this.keys?.push({ key, ruleId });
      const r = this.out.get(ruleId) ?? { connections: 0, packets: 0, bytes: 0 };
      if ((key & RULE_COUNT_CONNECTIONS) !== 0) r.connections = packets;
      else {
        r.packets = packets;
        r.bytes = bytes;
      }
      this.out.set(ruleId, r);
    }
  }
}

/** A whole listing at once (RuleCounterParser). */
export function parseRuleCounters(stdout: string): Map<string, RuleReading> {
  const parser = new RuleCounterParser();
  parser.push(stdout);
  return parser.end();
}

interface Pending {
  connections: number;
  packets: number;
  bytes: number;
  /** the last reading that saw a new connection; null: only traffic moved */
  lastHitAt: string | null;
}

/** What a counter moved between two readings: all of it when it is new or was created again (lower). */
function movedBy(now: RuleReading, was: RuleReading | undefined, field: Field): number {
  if (was === undefined || now[field] < was[field]) return now[field];
  return now[field] - was[field];
}

export class RuleCounterTally {
  private last: Map<string, RuleReading> | null = null;
  private readonly pending = new Map<string, Pending>();
  /** when each rule last decided a new connection, as far as this process has seen */
  private readonly lastHit = new Map<string, string>();

  /** Takes one reading (at: the agent's clock when it was read). */
  observe(reading: Map<string, RuleReading>, at: string): void {
    const before = this.last;
    this.last = reading;
    if (before === null) return;
    for (const [ruleId, now] of reading) {
      const was = before.get(ruleId);
      const moved = { connections: 0, packets: 0, bytes: 0 };
      for (const f of FIELDS) moved[f] = movedBy(now, was, f);
      if (moved.connections + moved.packets + moved.bytes === 0) continue;
      const p = this.pending.get(ruleId);
      const hit = moved.connections > 0 ? at : (p?.lastHitAt ?? null);
      this.pending.set(ruleId, {
        connections: (p?.connections ?? 0) + moved.connections,
        packets: (p?.packets ?? 0) + moved.packets,
        bytes: (p?.bytes ?? 0) + moved.bytes,
        lastHitAt: hit,
      });
      if (moved.connections > 0) this.lastHit.set(ruleId, at);
    }
    // a rule that is gone from the kernel is gone from the spec: forget when it last moved
    for (const ruleId of this.lastHit.keys()) if (!reading.has(ruleId)) this.lastHit.delete(ruleId);
  }

  /** What the next report carries: at most `max` rules, those waiting longest first. */
  take(max: number): RuleCounterDelta[] {
    const out: RuleCounterDelta[] = [];
    for (const [ruleId, p] of this.pending) {
      if (out.length >= max) break;
      out.push({ ruleId, connections: p.connections, packets: p.packets, bytes: p.bytes, lastHitAt: p.lastHitAt });
    }
    return out;
  }

  /** The console accepted a report carrying these deltas: they are no longer pending. */
  acknowledge(sent: readonly RuleCounterDelta[]): void {
    for (const s of sent) {
      const p = this.pending.get(s.ruleId);
      if (p === undefined) continue;
      const left = {
        connections: p.connections - s.connections,
        packets: p.packets - s.packets,
        bytes: p.bytes - s.bytes,
      };
      // a Map keeps insertion order: what moved again goes to the back of the queue
      this.pending.delete(s.ruleId);
      if (left.connections > 0 || left.packets > 0 || left.bytes > 0) {
        // a new connection since the report was taken keeps its time; else none is pending
        this.pending.set(s.ruleId, { ...left, lastHitAt: left.connections > 0 ? p.lastHitAt : null });
      }
    }
  }

  /** Rules with deltas not yet acknowledged. */
  pendingCount(): number {
    return this.pending.size;
  }

  /** The last reading (the kernel's own values) with when each rule last moved; for the metrics. */
  latest(): Array<RuleReading & { ruleId: string; lastHitAt: string | null }> {
    return [...(this.last ?? new Map<string, RuleReading>())].map(([ruleId, r]) => ({
      ruleId,
      ...r,
      lastHitAt: this.lastHit.get(ruleId) ?? null,
    }));
  }
}
