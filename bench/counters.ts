/**
 * Rule counters benchmark (root; about three minutes):
 *
 *   npm run bench:counters
 *
 * 1. What the counters cost the datapath: new connections per second through a lab gateway at
 *    10000 rules, client in the last rule, rendered with the rules' counters (two elements per busy rule in a
 *    dynamic set the datapath fills) and without
 *    (rounds interleaved; the best round of each, as bench/datapath.ts does).
 * 2. What they cost the agent: the real agent (the bundled program) runs in the lab's gateway
 *    namespace, as on a gateway, with the same 10000-rule spec, against a console stand-in
 *    (lib/stand-in-console.ts) on that namespace's 127.0.0.1 that serves the spec and acknowledges
 *    reports; while a bounded trickle of new connections keeps the counters moving, the agent
 *    reads the counters of the rules that moved and reports the deltas. Its resident memory (peak of 1 s samples)
 *    and CPU over at least 60 s of steady state are read from /proc. The window is whole counter
 *    read cycles (from just after one counter report to just after the first one past 60 s), so
 *    it holds the reads of its time whatever their phase. The CPU includes the commands the agent
 *    runs (nft, conntrack: its waited-for children; fping, ip monitor and its two long-lived nft,
 *    one for loads and one for counter reads: its live descendants).
 *
 * BENCH_ROUNDS=0 skips part 1; BENCH_AGENT_FLAGS adds Node.js options to the agent's.
 *
 *   RESULT ratio_counters_10k=<with / without> agent_rss_mb=<MB> agent_cpu_idle_pct=<% of one core>
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { listOwnedObjects } from "../agent/apply/nft";
import { type CommandRunner, describeFailure, ok } from "../agent/apply/runner";
import { StateStore } from "../agent/state/store";
import { AGENT_ENV, AGENT_NODE_FLAGS } from "../core/protocol/agent-runtime";
import { renderNft } from "../core/render/nft";
import { buildAgent } from "../scripts/build-agent";
import { buildLab, type Lab } from "../testkit/lab/lab";
import { connect, startListener } from "../testkit/lab/traffic";
import { benchRules, benchSpec, lastRuleAddress } from "./lib/policy";
import { installServerCounter, measureRate } from "./lib/rate";

const RULES = Number(process.env.BENCH_RULES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const STEADY_SECONDS = Number(process.env.BENCH_STEADY_SECONDS ?? 60);
const TICKS = 100; // USER_HZ on Linux
/** more Node.js options for the agent, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where its time goes */
const EXTRA_AGENT_FLAGS = (process.env.BENCH_AGENT_FLAGS ?? "").split(" ").filter((f) => f !== "");

async function must(runner: CommandRunner, args: string[]): Promise<void> {
  const r = await runner.run(args, { timeoutMs: 120_000 });
  if (!ok(r)) throw new Error(describeFailure(r));
}

async function rates(lab: Lab, dir: string): Promise<{ with: number; without: number }> {
  const gw = lab.runner(lab.ns.gateway);
  const rules = benchRules(RULES);
  const src = lastRuleAddress(RULES);
  await lab.addClientAddresses(0, [src], "100.96.0.0/11");
  const read = await installServerCounter(lab);
  const best = { with: 0, without: 0 };
  for (let r = 1; r <= ROUNDS; r++) {
    for (const counters of [true, false]) {
      await must(gw, ["nft", "flush", "ruleset"]);
      const file = join(dir, `rules-${counters}.nft`);
      const spec = benchSpec(lab, rules, r);
      await writeFile(
        file,
        renderNft(spec, new Map(), await listOwnedObjects(gw), new Set(), { ruleCounters: counters }).text,
      );
      await must(gw, ["nft", "-f", file]);
      const rate = await measureRate(lab, src, read);
      const key = counters ? "with" : "without";
      best[key] = Math.max(best[key], rate);
      console.log(
        `round ${r} rules=${RULES} ${counters ? "with counters   " : "without counters"}: ${Math.round(rate)} new conn/s`,
      );
    }
  }
  await must(gw, ["nft", "flush", "ruleset"]);
  return best;
}

/**
 * The console stand-in (lib/stand-in-console.ts) in the gateway's namespace, where the agent
 * reaches it on 127.0.0.1: the revision the agent runs and the new connections it has reported.
 */
