import pino from "pino";
import { describe, expect, it } from "vitest";
import { FakeRunner } from "../../testkit/fakes/runner";
import { gatewaySpec, isp } from "../../testkit/spec-fixtures";
import type { GatewaySpec } from "../../core/spec/schema";
import type { Transition } from "../../core/health/link-state";
import { HealthMonitor, pickSourceAddress } from "./monitor";
import { type FakeProcess, fakeSpawner } from "../../testkit/fakes/spawner";

const ADDR = JSON.stringify([{ addr_info: [{ family: "inet", local: "100.65.1.11", prefixlen: 24 }] }]);

function spec(monitorA: Partial<GatewaySpec["isps"][number]["monitor"]> = {}): GatewaySpec {
  const a = isp("a", 1, "ispa", "100.65.1.2");
  return gatewaySpec({
    isps: [
      { ...a, monitor: { ...a.monitor, intervalMs: 100, downAfter: 2, ...monitorA } },
      isp("b", 2, "ispb", "100.65.2.2"),
    ],
    pools: [],
    entries: [],
  });
}

function setup() {
  const { spawner, procs } = fakeSpawner();
  const runner = new FakeRunner()
    .on(["ip", "-j", "-4", "addr", "show"], { stdout: ADDR })
    // ispb has no address yet: the kernel picks the source
    .on(["ip", "-j", "-4", "addr", "show", "dev", "ispb"], { stdout: "[]" })
    .on(["ip", "-4", "-j", "rule", "show"], { stdout: "[]" });
  const transitions: Array<[string, Transition]> = [];
  let clock = 0;
  const monitor = new HealthMonitor({
    spawner,
    runner,
    log: pino({ level: "silent" }),
    onTransition: (id, t) => transitions.push([id, t]),
    now: () => clock,
    restartMs: { baseMs: 5, capMs: 10 },
  });
  const line = (p: FakeProcess | undefined, text: string) => p?.handlers.stdout?.(`${text}\n`);
  return { monitor, runner, procs, transitions, line, tick: (ms: number) => (clock += ms) };
}

