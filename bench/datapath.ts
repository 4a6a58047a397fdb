/**
 * Datapath benchmark: for 10, 1000 and 10000 rules, how long the rendered ruleset takes to load
 * and how many new connections per second the gateway forwards, next to the same policy as
 * linear iptables-nft rules, in one lab and one run.
 *
 *   npm run bench:datapath            (root; about a minute)
 *
 * New connections come from udpflood.mjs: one UDP packet per (source port, destination port)
 * pair, so every packet is a new conntrack entry that the NAT rules must classify. The client's
 * address is in the last rule. The rate is what reached the server NATed, per second; the
 * sender is bounded in count and seconds. The last line is machine-readable:
 *
 *   RESULT ratio_10k=<gatehouse rate at 10000 / at 10> iptables_ratio_10k=<same for iptables> load_10k_s=<seconds>
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listOwnedObjects } from "../agent/apply/nft";
import { type CommandRunner, describeFailure, ok } from "../agent/apply/runner";
import { renderNft } from "../core/render/nft";
import { buildLab, type Lab } from "../testkit/lab/lab";
import { installServerCounter, measureRate } from "./lib/rate";
import { benchRules, benchSpec, iptablesRestore, lastRuleAddress } from "./lib/policy";

const SIZES = (process.env.BENCH_SIZES ?? "10,1000,10000").split(",").map(Number);
/** rounds over all sizes and both rulesets, interleaved so a busy neighbour slows all alike */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function must(runner: CommandRunner, args: string[], input?: string): Promise<number> {
  const r = await runner.run(args, { input, timeoutMs: 120_000 });
  if (!ok(r)) throw new Error(describeFailure(r));
  return r.durationMs;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

interface Sample {
  gatehouseLoadS: number;
  gatehouseReloadS: number;
  gatehouseRate: number;
  iptablesLoadS: number;
  iptablesRate: number;
}

async function round(
  lab: Lab,
  dir: string,
  n: number,
  read: () => Promise<{ nated: number; other: number }>,
): Promise<Sample> {
  const gw = lab.runner(lab.ns.gateway);
  const rules = benchRules(n);
  const src = lastRuleAddress(n);
  await lab.addClientAddresses(0, [src], "100.96.0.0/11");

  // Gatehouse: a first load into an empty namespace, then a reload over it (flush + redefine)
  await must(gw, ["nft", "flush", "ruleset"]);
  await must(gw, ["conntrack", "-F"]);
  const file = join(dir, `gatehouse-${n}.nft`);
  await writeFile(file, renderNft(benchSpec(lab, rules, 1), new Map(), undefined).text);
  const loadMs = await must(gw, ["nft", "-f", file]);
  await writeFile(file, renderNft(benchSpec(lab, rules, 2), new Map(), await listOwnedObjects(gw)).text);
  const reloadMs = await must(gw, ["nft", "-f", file]);
  const gatehouseRate = await measureRate(lab, src, read);

  // the same policy as linear iptables-nft rules, alone in the gateway
  await must(gw, ["nft", "flush", "ruleset"]);
  await must(gw, ["conntrack", "-F"]);
  const iptMs = await must(gw, ["iptables-nft-restore"], iptablesRestore(rules));
  const iptablesRate = await measureRate(lab, src, read);
  await must(gw, ["nft", "flush", "ruleset"]);
  return {
    gatehouseLoadS: loadMs / 1000,
    gatehouseReloadS: reloadMs / 1000,
    gatehouseRate,
    iptablesLoadS: iptMs / 1000,
    iptablesRate,
  };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the benchmark creates network namespaces: run it as root");
  const lab = await buildLab({ clients: 1, prefix: "ghb" });
  const dir = await mkdtemp(join(tmpdir(), "gatehouse-bench-"));
  const samples = new Map<number, Sample[]>(SIZES.map((n) => [n, []]));
  try {
    const read = await installServerCounter(lab);
    for (let r = 1; r <= ROUNDS; r++) {
      for (const n of SIZES) {
        const s = await round(lab, dir, n, read);
        samples.get(n)?.push(s);
        console.log(
          `round ${r} rules=${n}: gatehouse load ${s.gatehouseLoadS.toFixed(3)} s, reload ${s.gatehouseReloadS.toFixed(3)} s, ` +
            `${Math.round(s.gatehouseRate)}/s | iptables-nft load ${s.iptablesLoadS.toFixed(3)} s, ${Math.round(s.iptablesRate)}/s`,
        );
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await lab.destroy();
  }

  // throughput: the best round (a neighbour can only slow a run down); load times: the median
  const best = (n: number, key: "gatehouseRate" | "iptablesRate") =>
    Math.max(...(samples.get(n) ?? []).map((s) => s[key]));
  const mid = (n: number, key: keyof Sample) => median((samples.get(n) ?? []).map((s) => s[key]));
  console.log("\nrules   gatehouse load  reload   new conn/s | iptables-nft load  new conn/s");
  for (const n of SIZES) {
    console.log(
      `${String(n).padStart(5)}   ${mid(n, "gatehouseLoadS").toFixed(3).padStart(9)} s ${mid(n, "gatehouseReloadS").toFixed(3)} s ` +
        `${String(Math.round(best(n, "gatehouseRate"))).padStart(10)} | ${mid(n, "iptablesLoadS").toFixed(3).padStart(12)} s ` +
        `${String(Math.round(best(n, "iptablesRate"))).padStart(10)}`,
    );
  }
  const small = SIZES[0] as number;
  const big = SIZES[SIZES.length - 1] as number;
  // the slower of a first load and a reload: a gateway does both
  const load = Math.max(mid(big, "gatehouseLoadS"), mid(big, "gatehouseReloadS"));
  console.log(
    `RESULT ratio_10k=${(best(big, "gatehouseRate") / best(small, "gatehouseRate")).toFixed(3)} ` +
      `iptables_ratio_10k=${(best(big, "iptablesRate") / best(small, "iptablesRate")).toFixed(3)} load_10k_s=${load.toFixed(3)}`,
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
