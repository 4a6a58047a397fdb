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

/** `nft list set inet gatehouse rule_counts` as nft 1.0.6 prints it: five elements to a line. */
const nftText = (elements: Array<[number, number, number, string]>) => {
  const items = elements.map(
    ([key, packets, bytes, rule]) =>
      `0x${key.toString(16).padStart(8, "0")} counter packets ${packets} bytes ${bytes} comment "${rule}"`,
  );
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += 5) lines.push(items.slice(i, i + 5).join(", "));
  return (
    "table inet gatehouse {\n\tset rule_counts {\n\t\ttype mark\n\t\tcounter\n" +
    '\t\tcomment "rule slot in the connection mark: the counters of the rules"\n' +
    `\t\telements = { ${lines.join(",\n\t\t\t     ")} }\n\t}\n}\n`
  );
};
const SLOT = 0x08001000;

describe("parseRuleCounters", () => {
  it("takes connections from the keys with the connections bit and traffic from the others", () => {
    const out = parseRuleCounters(
      nftText([
        [SLOT, 40, 5200, "abc"],
        [SLOT | 1, 3, 180, "abc"],
        [SLOT + 0x1000, 2, 100, "only"],
        [SLOT + 0x2000 + 1, 7, 420, "x-y_1"],
        [SLOT + 0x3000 + 1, 2 ** 60, 1, "huge"],
      ]),
    );
    expect(Object.fromEntries(out)).toEqual({
      abc: { connections: 3, packets: 40, bytes: 5200 },
      only: { connections: 0, packets: 2, bytes: 100 },
      "x-y_1": { connections: 7, packets: 0, bytes: 0 },
    });
  });

  it("ignores the set's own comment and elements without a rule", () => {
    const text = nftText([[SLOT | 1, 3, 180, "abc"]]).replace(
      "elements = {",
      'elements = { 0x08009001 counter packets 9 bytes 9 comment "", 0x0800a001 counter packets 9 bytes 9,',
    );
    expect(Object.fromEntries(parseRuleCounters(text))).toEqual({ abc: { connections: 3, packets: 0, bytes: 0 } });
  });

  it("reads the listing as it streams in, whatever the chunks' borders", () => {
    const many: Array<[number, number, number, string]> = [];
    for (let i = 0; i < 12; i++)
      many.push([SLOT + i * 0x1000, i * 10, i * 1000, `r${i}`], [SLOT + i * 0x1000 + 1, i, i, `r${i}`]);
    const text = nftText(many);
    const whole = parseRuleCounters(text);
    for (const size of [1, 7, 64]) {
      const parser = new RuleCounterParser({ keepElements: true });
      for (let i = 0; i < text.length; i += size) parser.push(text.slice(i, i + size));
      expect(parser.end()).toEqual(whole);
      expect(parser.elements()).toHaveLength(24);
      expect(parser.elements()[23]).toEqual({ key: SLOT + 11 * 0x1000 + 1, ruleId: "r11" });
    }
    expect(whole.size).toBe(12);
    expect(whole.get("r11")).toEqual({ connections: 11, packets: 110, bytes: 11_000 });
  });

  it("throws on output that is not a listing of the policy table", () => {
    expect(() => parseRuleCounters("Error: No such file or directory")).toThrow(/not a listing/);
    expect(() => parseRuleCounters("table inet gatehouse_guard {\n}\n")).toThrow(/not a listing/);
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
  it("keeps the configured interval while reads are quick, and keeps reading under 0.2% of the time", () => {
    expect(readIntervalMs(5_000, 8)).toBe(5_000);
    expect(readIntervalMs(5_000, 60)).toBe(30_000);
    // however slow, at least once a minute
    expect(readIntervalMs(5_000, 5_000)).toBe(60_000);
  });
});
