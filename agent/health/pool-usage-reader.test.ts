import { describe, expect, it } from "vitest";
import { MAX_POOL_ADDRESSES_PER_REPORT, zPoolUsageReport } from "../../core/protocol/health-report";
import { MAX_BODY_BYTES } from "../../core/protocol/agent-api";
import { FakeRunner } from "../../testkit/fakes/runner";
import { fakeSpawner } from "../../testkit/fakes/spawner";
import { gatewaySpec, isp, pool } from "../../testkit/spec-fixtures";
import { CONNTRACK_COUNT_FILE, CONNTRACK_MAX_FILE, CONNTRACK_STAT_FILE } from "./conntrack-usage";
import { CONNTRACK_TABLE_FILE, PoolUsageReader, usageIsQuiet } from "./pool-usage-reader";

/** a line of /proc/net/nf_conntrack; `conntrack -L` prints the same without the first two columns */
const line = (pool: string, n: number) =>
  `ipv4     2 tcp      6 431999 ESTABLISHED src=100.64.1.2 dst=203.0.113.10 sport=${40000 + n} dport=443 src=203.0.113.10 dst=${pool} sport=443 dport=${20000 + n} [ASSURED] mark=0 zone=0 use=2\n`;

const STATS = "cpu=0 found=0 invalid=0 insert=0 insert_failed=4 drop=1 early_drop=0 error=0 search_restart=0\n";
// /proc/net/stat/nf_conntrack of a two-CPU gateway (kernel 6.18's columns)
const STAT_FILE = `entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart
00000141  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000003 00000001 00000000 00000000  00000000 00000000 00000000 00000000
00000141  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000001 00000000 00000000 00000000  00000000 00000000 00000000 00000000
`;

/** A runner in another namespace (no direct reads): /proc goes through `cat`. */
function runner() {
  return new FakeRunner()
    .on(["cat", CONNTRACK_COUNT_FILE], { stdout: "321\n" })
    .on(["cat", CONNTRACK_STAT_FILE], { stdout: STAT_FILE })
    .on(["cat", CONNTRACK_MAX_FILE], { stdout: "262144\n" });
}

const tick = () => new Promise((r) => setTimeout(r, 0));

/** one ISP, one pool with one address */
const onePoolSpec = () =>
  gatewaySpec({ isps: [isp("a", 1, "ispa", "100.65.1.2")], pools: [pool("pa", "a", ["198.51.100.10"])], entries: [] });