describe("health monitor", () => {
  it("runs one fping per ISP, bound to its interface and the address on the next hop's subnet", async () => {
    const t = setup();
    await t.monitor.configure(spec());
    expect(t.procs.map((p) => p.args.join(" "))).toEqual([
      "fping -4 -l -p 100 -t 1000 -I ispa -S 100.65.1.11 -A 100.65.1.2",
      "fping -4 -l -p 500 -t 1000 -I ispb -A 100.65.2.2",
    ]);
  });

  it("turns fping's lines into state changes", async () => {
    const t = setup();
    await t.monitor.configure(spec());
    const a = t.procs[0];
    t.line(a, "100.65.1.2 : [0], 64 bytes, 0.10 ms (0.10 avg, 0% loss)");
    t.tick(100);
    // a line split across two chunks
    a?.handlers.stdout?.("100.65.1.2 : [1], timed");
    a?.handlers.stdout?.(" out (0.10 avg, 50% loss)\n");
    t.tick(100);
    t.line(a, "100.65.1.2 : [2], timed out (0.10 avg, 66% loss)");
    expect(t.transitions.map(([id, tr]) => [id, tr.to])).toEqual([
      ["a", "up"],
      ["a", "degraded"],
      ["a", "down"],
    ]);
    expect(t.monitor.states().get("a")).toBe("down");
    expect(t.monitor.status().find((s) => s.ispId === "a")).toMatchObject({ probesSent: 3, probesLost: 2 });
  });

  it("takes an ISP down at once when its interface loses the carrier, and leaves coming back to the probes", async () => {
    const t = setup();
    await t.monitor.configure(spec());
    const a = t.procs[0];
    t.line(a, "100.65.1.2 : [0], 64 bytes, 0.10 ms (0.10 avg, 0% loss)");
    t.monitor.syncCarriers(
      new Map([
        ["ispa", true],
        ["ispb", true],
      ]),
    );
    t.tick(30);
    t.monitor.carrier("ispa", false);
    t.monitor.carrier("ispa", false);
    t.monitor.carrier("lan0", false);
    expect(t.transitions.map(([id, tr]) => [id, tr.to, tr.reason])).toEqual([
      ["a", "up", "answering probes"],
      ["a", "down", "no carrier on ispa"],
    ]);
    t.monitor.carrier("ispa", true);
    t.line(a, "100.65.1.2 : [1], 64 bytes, 0.10 ms (0.10 avg, 0% loss)");
    expect(t.monitor.states().get("a")).toBe("down");
  });

  it("starts a fresh fping when an interface comes back (ppp0 created again by pppd), keeping the ISP's state", async () => {
    const t = setup();
    await t.monitor.configure(spec());
    t.monitor.syncCarriers(
      new Map([
        ["ispa", true],
        ["ispb", true],
      ]),
    );
    t.line(t.procs[0], "100.65.1.2 : [0], 64 bytes, 0.10 ms (0.10 avg, 0% loss)");
    expect(t.procs).toHaveLength(2);
    t.monitor.carrier("ispa", false);
    expect(t.procs).toHaveLength(2);
    t.monitor.carrier("ispa", true);
    await new Promise((r) => setTimeout(r, 10));
    expect(t.procs).toHaveLength(3);
    expect(t.procs[0]?.stopped).toBe(true);
    expect(t.procs[1]?.stopped).toBe(false);
    expect(t.procs[2]?.args.join(" ")).toBe("fping -4 -l -p 100 -t 1000 -I ispa -S 100.65.1.11 -A 100.65.1.2");
    // the old one's end is no prober failure, and coming back is still left to the probes
    expect(t.monitor.status().find((s) => s.ispId === "a")?.proberError).toBe("");
    expect(t.monitor.states().get("a")).toBe("down");
    t.line(t.procs[2], "100.65.1.2 : [0], 64 bytes, 0.10 ms (0.10 avg, 0% loss)");
    t.tick(100);
    t.line(t.procs[2], "100.65.1.2 : [1], 64 bytes, 0.10 ms (0.10 avg, 0% loss)");
    t.tick(100);
    t.line(t.procs[2], "100.65.1.2 : [2], 64 bytes, 0.10 ms (0.10 avg, 0% loss)");
    expect(t.monitor.status().find((s) => s.ispId === "a")).toMatchObject({ probesSent: 3, probesLost: 0 });
  });

  it("starts a fresh fping from the interface's new address, and only when the address changed", async () => {
    const t = setup();
    await t.monitor.configure(spec());
    await t.monitor.addressChanged("ispa");
    await t.monitor.addressChanged("lan0");
    expect(t.procs).toHaveLength(2);
    t.runner.on(["ip", "-j", "-4", "addr", "show", "dev", "ispa"], {
      stdout: JSON.stringify([{ addr_info: [{ family: "inet", local: "100.65.1.12", prefixlen: 24 }] }]),
    });
    await t.monitor.addressChanged("ispa");
    await new Promise((r) => setTimeout(r, 10));
    expect(t.procs).toHaveLength(3);
    expect(t.procs[0]?.stopped).toBe(true);
    expect(t.procs[2]?.args).toContain("100.65.1.12");
    // two changes at once start one fping
    t.runner.on(["ip", "-j", "-4", "addr", "show", "dev", "ispa"], { stdout: "[]" });
    await Promise.all([t.monitor.addressChanged("ispa"), t.monitor.addressChanged("ispa")]);
    await new Promise((r) => setTimeout(r, 10));
    expect(t.procs.filter((p) => !p.stopped).map((p) => p.args.join(" "))).toEqual([
      "fping -4 -l -p 500 -t 1000 -I ispb -A 100.65.2.2",
      "fping -4 -l -p 100 -t 1000 -I ispa -A 100.65.1.2",
    ]);
  });

  it("counts an ISP interface missing from the host as without carrier", async () => {
    const t = setup();
    await t.monitor.configure(spec());
    t.monitor.syncCarriers(new Map([["ispa", true]]));
    expect(t.monitor.states().get("b")).toBe("down");
    expect(t.monitor.states().get("a")).toBe("unknown");
  });

  it("restarts fping when it exits, with the ISP unknown meanwhile", async () => {
    const t = setup();
    await t.monitor.configure(spec());
    t.line(t.procs[0], "100.65.1.2 : [0], 64 bytes, 0.10 ms (0.10 avg, 0% loss)");
    t.procs[0]?.exit({ code: 4 });
    await new Promise((r) => setTimeout(r, 30));
    expect(t.transitions.at(-1)?.[1]).toMatchObject({
      to: "unknown",
      reason: expect.stringMatching(/fping for a stopped/),
    });
    expect(t.procs).toHaveLength(3);
    expect(t.procs[2]?.args).toContain("ispa");
    expect(t.monitor.status().find((s) => s.ispId === "a")?.proberError).toMatch(/stopped/);
  });

  it("keeps probing across reloads that do not change probing, and restarts an ISP whose settings changed", async () => {
    const t = setup();
    await t.monitor.configure(spec());
    await t.monitor.configure(spec());
    expect(t.procs).toHaveLength(2);
    await t.monitor.configure(spec({ intervalMs: 200 }));
    expect(t.procs[0]?.stopped).toBe(true);
    expect(t.procs[1]?.stopped).toBe(false);
    expect(t.procs[2]?.args.join(" ")).toContain("-p 200");
    t.monitor.stop();
    expect(t.procs.every((p) => p.stopped)).toBe(true);
  });

  it("picks the gateway's address on the next hop's subnet", () => {
    const two = JSON.stringify([
      {
        addr_info: [
          { family: "inet", local: "198.51.100.2", prefixlen: 24 },
          { family: "inet", local: "100.65.1.11", prefixlen: 24 },
        ],
      },
    ]);
    expect(pickSourceAddress(two, "100.65.1.2")).toBe("100.65.1.11");
    expect(pickSourceAddress(two, "203.0.113.1")).toBe("198.51.100.2");
    expect(pickSourceAddress("[]", "100.65.1.2")).toBeNull();
    expect(pickSourceAddress("not json", "100.65.1.2")).toBeNull();
  });
});
