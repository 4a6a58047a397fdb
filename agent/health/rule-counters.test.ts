import { describe, expect, it } from "vitest";
import { readIntervalMs } from "./rule-counter-reader";
import { parseRuleCounters, type RuleReading, RuleCounterTally } from "./rule-counters";

const reading = (o: Record<string, number | [number, number, number]>) =>
  new Map<string, RuleReading>(
    Object.entries(o).map(([k, v]) => [
      k,
      typeof v === "number"
        ? { connections: v, packets: 0, bytes: 0 }
        : { connections: v[0], packets: v[1], bytes: v[2] },
    ]),
  );

const nftJson = (counters: object[]) =>
  JSON.stringify({ nftables: [{ metainfo: { version: "1.0.6" } }, ...counters.map((counter) => ({ counter }))] });

describe("parseRuleCounters", () => {
  it("takes the policy table's rule counters only", () => {
    const out = parseRuleCounters(
      nftJson([
        { family: "inet", table: "gatehouse", name: "rule_abc", packets: 7, bytes: 420 },
        { family: "inet", table: "gatehouse", name: "rule_x-y_1", packets: 0, bytes: 0 },
        { family: "inet", table: "gatehouse", name: "other", packets: 3, bytes: 1 },
        { family: "inet", table: "gatehouse_guard", name: "rule_abc", packets: 9, bytes: 1 },
        { family: "ip", table: "gatehouse", name: "rule_def", packets: 9, bytes: 1 },
        { family: "inet", table: "gatehouse", name: "rule_", packets: 9, bytes: 1 },
        { family: "inet", table: "gatehouse", name: "rule_bad", packets: -1, bytes: 1 },
        { family: "inet", table: "gatehouse", name: "rule_str", packets: "5", bytes: 1 },
      ]),
    );
    expect([...out]).toEqual([
      ["abc", { connections: 7, packets: 0, bytes: 0 }],
      ["x-y_1", { connections: 0, packets: 0, bytes: 0 }],
    ]);
  });

  it("joins a rule's connections counter and its traffic counter", () => {
    const out = parseRuleCounters(
      nftJson([
        { family: "inet", table: "gatehouse", name: "traffic_abc", packets: 40, bytes: 5200 },
        { family: "inet", table: "gatehouse", name: "rule_abc", packets: 3, bytes: 180 },
        { family: "inet", table: "gatehouse", name: "traffic_only", packets: 2, bytes: 100 },
        { family: "inet", table: "gatehouse", name: "traffic_", packets: 2, bytes: 100 },
        { family: "inet", table: "gatehouse", name: "traffic_badbytes", packets: 2, bytes: -5 },
      ]),
    );
    expect(Object.fromEntries(out)).toEqual({
      abc: { connections: 3, packets: 40, bytes: 5200 },
      only: { connections: 0, packets: 2, bytes: 100 },
      badbytes: { connections: 0, packets: 2, bytes: 0 },
    });
  });

  it("throws on output that is not JSON", () => {
    expect(() => parseRuleCounters("Error: No such file")).toThrow();
  });
});

