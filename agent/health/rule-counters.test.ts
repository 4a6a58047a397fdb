import { describe, expect, it } from "vitest";
import { readIntervalMs } from "./rule-counter-reader";
import { parseRuleCounters, RuleCounterParser, type RuleReading, RuleCounterTally } from "./rule-counters";

const reading = (o: Record<string, number | [number, number, number]>) =>
  new Map<string, RuleReading>(
    Object.entries(o).map(([k, v]) => [
      k,
      typeof v === "number"
        ? { connections: v, packets: 0, bytes: 0 }
        : { connections: v[0], packets: v[1], bytes: v[2] },
    ]),
  );

/** `nft list set inet gatehouse rule_hits` as nft 1.0.6 prints it: a few elements to a line. */
const nftText = (elements: Array<[number, number, number]>) => {
  const items = elements.map(
    ([key, packets, bytes]) => `0x${key.toString(16).padStart(8, "0")} counter packets ${packets} bytes ${bytes}`,
  );
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += 3) lines.push(items.slice(i, i + 3).join(", "));
  return (
    "table inet gatehouse {\n\tset rule_hits {\n\t\ttype mark\n\t\tsize 65536\n\t\tflags dynamic\n\t\tcounter\n" +
    '\t\tcomment "rule slot in the connection mark: the counters of the rules that moved lately"\n' +
    `\t\telements = { ${lines.join(",\n\t\t\t     ")} }\n\t}\n}\n`
  );
};
const SLOT = 0x08001000;
/** the keys of the loaded ruleset: two per rule */
const keysOf = (rules: Array<[number, string]>) =>
  new Map(rules.flatMap(([slot, rule]) => [[slot, rule] as const, [slot | 1, rule] as const]));

describe("parseRuleCounters", () => {
  it("takes connections from the keys with the connections bit and traffic from the others", () => {
    const keys = keysOf([
      [SLOT, "abc"],
      [SLOT + 0x1000, "only"],
      [SLOT + 0x2000, "x-y_1"],
      [SLOT + 0x3000, "huge"],
    ]);
    const out = parseRuleCounters(
      nftText([
        [SLOT, 40, 5200],
        [SLOT | 1, 3, 180],
        [SLOT + 0x1000, 2, 100],
        [SLOT + 0x2000 + 1, 7, 420],
        [SLOT + 0x3000 + 1, 2 ** 60, 1],
      ]),
      keys,
    );
    expect(Object.fromEntries(out)).toEqual({
      abc: { connections: 3, packets: 40, bytes: 5200 },
      only: { connections: 0, packets: 2, bytes: 100 },
      "x-y_1": { connections: 7, packets: 0, bytes: 0 },
    });
  });

  it("leaves out keys of no rule in the loaded ruleset (connections a deleted rule decided)", () => {
    const text = nftText([
      [SLOT | 1, 3, 180],
      [0x08009001, 9, 9],
      [0x0800a000, 9, 9],
    ]);
    expect(Object.fromEntries(parseRuleCounters(text, keysOf([[SLOT, "abc"]])))).toEqual({
      abc: { connections: 3, packets: 0, bytes: 0 },
    });
    expect(parseRuleCounters(text, new Map()).size).toBe(0);
  });

  it("reads the listing as it streams in, whatever the chunks' borders", () => {
    const many: Array<[number, number, number]> = [];
    const rules: Array<[number, string]> = [];
    for (let i = 0; i < 12; i++) {
      many.push([SLOT + i * 0x1000, i * 10, i * 1000], [SLOT + i * 0x1000 + 1, i, i]);
      rules.push([SLOT + i * 0x1000, `r${i}`]);
    }
    const text = nftText(many);
    const keys = keysOf(rules);
    const whole = parseRuleCounters(text, keys);
    for (const size of [1, 7, 64]) {
      const parser = new RuleCounterParser(keys);
      for (let i = 0; i < text.length; i += size) parser.push(text.slice(i, i + size));
      expect(parser.end()).toEqual(whole);
    }
    expect(whole.size).toBe(12);
    expect(whole.get("r11")).toEqual({ connections: 11, packets: 110, bytes: 11_000 });
  });

  it("reads an empty set (no rule moved lately) as no readings", () => {
    const text = "table inet gatehouse {\n\tset rule_hits {\n\t\ttype mark\n\t\tcounter\n\t}\n}\n";
    expect(parseRuleCounters(text, keysOf([[SLOT, "abc"]])).size).toBe(0);
  });

  it("throws on output that is not a listing of the policy table", () => {
    expect(() => parseRuleCounters("Error: No such file or directory", new Map())).toThrow(/not a listing/);
    expect(() => parseRuleCounters("table inet gatehouse_guard {\n}\n", new Map())).toThrow(/not a listing/);
  });
});

