import { describe, expect, it } from "vitest";
import { fakeSpawner } from "../../testkit/fakes/spawner";
import { readRuleCounters } from "./rule-counter-reader";

const tick = () => new Promise((r) => setTimeout(r, 0));
const KEYS = new Map([
  [0x08001000, "a"],
  [0x08001001, "a"],
]);

describe("readRuleCounters", () => {
  it("lists the rules' counter set and parses what nft streams", async () => {
    const { spawner, procs } = fakeSpawner();
    const read = readRuleCounters(spawner, KEYS);
    await tick();
    const p = procs[0];
    if (p === undefined) throw new Error("nft was not started");
    expect(p.args).toEqual(["nft", "list", "set", "inet", "gatehouse", "rule_hits"]);
    p.handlers.stdout?.("table inet gatehouse {\n\tset rule_hits {\n\t\ttype mark\n\t\tcounter\n");
    p.handlers.stdout?.("\t\telements = { 0x08001001 counter packets 4 bytes 2");
    p.handlers.stdout?.("40, 0x08002001 counter packets 9 bytes 540 }\n\t}\n}\n");
    p.exit({ code: 0 });
    const r = await read;
    expect(Object.fromEntries(r.counters)).toEqual({ a: { connections: 4, packets: 0, bytes: 0 } });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(r.noSet).toBe(false);
  });

  it("fails with nft's own words when nft fails", async () => {
    const { spawner, procs } = fakeSpawner();
    const read = readRuleCounters(spawner, KEYS);
    await tick();
    procs[0]?.handlers.stderr?.("Error: Could not process rule: Operation not permitted\n");
    procs[0]?.exit({ code: 1 });
    await expect(read).rejects.toThrow(
      /nft list set inet gatehouse rule_hits: exit 1: Error: Could not process rule: Operation not permitted/,
    );
  });

  it("reads no counters when the policy has no counted rule (no set), and fails when the table is missing", async () => {
    for (const [tables, outcome] of [
      ["table inet gatehouse\ntable inet gatehouse_guard\n", "empty"],
      ["table inet gatehouse_guard\n", "fails"],
    ] as const) {
      const { spawner, procs } = fakeSpawner();
      const read = readRuleCounters(spawner, KEYS);
      await tick();
      procs[0]?.handlers.stderr?.("Error: No such file or directory\nlist set inet gatehouse rule_hits\n");
      procs[0]?.exit({ code: 1 });
      await tick();
      const list = procs[1];
      if (list === undefined) throw new Error("the tables were not listed");
      expect(list.args).toEqual(["nft", "list", "tables", "inet"]);
      list.handlers.stdout?.(tables);
      list.exit({ code: 0 });
      if (outcome === "empty") expect(await read).toMatchObject({ counters: new Map(), noSet: true });
      else await expect(read).rejects.toThrow(/No such file or directory/);
    }
  });
});
