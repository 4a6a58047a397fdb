/**
 * Virtual services benchmark: new connections per second through one virtual address with 1 and
 * with 1,000 services of 4 real servers each configured, next to the same services as linear
 * iptables DNAT rules with the statistic match (kube-proxy's way), in one lab and one run.
 *
 *   npm run bench:services            (root; about a minute)
 *
 * New connections come from udpflood.mjs on the lab's internet server: one UDP packet per
 * (source port, destination port) pair, so every packet is a new conntrack entry that must be
 * scheduled. The service under test therefore takes every port of its address (the sender varies
 * the destination port); the other 999 take one port each on other addresses, and come first in
 * the iptables rules, so a linear ruleset walks them all. Its 4 real servers are LAN client 1's
 * addresses, where the packets are counted and dropped. The rate is what reached the real
 * servers per second of sending (the best of the rounds: a busy neighbour only slows a run
 * down). The last line is machine-readable:
 *
 *   RESULT ratio_1k=<gatehouse rate with 1000 services / with 1> iptables_ratio_1k=<same for iptables>
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CommandRunner, describeFailure, ok } from "../agent/apply/runner";
import { renderNft } from "../core/render/nft";
import type { SpecVirtualService } from "../core/spec/virtual-services";
import { labSpec } from "../testkit/datapath";
import { buildLab, type Lab } from "../testkit/lab/lab";
import { startFlood } from "../testkit/lab/traffic";
import { virtualService } from "../testkit/spec-fixtures";
import { installCounters } from "./lib/counters";

const SIZES = [1, 1000];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const FLOOD_SECONDS = 1.5;
const FLOOD_MAX_PACKETS = 400_000;
const VIP = "198.51.100.90";
/** the service under test's real servers: client 1's own address and three on its loopback */
const REAL_SERVERS = ["100.64.1.2", "100.97.0.1", "100.97.0.2", "100.97.0.3"];

async function must(runner: CommandRunner, args: string[], input?: string): Promise<void> {
  const r = await runner.run(args, { input, timeoutMs: 120_000 });
  if (!ok(r)) throw new Error(describeFailure(r));
}

/** n services: n - 1 on one port each (20 per address), then the one under test on every port. */
function services(n: number): SpecVirtualService[] {
  const out: SpecVirtualService[] = [];
  for (let i = 0; i < n - 1; i++) {
    const servers = [1, 2, 3, 4].map((k) => ({ address: `100.80.${Math.floor(i / 50)}.${(i % 50) * 4 + k}` }));
    out.push(
      virtualService(`s${i}`, `198.51.100.${30 + Math.floor(i / 20)}`, 1000 + (i % 20), servers, { protocol: "udp" }),
    );
  }
  out.push(
    virtualService(
      "test",
      VIP,
      null,
      REAL_SERVERS.map((address) => ({ address })),
      { protocol: "udp" },
    ),
  );
  return out;
}

/** The same services as iptables-restore input: one jump per service, in order, then nth DNATs. */
function iptablesServices(list: SpecVirtualService[]): string {
  const lines = ["*nat", ":PREROUTING ACCEPT [0:0]", ...list.map((_, i) => `:SVC-${i} - [0:0]`)];
  list.forEach((s, i) => {
    const port = s.port === null ? "" : ` --dport ${s.port}`;
    lines.push(`-A PREROUTING -d ${s.address}/32 -p ${s.protocol} -m ${s.protocol}${port} -j SVC-${i}`);
    const n = s.realServers.length;
    s.realServers.forEach((rs, k) => {
      const pick = k < n - 1 ? ` -m statistic --mode nth --every ${n - k} --packet 0` : "";
      lines.push(`-A SVC-${i}${pick} -j DNAT --to-destination ${rs.address}`);
    });
  });
  lines.push("COMMIT", "");
  return lines.join("\n");
}

async function measureRate(lab: Lab, counters: Awaited<ReturnType<typeof installCounters>>): Promise<number> {
  await lab.must(lab.ns.gateway, ["conntrack", "-F"]);
  await counters.reset();
  const flood = startFlood(lab, lab.ns.server, {
    dst: VIP,
    src: lab.servers[0] as string,
    seconds: FLOOD_SECONDS,
    count: FLOOD_MAX_PACKETS,
    sockets: 8,
  });
  const sent = await flood.result;
  const seen = await counters.read();
  const served = seen.served ?? 0;
  if ((seen.other ?? 0) > 0) throw new Error(`${seen.other} packets reached client 1 without DNAT`);
  if (served < sent.sent * 0.9) throw new Error(`only ${served} of ${sent.sent} packets reached the real servers`);
  return served / sent.seconds;
}

interface Sample {
  gatehouse: number;
  iptables: number;
}

async function round(lab: Lab, dir: string, n: number, counters: Awaited<ReturnType<typeof installCounters>>) {
  const gw = lab.runner(lab.ns.gateway);
  const list = services(n);
  await must(gw, ["nft", "flush", "ruleset"]);
  const file = join(dir, `services-${n}.nft`);
  await writeFile(file, renderNft({ ...labSpec(lab, []), virtualServices: list }, new Map()).text);
  await must(gw, ["nft", "-f", file]);
  const gatehouse = await measureRate(lab, counters);
  await must(gw, ["nft", "flush", "ruleset"]);
  await must(gw, ["iptables-nft-restore"], iptablesServices(list));
  const iptables = await measureRate(lab, counters);
  await must(gw, ["nft", "flush", "ruleset"]);
  return { gatehouse, iptables };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the benchmark creates network namespaces: run it as root");
  const lab = await buildLab({ clients: 1, prefix: "ghbs" });
  const dir = await mkdtemp(join(tmpdir(), "gatehouse-bench-"));
  const samples = new Map<number, Sample[]>(SIZES.map((n) => [n, []]));
  try {
    await lab.addClientAddresses(0, REAL_SERVERS.slice(1), "100.97.0.0/24");
    const counters = await installCounters(lab, lab.clients[0]?.ns as string, [
      { name: "served", match: `udp dport 1024-65535 ip daddr { ${REAL_SERVERS.join(", ")} }` },
      { name: "other", match: "udp dport 1024-65535" },
    ]);
    for (let r = 1; r <= ROUNDS; r++) {
      // every other round the other way round, so a load that grows or fades favours neither
      for (const n of r % 2 === 1 ? SIZES : [...SIZES].reverse()) {
        const s = await round(lab, dir, n, counters);
        samples.get(n)?.push(s);
        console.log(
          `round ${r} services=${n}: gatehouse ${Math.round(s.gatehouse)}/s | iptables-nft ${Math.round(s.iptables)}/s`,
        );
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await lab.destroy();
  }
  const best = (n: number, key: keyof Sample) => Math.max(...(samples.get(n) ?? []).map((s) => s[key]));
  console.log("\nservices  gatehouse new conn/s | iptables-nft new conn/s");
  for (const n of SIZES) {
    console.log(
      `${String(n).padStart(8)}  ${String(Math.round(best(n, "gatehouse"))).padStart(20)} | ${String(Math.round(best(n, "iptables"))).padStart(23)}`,
    );
  }
  const [small, big] = SIZES as [number, number];
  console.log(
    `RESULT ratio_1k=${(best(big, "gatehouse") / best(small, "gatehouse")).toFixed(3)} ` +
      `iptables_ratio_1k=${(best(big, "iptables") / best(small, "iptables")).toFixed(3)}`,
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
