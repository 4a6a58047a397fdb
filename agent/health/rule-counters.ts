import type { RuleCounterDelta } from "../../core/protocol/agent-api";
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
 * - A rule has two counters, elements of one dynamic set: its new connections and the packets and
 *   bytes of those connections; each is followed on its own. The datapath adds them when the rule's
 *   connections move and the agent deletes them once they have not moved for RULE_HIT_IDLE_MS
 *   (`idle`), so a reading holds the rules that moved lately.
 * - A counter that was not in the last reading is new (its rule moved again after a quiet spell,
 *   or is new): everything it holds is new. One that is lower than at the last reading was created
 *   again (its slot went to another rule and back, or the set was emptied): the same.
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
const ZERO: RuleReading = { connections: 0, packets: 0, bytes: 0 };
type Field = (typeof FIELDS)[number];

const ELEMENT = /(0x[0-9a-f]+) counter packets (\d+) bytes (\d+)/g;

/**
 * `nft list set inet gatehouse rule_hits` (text: a third of the JSON's size) -> the counters of the
 * rules that moved lately, by rule id, read line by line as the listing streams in, so no copy of
 * the whole listing is ever held. nft prints the elements a few to a line, each as
 * `0x08001000 counter packets N bytes M`; the key with RULE_COUNT_CONNECTIONS holds
 * the rule's new connections (its packets), the other its traffic. Which rule a key counts comes
 * from the ruleset the agent loaded (`rules`); a key of no rule there (a connection a deleted rule
 * decided) is left out.
 */
export class RuleCounterParser {
  private readonly out = new Map<string, RuleReading>();
  private readonly lines = new LineSplitter();
  private sawTable = false;
  private head = "";

  constructor(private readonly rules: ReadonlyMap<number, string>) {}

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

  private line(line: string): void {
    if (!this.sawTable && line.trim() === `table ${POLICY_TABLE} {`) this.sawTable = true;
    for (const m of line.matchAll(ELEMENT)) {
      const key = Number(m[1]);
      const packets = Number(m[2]);
      const bytes = Number(m[3]);
      const ruleId = this.rules.get(key);
      if (!Number.isSafeInteger(packets) || !Number.isSafeInteger(bytes) || ruleId === undefined) continue;
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
export function parseRuleCounters(stdout: string, rules: ReadonlyMap<number, string>): Map<string, RuleReading> {
  const parser = new RuleCounterParser(rules);
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
  /** per rule of the loaded ruleset: the first reading plus everything that moved since (metrics) */
  private readonly totals = new Map<string, RuleReading>();
  private rulesFrom: readonly string[] | null = null;
  private counted: ReadonlySet<string> = new Set();
  /** when each rule's counters in the set last moved (or were first seen), by the readings */
  private readonly movedAt = new Map<string, number>();

  /**
   * Takes one reading (at: the agent's clock when it was read; rules: every rule the loaded
   * ruleset counts, whether it moved lately or not).
   */
  observe(reading: Map<string, RuleReading>, at: string, rules: readonly string[]): void {
    const before = this.last;
    this.last = reading;
    // the same ruleset as last time (the same array): nothing joined or left
    if (rules !== this.rulesFrom) this.rulesChanged(rules);
    const counted = this.counted;
    const atMs = Date.parse(at);
    // rules whose counters are no longer in the set are not idle there
    for (const ruleId of this.movedAt.keys()) if (!reading.has(ruleId)) this.movedAt.delete(ruleId);
    if (before === null) {
      for (const [ruleId, now] of reading) {
        if (counted.has(ruleId)) this.totals.set(ruleId, { ...now });
        this.movedAt.set(ruleId, atMs);
      }
      return;
    }
    for (const [ruleId, now] of reading) {
      const was = before.get(ruleId);
      const moved = { connections: 0, packets: 0, bytes: 0 };
      for (const f of FIELDS) moved[f] = movedBy(now, was, f);
      if (moved.connections + moved.packets + moved.bytes === 0) {
        if (!this.movedAt.has(ruleId)) this.movedAt.set(ruleId, atMs);
        continue;
      }
      this.movedAt.set(ruleId, atMs);
      const total = this.totals.get(ruleId);
      if (total !== undefined) for (const f of FIELDS) total[f] += moved[f];
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
  }

  /**
   * The rules whose counters are in the set but have not moved for `idleMs` by the readings (the
   * agent deletes them from the set; the datapath adds them again with the rule's next packet).
   */
  idle(nowMs: number, idleMs: number): string[] {
    return [...this.movedAt].filter(([, at]) => nowMs - at >= idleMs).map(([ruleId]) => ruleId);
  }

  /** These rules' counters were deleted from the set: what they held was read, nothing is pending from them. */
  deleted(ruleIds: readonly string[]): void {
    for (const ruleId of ruleIds) {
      this.movedAt.delete(ruleId);
      this.last?.delete(ruleId);
    }
  }

  private rulesChanged(rules: readonly string[]): void {
    this.rulesFrom = rules;
    const counted = new Set(rules);
    this.counted = counted;
    // a rule that is gone from the ruleset: forget it
    for (const ruleId of this.totals.keys()) if (!counted.has(ruleId)) this.totals.delete(ruleId);
    for (const ruleId of this.lastHit.keys()) if (!counted.has(ruleId)) this.lastHit.delete(ruleId);
    for (const ruleId of counted) if (!this.totals.has(ruleId)) this.totals.set(ruleId, { ...ZERO });
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

  /**
   * Every rule the loaded ruleset counts, with what its counters held at this process's first
   * reading plus everything they moved since (so it only grows while the process runs, as
   * Prometheus expects of a counter), and when it last decided a new connection; for the metrics.
   */
  latest(): Array<RuleReading & { ruleId: string; lastHitAt: string | null }> {
    return [...this.totals].map(([ruleId, r]) => ({ ruleId, ...r, lastHitAt: this.lastHit.get(ruleId) ?? null }));
  }
}
