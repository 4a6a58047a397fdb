import { describe, expect, it } from "vitest";
import { fakeSpawner } from "../../testkit/fakes/spawner";
import { readRuleCounters } from "./rule-counter-reader";

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("readRuleCounters", () => {
  it("lists the policy table's counters and parses what nft streams", async () => {
    const { spawner, procs } = fakeSpawner();
    const read = readRuleCounters(spawner);
    await tick();
    const p = procs[0];
    if (p === undefined) throw new Error("nft was not started");
    expect(p.args).toEqual(["nft", "list", "counters", "table", "inet", "gatehouse"]);
    p.handlers.stdout?.("table inet gatehouse {\n\tcounter rule_a {\n\t\tpack");
    p.handlers.stdout?.("ets 4 bytes 240\n\t}\n}\n");
    p.exit({ code: 0 });
    const r = await read;
    expect(Object.fromEntries(r.counters)).toEqual({ a: { connections: 4, packets: 0, bytes: 0 } });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("fails with nft's own words when nft fails", async () => {
    const { spawner, procs } = fakeSpawner();
    const read = readRuleCounters(spawner);
    await tick();
    procs[0]?.handlers.stderr?.("Error: No such file or directory\n");
    procs[0]?.exit({ code: 1 });
    await expect(read).rejects.toThrow(/nft list counters table inet gatehouse: exit 1: Error: No such file/);
  });
});