async function standInConsole(
  lab: Lab,
  spec: unknown,
  dir: string,
): Promise<{ url: string; stop: () => void; running: () => number | null; deltas: () => number; reads: () => number }> {
  const file = join(dir, "spec.json");
  await writeFile(file, JSON.stringify(spec));
  const script = fileURLToPath(new URL("./lib/stand-in-console.ts", import.meta.url));
  const proc = spawn("ip", ["netns", "exec", lab.ns.gateway, process.execPath, "--import", "tsx", script, file], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let running: number | null = null;
  let deltas = 0;
  let reads = 0;
  let port: number | null = null;
  let buffered = "";
  proc.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      const said = JSON.parse(line) as { listening?: number; running?: number; connections?: number };
      if (said.listening !== undefined) port = said.listening;
      if (said.running !== undefined) running = said.running;
      deltas += said.connections ?? 0;
      if (said.connections !== undefined) reads++;
    }
  });
  const listening = await waitFor("the console stand-in to listen", () => port, 30_000);
  return {
    url: `http://127.0.0.1:${listening}`,
    stop: () => proc.kill("SIGTERM"),
    running: () => running,
    deltas: () => deltas,
    reads: () => reads,
  };
}

/** The fields of /proc/PID/stat after the command name: state is [0], ppid [1], utime [11], stime [12], cutime [13], cstime [14]. */
async function statFields(pid: number): Promise<string[] | null> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
  return stat === null ? null : stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** CPU ticks of the live processes below `pid` (the probers and monitors it keeps running), by pid. */
async function liveDescendants(pid: number): Promise<Map<number, number>> {
  const parents = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const f = await statFields(Number(entry));
    if (f !== null) parents.set(Number(entry), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
  }
  const below = new Map<number, number>();
  const isBelow = (p: number): boolean => {
    for (let q = parents.get(p)?.ppid; q !== undefined && q > 1; q = parents.get(q)?.ppid) if (q === pid) return true;
    return false;
  };
  for (const [p, { ticks }] of parents) if (isBelow(p)) below.set(p, ticks);
  return below;
}

/**
 * utime + stime in ticks: the process's own, its waited-for children's (the commands it ran to
 * the end) and its live descendants' (fping, ip monitor); VmRSS in kB.
 */
async function usage(
  pid: number,
): Promise<{ own: number; ownSystem: number; children: number; live: Map<number, number>; rssKb: number }> {
  const fields = await statFields(pid);
  if (fields === null) throw new Error(`the agent (pid ${pid}) is gone`);
  const n = (i: number) => Number(fields[i]);
  return {
    own: n(11) + n(12),
    ownSystem: n(12),
    children: n(13) + n(14),
    live: await liveDescendants(pid),
    rssKb: await rssKb(pid),
  };
}

/** VmRSS in kB: the once-a-second sample (usage() also walks /proc for descendants). */
async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** Ticks the live descendants spent between two readings (those started since: all of theirs). */
function liveTicks(start: Map<number, number>, end: Map<number, number>): number {
  let sum = 0;
  for (const [p, ticks] of end) sum += ticks - (start.get(p) ?? 0);
  return sum;
}