describe("RuleCounterTally", () => {
  it("reports traffic of open connections without a new hit, and keeps each counter apart", () => {
    const t = new RuleCounterTally();
    t.observe(reading({ a: [5, 100, 9000] }), "2026-12-05T10:00:00.000Z");
    // a long download: no new connection, more packets and bytes
    t.observe(reading({ a: [5, 160, 90_000] }), "2026-12-05T10:00:05.000Z");
    expect(t.take(10)).toEqual([{ ruleId: "a", connections: 0, packets: 60, bytes: 81_000, lastHitAt: null }]);
    // a new connection: the time of the hit is the reading that saw it
    t.observe(reading({ a: [6, 170, 91_000] }), "2026-12-05T10:00:10.000Z");
    const sent = t.take(10);
    expect(sent).toEqual([
      { ruleId: "a", connections: 1, packets: 70, bytes: 82_000, lastHitAt: "2026-12-05T10:00:10.000Z" },
    ]);
    // traffic moves while the report is on its way: what is left carries no hit
    t.observe(reading({ a: [6, 175, 91_500] }), "2026-12-05T10:00:15.000Z");
    t.acknowledge(sent);
    expect(t.take(10)).toEqual([{ ruleId: "a", connections: 0, packets: 5, bytes: 500, lastHitAt: null }]);
    // the traffic counter alone was created again (lower): all it holds is new
    t.acknowledge(t.take(10));
    t.observe(reading({ a: [6, 3, 200] }), "2026-12-05T10:00:20.000Z");
    expect(t.take(10)).toEqual([{ ruleId: "a", connections: 0, packets: 3, bytes: 200, lastHitAt: null }]);
    expect(t.latest()).toEqual([
      { ruleId: "a", connections: 6, packets: 3, bytes: 200, lastHitAt: "2026-12-05T10:00:10.000Z" },
    ]);
  });

  it("takes the first reading as a baseline, then reports what moved", () => {
    const t = new RuleCounterTally();
    t.observe(reading({ a: 100, b: 5 }), "2026-12-05T10:00:00.000Z");
    expect(t.take(10)).toEqual([]);
    t.observe(reading({ a: 103, b: 5 }), "2026-12-05T10:00:05.000Z");
    t.observe(reading({ a: 110, b: 5 }), "2026-12-05T10:00:10.000Z");
    expect(t.take(10)).toEqual([
      { ruleId: "a", connections: 10, packets: 0, bytes: 0, lastHitAt: "2026-12-05T10:00:10.000Z" },
    ]);
  });

  it("counts a new rule's counter and a recreated counter from zero", () => {
    const t = new RuleCounterTally();
    t.observe(reading({ a: 50 }), "2026-12-05T10:00:00.000Z");
    // a's rule went and came back (its counter restarted); c is new
    t.observe(reading({ a: 4, c: 2 }), "2026-12-05T10:00:05.000Z");
    expect(t.take(10)).toEqual([
      { ruleId: "a", connections: 4, packets: 0, bytes: 0, lastHitAt: "2026-12-05T10:00:05.000Z" },
      { ruleId: "c", connections: 2, packets: 0, bytes: 0, lastHitAt: "2026-12-05T10:00:05.000Z" },
    ]);
  });

  it("keeps deltas until a report carrying them is acknowledged, and adds what moved meanwhile", () => {
    const t = new RuleCounterTally();
    t.observe(reading({ a: 0, b: 0 }), "2026-12-05T10:00:00.000Z");
    t.observe(reading({ a: 2, b: 1 }), "2026-12-05T10:00:05.000Z");
    const first = t.take(10);
    // the report failed: nothing acknowledged; the counters moved again
    t.observe(reading({ a: 5, b: 1 }), "2026-12-05T10:00:10.000Z");
    const second = t.take(10);
    expect(second).toEqual([
      { ruleId: "a", connections: 5, packets: 0, bytes: 0, lastHitAt: "2026-12-05T10:00:10.000Z" },
      { ruleId: "b", connections: 1, packets: 0, bytes: 0, lastHitAt: "2026-12-05T10:00:05.000Z" },
    ]);
    // a reading lands while the report is on its way
    t.observe(reading({ a: 6, b: 1 }), "2026-12-05T10:00:15.000Z");
    t.acknowledge(second);
    expect(t.take(10)).toEqual([
      { ruleId: "a", connections: 1, packets: 0, bytes: 0, lastHitAt: "2026-12-05T10:00:15.000Z" },
    ]);
    expect(first).toHaveLength(2);
  });

  it("hands out at most a report's worth, the longest waiting first", () => {
    const t = new RuleCounterTally();
    t.observe(reading({ a: 0, b: 0, c: 0 }), "2026-12-05T10:00:00.000Z");
    t.observe(reading({ a: 1, b: 1, c: 1 }), "2026-12-05T10:00:05.000Z");
    const sent = t.take(2);
    expect(sent.map((r) => r.ruleId)).toEqual(["a", "b"]);
    t.acknowledge(sent);
    expect(t.take(2).map((r) => r.ruleId)).toEqual(["c"]);
    expect(t.pendingCount()).toBe(1);
  });

  it("gives the metrics the kernel's values and forgets rules that are gone", () => {
    const t = new RuleCounterTally();
    t.observe(reading({ a: 1, b: 1 }), "2026-12-05T10:00:00.000Z");
    t.observe(reading({ a: 3, b: 1 }), "2026-12-05T10:00:05.000Z");
    expect(t.latest()).toEqual([
      { ruleId: "a", connections: 3, packets: 0, bytes: 0, lastHitAt: "2026-12-05T10:00:05.000Z" },
      { ruleId: "b", connections: 1, packets: 0, bytes: 0, lastHitAt: null },
    ]);
    t.observe(reading({ b: 1 }), "2026-12-05T10:00:10.000Z");
    expect(t.latest()).toEqual([{ ruleId: "b", connections: 1, packets: 0, bytes: 0, lastHitAt: null }]);
  });
});

describe("readIntervalMs", () => {
  it("keeps the configured interval while reads are quick, and keeps reading under 1% of the time", () => {
    expect(readIntervalMs(5_000, 12)).toBe(5_000);
    expect(readIntervalMs(5_000, 300)).toBe(30_000);
    // however slow, at least once a minute
    expect(readIntervalMs(5_000, 5_000)).toBe(60_000);
  });
});