const RULES = ["a", "b", "c"];

describe("RuleCounterTally", () => {
  it("reports traffic of open connections without a new hit, and keeps each counter apart", () => {
    const t = new RuleCounterTally();
    t.observe(reading({ a: [5, 100, 9000] }), "2026-12-05T10:00:00.000Z", RULES);
    // a long download: no new connection, more packets and bytes
    t.observe(reading({ a: [5, 160, 90_000] }), "2026-12-05T10:00:05.000Z", RULES);
    expect(t.take(10)).toEqual([{ ruleId: "a", connections: 0, packets: 60, bytes: 81_000, lastHitAt: null }]);
    // a new connection: the time of the hit is the reading that saw it
    t.observe(reading({ a: [6, 170, 91_000] }), "2026-12-05T10:00:10.000Z", RULES);
    const sent = t.take(10);
    expect(sent).toEqual([
      { ruleId: "a", connections: 1, packets: 70, bytes: 82_000, lastHitAt: "2026-12-05T10:00:10.000Z" },
    ]);
    // traffic moves while the report is on its way: what is left carries no hit
    t.observe(reading({ a: [6, 175, 91_500] }), "2026-12-05T10:00:15.000Z", RULES);
    t.acknowledge(sent);
    expect(t.take(10)).toEqual([{ ruleId: "a", connections: 0, packets: 5, bytes: 500, lastHitAt: null }]);
    // the traffic counter alone was created again (lower): all it holds is new
    t.acknowledge(t.take(10));
    t.observe(reading({ a: [6, 3, 200] }), "2026-12-05T10:00:20.000Z", RULES);
    expect(t.take(10)).toEqual([{ ruleId: "a", connections: 0, packets: 3, bytes: 200, lastHitAt: null }]);
    // the metrics: what the first reading held plus everything that moved since
    expect(t.latest()[0]).toEqual({
      ruleId: "a",
      connections: 6,
      packets: 178,
      bytes: 91_700,
      lastHitAt: "2026-12-05T10:00:10.000Z",
    });
  });

  it("takes the first reading as a baseline, then reports what moved", () => {
    const t = new RuleCounterTally();
    t.observe(reading({ a: 100, b: 5 }), "2026-12-05T10:00:00.000Z", RULES);
    expect(t.take(10)).toEqual([]);
    t.observe(reading({ a: 103, b: 5 }), "2026-12-05T10:00:05.000Z", RULES);
    t.observe(reading({ a: 110, b: 5 }), "2026-12-05T10:00:10.000Z", RULES);
    expect(t.take(10)).toEqual([
      { ruleId: "a", connections: 10, packets: 0, bytes: 0, lastHitAt: "2026-12-05T10:00:10.000Z" },
    ]);
  });

  it("counts a new rule's counter and a recreated counter from zero", () => {
    const t = new RuleCounterTally();
    t.observe(reading({ a: 50 }), "2026-12-05T10:00:00.000Z", RULES);
    // a's rule went and came back (its counter restarted); c is new
    t.observe(reading({ a: 4, c: 2 }), "2026-12-05T10:00:05.000Z", RULES);
    expect(t.take(10)).toEqual([
      { ruleId: "a", connections: 4, packets: 0, bytes: 0, lastHitAt: "2026-12-05T10:00:05.000Z" },
      { ruleId: "c", connections: 2, packets: 0, bytes: 0, lastHitAt: "2026-12-05T10:00:05.000Z" },
    ]);
  });

  it("keeps deltas until a report carrying them is acknowledged, and adds what moved meanwhile", () => {
    const t = new RuleCounterTally();
    t.observe(reading({ a: 0, b: 0 }), "2026-12-05T10:00:00.000Z", RULES);
    t.observe(reading({ a: 2, b: 1 }), "2026-12-05T10:00:05.000Z", RULES);
    const first = t.take(10);
    // the report failed: nothing acknowledged; the counters moved again
    t.observe(reading({ a: 5, b: 1 }), "2026-12-05T10:00:10.000Z", RULES);
    const second = t.take(10);
    expect(second).toEqual([
      { ruleId: "a", connections: 5, packets: 0, bytes: 0, lastHitAt: "2026-12-05T10:00:10.000Z" },
      { ruleId: "b", connections: 1, packets: 0, bytes: 0, lastHitAt: "2026-12-05T10:00:05.000Z" },
    ]);
    // a reading lands while the report is on its way
    t.observe(reading({ a: 6, b: 1 }), "2026-12-05T10:00:15.000Z", RULES);
    t.acknowledge(second);
    expect(t.take(10)).toEqual([
      { ruleId: "a", connections: 1, packets: 0, bytes: 0, lastHitAt: "2026-12-05T10:00:15.000Z" },
    ]);
    expect(first).toHaveLength(2);
  });

  it("hands out at most a report's worth, the longest waiting first", () => {
    const t = new RuleCounterTally();
    t.observe(reading({ a: 0, b: 0, c: 0 }), "2026-12-05T10:00:00.000Z", RULES);
    t.observe(reading({ a: 1, b: 1, c: 1 }), "2026-12-05T10:00:05.000Z", RULES);
    const sent = t.take(2);
    expect(sent.map((r) => r.ruleId)).toEqual(["a", "b"]);
    t.acknowledge(sent);
    expect(t.take(2).map((r) => r.ruleId)).toEqual(["c"]);
    expect(t.pendingCount()).toBe(1);
  });

  it("counts a rule that comes back after a quiet spell (its counters timed out) from zero", () => {
    const t = new RuleCounterTally();
    t.observe(reading({ a: [3, 30, 3000] }), "2026-12-05T10:00:00.000Z", RULES);
    // quiet: the set no longer holds a's counters
    t.observe(reading({}), "2026-12-05T10:05:00.000Z", RULES);
    expect(t.take(10)).toEqual([]);
    t.observe(reading({ a: [1, 4, 400] }), "2026-12-05T10:09:00.000Z", RULES);
    expect(t.take(10)).toEqual([
      { ruleId: "a", connections: 1, packets: 4, bytes: 400, lastHitAt: "2026-12-05T10:09:00.000Z" },
    ]);
  });

  it("names the rules whose counters have not moved for a while, and forgets them once deleted", () => {
    const t = new RuleCounterTally();
    const at = (s: number) => new Date(Date.UTC(2026, 11, 5, 10, 0, s)).toISOString();
    const ms = (s: number) => Date.parse(at(s));
    t.observe(reading({ a: [1, 10, 100], b: [1, 10, 100] }), at(0), RULES);
    t.observe(reading({ a: [1, 10, 100], b: [2, 12, 200] }), at(30), RULES);
    expect(t.idle(ms(40), 40_000)).toEqual(["a"]);
    expect(t.idle(ms(69), 40_000)).toEqual(["a"]);
    expect(t.idle(ms(70), 40_000).sort()).toEqual(["a", "b"]);
    // traffic alone is movement too
    t.observe(reading({ a: [1, 11, 150], b: [2, 12, 200] }), at(60), RULES);
    expect(t.idle(ms(70), 40_000)).toEqual(["b"]);
    // b's counters were deleted: it is not idle any more, and when they come back all they hold is new
    t.deleted(["b"]);
    expect(t.idle(ms(200), 40_000)).toEqual(["a"]);
    t.acknowledge(t.take(10));
    t.observe(reading({ a: [1, 11, 150] }), at(90), RULES);
    t.observe(reading({ a: [1, 11, 150], b: [1, 3, 90] }), at(95), RULES);
    expect(t.take(10)).toEqual([{ ruleId: "b", connections: 1, packets: 3, bytes: 90, lastHitAt: at(95) }]);
  });

  it("gives the metrics every counted rule, growing only, and forgets rules that left the ruleset", () => {
    const t = new RuleCounterTally();
    t.observe(reading({ a: 1, b: 1 }), "2026-12-05T10:00:00.000Z", ["a", "b", "c"]);
    t.observe(reading({ a: 3, b: 1 }), "2026-12-05T10:00:05.000Z", ["a", "b", "c"]);
    expect(t.latest()).toEqual([
      { ruleId: "a", connections: 3, packets: 0, bytes: 0, lastHitAt: "2026-12-05T10:00:05.000Z" },
      { ruleId: "b", connections: 1, packets: 0, bytes: 0, lastHitAt: null },
      { ruleId: "c", connections: 0, packets: 0, bytes: 0, lastHitAt: null },
    ]);
    // a timed out (no longer listed) and came back with a fresh counter: the total still grows
    t.observe(reading({ b: 1 }), "2026-12-05T10:06:00.000Z", ["a", "b", "c"]);
    t.observe(reading({ a: 2, b: 1 }), "2026-12-05T10:09:00.000Z", ["a", "b"]);
    expect(t.latest()).toEqual([
      { ruleId: "a", connections: 5, packets: 0, bytes: 0, lastHitAt: "2026-12-05T10:09:00.000Z" },
      { ruleId: "b", connections: 1, packets: 0, bytes: 0, lastHitAt: null },
    ]);
  });
});

describe("readIntervalMs", () => {
  it("keeps the configured interval while reads are quick, and keeps reading under 0.2% of the time", () => {
    expect(readIntervalMs(5_000, 8)).toBe(5_000);
    expect(readIntervalMs(5_000, 60)).toBe(30_000);
    // however slow, at least once a minute
    expect(readIntervalMs(5_000, 5_000)).toBe(60_000);
  });
});
