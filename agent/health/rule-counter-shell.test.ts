import { writeSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type FakeProcess, fakeSpawner } from "../../testkit/fakes/spawner";
import { RuleCounterShell } from "./rule-counter-shell";

const tick = () => new Promise((r) => setTimeout(r, 0));
const KEYS = new Map([
  [0x08001000, "a"],
  [0x08001001, "a"],
  [0x08002000, "b"],
]);
const listing = (elements: string) =>
  `table inet gatehouse {\n\tset rule_hits {\n\t\ttype mark\n\t\tcounter\n\t\telements = { ${elements} }\n\t}\n}\n`;

/** nft's answer to the request numbered n: stdout into its file, then the end marker's error on stderr (in pieces) */
function answer(p: FakeProcess, n: number, stdout: string, stderr = "") {
  if (stdout !== "") writeSync(p.handlers.stdoutFd as number, stdout);
  const end = `Error: No such file or directory\nlist set inet gatehouse gatehouse_reading_end_${n}\n                        ^^^^^^^^^^^^^^^^^^^^^^^^\n`;
  const text = stderr + end;
  p.handlers.stderr?.(text.slice(0, 50));
  p.handlers.stderr?.(text.slice(50, -3));
  p.handlers.stderr?.(text.slice(-3));
}

describe("RuleCounterShell", () => {
  it("reads the counters through one nft -i, each listing from the file nft wrote it to", async () => {
    const { spawner, procs } = fakeSpawner();
    const shell = new RuleCounterShell({ spawner });
    try {
      const first = shell.read(KEYS);
      await tick();
      const p = procs[0] as FakeProcess;
      expect(p.args).toEqual(["nft", "-i"]);
      expect(p.handlers.stdoutFd).toEqual(expect.any(Number));
      expect(p.written).toEqual([
        "list set inet gatehouse rule_hits\nlist set inet gatehouse gatehouse_reading_end_1\n",
      ]);
      answer(p, 1, listing("0x08001001 counter packets 4 bytes 240, 0x08002000 counter packets 9 bytes 540"));
      const r1 = await first;
      expect(Object.fromEntries(r1.counters)).toEqual({
        a: { connections: 4, packets: 0, bytes: 0 },
        b: { connections: 0, packets: 9, bytes: 540 },
      });
      expect(r1.noSet).toBe(false);
      // the same shell; the file holds only the new answer
      const second = shell.read(KEYS);
      await tick();
      expect(procs).toHaveLength(1);
      answer(p, 2, listing("0x08001001 counter packets 7 bytes 420"));
      expect(Object.fromEntries((await second).counters)).toEqual({ a: { connections: 7, packets: 0, bytes: 0 } });
    } finally {
      shell.stop();
    }
  });

  it("reads no counters when the set is missing but the table is there, and fails with nft's words otherwise", async () => {
    const { spawner, procs } = fakeSpawner();
    const shell = new RuleCounterShell({ spawner });
    try {
      const missing = shell.read(KEYS);
      await tick();
      const p = procs[0] as FakeProcess;
      answer(p, 1, "", "Error: No such file or directory\nlist set inet gatehouse rule_hits\n             ^^^^^^^^^\n");
      await tick();
      const tables = procs[1] as FakeProcess;
      expect(tables.args).toEqual(["nft", "list", "tables", "inet"]);
      tables.handlers.stdout?.("table inet gatehouse\n");
      tables.exit({ code: 0 });
      expect(await missing).toMatchObject({ counters: new Map(), noSet: true });

      const refused = shell.read(KEYS);
      await tick();
      answer(
        p,
        2,
        "",
        "Error: Could not process rule: Operation not permitted\nlist set inet gatehouse rule_hits\n^^^\n",
      );
      await expect(refused).rejects.toThrow(/nft -i: list set inet gatehouse rule_hits: Error: Could not process rule/);
    } finally {
      shell.stop();
    }
  });

  it("reads by a process of its own when the shell dies or hangs, and gives the shell up after three failures", async () => {
    const { spawner, procs } = fakeSpawner();
    const shell = new RuleCounterShell({ spawner, timeoutMs: 50 });
    const oneShot = async (at: number) => {
      const p = procs[at] as FakeProcess;
      expect(p.args).toEqual(["nft", "list", "set", "inet", "gatehouse", "rule_hits"]);
      p.handlers.stdout?.(listing("0x08001001 counter packets 1 bytes 60"));
      p.exit({ code: 0 });
    };
    try {
      // dies while asked
      const died = shell.read(KEYS);
      await tick();
      procs[0]?.exit({ code: 1, error: null });
      await tick();
      await oneShot(1);
      expect((await died).counters.get("a")?.connections).toBe(1);
      // hangs: stopped after the time limit
      const hung = shell.read(KEYS);
      await tick();
      expect(procs[2]?.args).toEqual(["nft", "-i"]);
      await new Promise((r) => setTimeout(r, 80));
      expect(procs[2]?.stopped).toBe(true);
      await oneShot(3);
      expect((await hung).counters.get("a")?.connections).toBe(1);
      // a third failure: the shell is given up
      const third = shell.read(KEYS);
      await tick();
      procs[4]?.exit({ code: 1 });
      await tick();
      await oneShot(5);
      await third;
      expect(shell.usable()).toBe(false);
      const after = shell.read(KEYS);
      await tick();
      await oneShot(6);
      await after;
      expect(procs.filter((p) => p.args.join(" ") === "nft -i")).toHaveLength(3);
    } finally {
      shell.stop();
    }
  });
});

describe("RuleCounterShell without a temporary directory", () => {
  it("reads by a process of its own when nft's output file cannot be made", async () => {
    const { spawner, procs } = fakeSpawner();
    const shell = new RuleCounterShell({ spawner, tmpDir: "/nonexistent/gatehouse" });
    try {
      const read = shell.read(KEYS);
      await tick();
      expect(procs.map((p) => p.args.join(" "))).toEqual(["nft list set inet gatehouse rule_hits"]);
      procs[0]?.handlers.stdout?.(listing("0x08001001 counter packets 2 bytes 120"));
      procs[0]?.exit({ code: 0 });
      expect((await read).counters.get("a")?.connections).toBe(2);
    } finally {
      shell.stop();
    }
  });
});