describe("PoolUsageReader", () => {
  it("streams the SNATed listing through the tally and reads the table's counters", async () => {
    const { spawner, procs } = fakeSpawner();
    const reader = new PoolUsageReader(runner(), spawner);
    const spec = gatewaySpec({
      isps: [isp("a", 1, "ispa", "100.65.1.2")],
      pools: [pool("pa", "a", ["198.51.100.10", "198.51.100.11"], { from: 20_000, to: 20_099 })],
      entries: [],
    });
    const done = reader.refresh(spec);
    await tick();
    const p = procs[0];
    if (p === undefined) throw new Error("no dump started");
    expect(p.args).toEqual(["cat", CONNTRACK_TABLE_FILE]);
    const text = Array.from({ length: 3 }, (_, n) => line("198.51.100.10", n)).join("");
    p.handlers.stdout?.(text.slice(0, 100));
    p.handlers.stdout?.(text.slice(100));
    p.exit({ code: 0 });
    const report = await done;
    expect(report?.partial).toBe(false);
    expect(report?.addresses.map((a) => [a.address, a.ports, a.tcp, a.busiest?.connections ?? 0])).toEqual([
      ["198.51.100.10", 100, 3, 3],
      ["198.51.100.11", 100, 0, 0],
    ]);
    expect(report?.conntrack).toEqual({ count: 321, max: 262144, insertFailed: 4, drop: 1, earlyDrop: 0 });
    expect(reader.latest()).toBe(report);
  });

  it("stops a dump past its line bound and says the counts are partial", async () => {
    const { spawner, procs } = fakeSpawner();
    const reader = new PoolUsageReader(runner(), spawner, { maxLines: 2 });
    const spec = onePoolSpec();
    const done = reader.refresh(spec);
    await tick();
    procs[0]?.handlers.stdout?.(line("198.51.100.10", 1) + line("198.51.100.10", 2) + line("198.51.100.10", 3));
    const report = await done;
    expect(procs[0]?.stopped).toBe(true);
    expect(report?.partial).toBe(true);
    expect(report?.addresses[0]?.ports).toBe(64_512);
    // a dump cut short would undercount what a failover cuts: no ISP is counted then
    expect(reader.ispConnections().size).toBe(0);
  });

  it("counts the connections per ISP from the same dump, also when the spec has no pools", async () => {
    const { spawner, procs } = fakeSpawner();
    const reader = new PoolUsageReader(runner(), spawner);
    const spec = gatewaySpec({
      isps: [isp("a", 1, "ispa", "100.65.1.2"), isp("b", 2, "ispb", "100.65.2.2")],
      pools: [],
      entries: [],
    });
    const done = reader.refresh(spec);
    await tick();
    expect(procs).toHaveLength(1);
    procs[0]?.handlers.stdout?.(line("100.64.1.2", 1).replace("mark=0", "mark=2") + line("100.64.1.2", 2));
    procs[0]?.exit({ code: 0 });
    await done;
    expect([...reader.ispConnections()]).toEqual([
      [1, 0],
      [2, 1],
    ]);
  });

  it("reports the busiest addresses of a big pool, within what a report may carry", async () => {
    const { spawner, procs } = fakeSpawner();
    const reader = new PoolUsageReader(runner(), spawner);
    const addresses = Array.from({ length: 1024 }, (_, i) => `100.${100 + (i >> 8)}.${i & 255}.1`);
    const spec = gatewaySpec({
      isps: [isp("a", 1, "ispa", "100.65.1.2")],
      pools: [pool("pa", "a", addresses)],
      entries: [],
    });
    const done = reader.refresh(spec);
    await tick();
    // the last address is the only busy one
    procs[0]?.handlers.stdout?.(line(addresses[1023] ?? "", 1));
    procs[0]?.exit({ code: 0 });
    const report = await done;
    expect(report?.addresses).toHaveLength(MAX_POOL_ADDRESSES_PER_REPORT);
    expect(report?.addresses.some((a) => a.address === addresses[1023] && a.tcp === 1)).toBe(true);
    expect(zPoolUsageReport.parse(report)).toEqual(report);
    expect(JSON.stringify(report).length).toBeLessThan(MAX_BODY_BYTES / 3);
  });

  it("lists the table with conntrack -L from the first read that finds no /proc listing on", async () => {
    const { spawner, procs } = fakeSpawner();
    const reader = new PoolUsageReader(runner(), spawner);
    const spec = onePoolSpec();
    const first = reader.refresh(spec);
    await tick();
    procs[0]?.exit({ code: 1 });
    await tick();
    expect(procs.map((p) => p.args.join(" "))).toEqual([`cat ${CONNTRACK_TABLE_FILE}`, "conntrack -L"]);
    // conntrack prints the kernel's lines without the address family's two columns
    procs[1]?.handlers.stdout?.(
      line("198.51.100.10", 1)
        .replace(/^ipv4 +2 +/, "")
        .replace(" zone=0 use=2", " use=1"),
    );
    procs[1]?.exit({ code: 0 });
    expect((await first)?.addresses[0]?.tcp).toBe(1);
    const second = reader.refresh(spec);
    await tick();
    expect(procs[2]?.args).toEqual(["conntrack", "-L"]);
    procs[2]?.exit({ code: 0 });
    expect((await second)?.addresses[0]?.tcp).toBe(0);
  });

  it("reports nothing when the listing fails, and never throws", async () => {
    const { spawner, procs } = fakeSpawner();
    const reader = new PoolUsageReader(runner(), spawner);
    const spec = onePoolSpec();
    const done = reader.refresh(spec);
    await tick();
    // a listing cut off midway is not one to fall back from: the counts so far are not reported
    procs[0]?.handlers.stdout?.(line("198.51.100.10", 1));
    procs[0]?.exit({ code: 1 });
    expect(await done).toBeNull();
    expect(procs).toHaveLength(1);
    const again = reader.refresh(spec);
    await tick();
    procs[1]?.exit({ code: 1 });
    await tick();
    procs[2]?.exit({ code: 1 });
    expect(await again).toBeNull();
    expect(procs.map((p) => p.args[0])).toEqual(["cat", "cat", "conntrack"]);
  });

  it("reads /proc directly on the gateway itself, and asks conntrack -S where the kernel has no stat file", async () => {
    const files = new Map([
      [CONNTRACK_COUNT_FILE, "7\n"],
      [CONNTRACK_MAX_FILE, "65536\n"],
    ]);
    const fake = new FakeRunner().on(["conntrack", "-S"], { stdout: STATS });
    const local = Object.assign(fake, {
      readFile: async (path: string) => {
        const text = files.get(path);
        if (text === undefined) throw new Error(`ENOENT: ${path}`);
        return text;
      },
    });
    const { spawner, procs } = fakeSpawner();
    const reader = new PoolUsageReader(local, spawner);
    const spec = onePoolSpec();
    const done = reader.refresh(spec);
    await tick();
    procs[0]?.exit({ code: 0 });
    expect((await done)?.conntrack).toEqual({ count: 7, max: 65536, insertFailed: 4, drop: 1, earlyDrop: 0 });
    expect(fake.commands()).toEqual(["conntrack -S"]);
  });
});

describe("usageIsQuiet", () => {
  const report = (busiest: number | null, partial = false) => ({
    at: "2026-12-06T10:00:00.000Z",
    partial,
    conntrack: null,
    addresses: [
      {
        poolId: "pa",
        address: "198.51.100.10",
        ports: 100,
        tcp: busiest ?? 0,
        udp: 0,
        other: 0,
        busiest:
          busiest === null
            ? null
            : { protocol: "tcp" as const, destination: "203.0.113.10", port: 443, connections: busiest },
      },
    ],
  });

  it("is quiet while the table holds steady and every address is below half full", () => {
    expect(usageIsQuiet(report(null), 150, 150)).toBe(true);
    expect(usageIsQuiet(report(49), 150, 158)).toBe(true);
    // a table of thousands may move by 5%
    expect(usageIsQuiet(report(10), 10_000, 10_450)).toBe(true);
  });

  it("is not quiet once a pool address is half full, the table moves, or the last dump says nothing sure", () => {
    expect(usageIsQuiet(report(50), 150, 150)).toBe(false);
    expect(usageIsQuiet(report(10), 150, 165)).toBe(false);
    expect(usageIsQuiet(report(10), 150, 120)).toBe(false);
    expect(usageIsQuiet(report(10), 10_000, 10_600)).toBe(false);
    expect(usageIsQuiet(report(10, true), 150, 150)).toBe(false);
    expect(usageIsQuiet(null, 150, 150)).toBe(false);
    expect(usageIsQuiet(report(10), null, 150)).toBe(false);
    expect(usageIsQuiet(report(10), 150, null)).toBe(false);
  });
});