async function waitFor<T>(what: string, probe: () => T | null, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== null) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function agentCost(lab: Lab, dir: string): Promise<{ rssMb: number; cpuPct: number; ownPct: number }> {
  // idle means idle: not the hundreds of thousands of conntrack entries part 1 left behind, which
  // the agent's pool usage reader would list every 10 s until they time out
  const left = await lab.runner(lab.ns.gateway).run(["conntrack", "-C"]);
  if (Number(left.stdout) > 0) console.log(`flushing ${left.stdout.trim()} conntrack entries left behind`);
  await must(lab.runner(lab.ns.gateway), ["conntrack", "-F"]);
  const spec = benchSpec(lab, benchRules(RULES), 1);
  const stand = await standInConsole(lab, spec, dir);
  const { outfile } = await buildAgent(join(dir, "gatehouse-agent.mjs"));
  const stateDir = join(dir, "agent");
  new StateStore(stateDir).writeCredentials({
    consoleUrl: stand.url,
    agentToken: `gha_${"a".repeat(43)}`,
    gatewayId: spec.gatewayId,
    gatewayName: spec.gatewayName,
    clusterId: spec.clusterId,
    clusterName: spec.clusterName,
    enrolledAt: new Date().toISOString(),
  });
  let agent: ChildProcess | null = null;
  const listener = await startListener(lab, lab.ns.server, { addresses: lab.servers, udp: [5300], seconds: 300 });
  try {
    // inside the gateway's namespace, as on a gateway: the commands it runs are its own children
    // (`--netns` would wrap each in `ip netns exec`, which costs more than many of them)
    agent = spawn(
      "ip",
      [
        "netns",
        "exec",
        lab.ns.gateway,
        process.execPath,
        ...AGENT_NODE_FLAGS,
        ...EXTRA_AGENT_FLAGS,
        outfile,
        "run",
        "--state-dir",
        stateDir,
        "--log-level",
        process.env.BENCH_AGENT_LOG ?? "warn",
      ],
      { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, ...AGENT_ENV } },
    );
    // ip execs node: the same process
    const pid = agent.pid as number;
    await waitFor("the agent to apply the spec", () => (stand.running() === 1 ? 1 : null), 60_000);
    let sport = 20_000;
    // a trickle of new connections through the last rule keeps one counter moving
    const trickle = async () => {
      await connect(lab, lab.clients[0]?.ns as string, {
        proto: "udp",
        dst: lab.servers[0] as string,
        port: 5300,
        count: 5,
        sport,
        sources: [lastRuleAddress(RULES)],
        timeoutMs: 500,
      });
      sport += 5;
      await new Promise((r) => setTimeout(r, 1000));
    };
    // steady state: the agent has read the counters twice and reported what moved
    const settleUntil = Date.now() + 180_000;
    while (stand.deltas() === 0) {
      if (Date.now() > settleUntil) throw new Error("the agent reported no rule counter deltas within 3 minutes");
      await trickle();
    }
    const reportedBefore = stand.deltas();
    const readsBefore = stand.reads();
    const start = await usage(pid);
    const startedAt = Date.now();
    let peakKb = start.rssKb;
    // whole read cycles, so that a window holds the reads the agent makes in that time whatever
    // their phase: from just after one counter report to just after the first one past the minimum
    let readsAtMinimum: number | null = null;
    for (;;) {
      await trickle();
      peakKb = Math.max(peakKb, await rssKb(pid));
      const elapsed = Date.now() - startedAt;
      if (elapsed < STEADY_SECONDS * 1000) continue;
      readsAtMinimum ??= stand.reads();
      if (stand.reads() > readsAtMinimum || elapsed > 3 * STEADY_SECONDS * 1000) break;
    }
    const end = await usage(pid);
    const seconds = (Date.now() - startedAt) / 1000;
    const ownPct = ((end.own - start.own) / TICKS / seconds) * 100;
    const systemPct = ((end.ownSystem - start.ownSystem) / TICKS / seconds) * 100;
    const childTicks = end.children - start.children + liveTicks(start.live, end.live);
    const cpuPct = ((end.own - start.own + childTicks) / TICKS / seconds) * 100;
    console.log(
      `agent over ${seconds.toFixed(0)} s with ${RULES} rules: peak RSS ${(peakKb / 1024).toFixed(1)} MB, ` +
        `CPU ${cpuPct.toFixed(2)}% (own ${ownPct.toFixed(2)}% of which system ${systemPct.toFixed(2)}%, the commands it runs ${(cpuPct - ownPct).toFixed(2)}%), ` +
        `${stand.deltas() - reportedBefore} new connections reported in that time, from ${stand.reads() - readsBefore} counter reads`,
    );
    return { rssMb: peakKb / 1024, cpuPct, ownPct };
  } finally {
    agent?.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    if (agent !== null && agent.exitCode === null) agent.kill("SIGKILL");
    await listener.stop();
    stand.stop();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the benchmark creates network namespaces: run it as root");
  const lab = await buildLab({ clients: 1, prefix: "ghk" });
  const dir = await mkdtemp(join(tmpdir(), "gatehouse-bench-counters-"));
  try {
    const r = await rates(lab, dir);
    const a = await agentCost(lab, dir);
    console.log(
      `RESULT ratio_counters_10k=${(r.with / r.without).toFixed(3)} agent_rss_mb=${a.rssMb.toFixed(1)} ` +
        `agent_cpu_idle_pct=${a.cpuPct.toFixed(2)}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
    await lab.destroy();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
