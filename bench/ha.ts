/**
 * High-availability benchmark: an active/standby pair with the real agent, keepalived and
 * conntrackd in network namespaces (testkit/ha-lab), provisioned through the console's handlers.
 *
 * Each run fails the gateway that is master right now the way a dead box fails: every one of its
 * ports goes down (LAN, both ISP links, the sync link). A LAN client sends a UDP datagram every
 * 10 ms (through ISP alpha, on-link pool) and exchanges data over one TCP connection (through ISP
 * beta, routed pool). Outage: the longest gap in the UDP stream from the failure on. TCP survived:
 * the connection was never reset or reopened and its replies came back through the new master.
 * The failed gateway returns as backup (preempt is off), so the next run fails the other one.
 *
 * Then the same runs with the settings of a plain keepalived setup: adverts every second
 * (advert_int 1) and no connection sync.
 *
 *   npm run bench:ha      (root; about four minutes)
 *
 * The last line is machine-readable:
 *   RESULT runs=10 gateway_outage_median_ms=<n> gateway_outage_max_ms=<n> tcp_survived=<k>/10
 *          keepalived_default_outage_ms=<n> keepalived_default_tcp=<k>/10
 */
import { waitFor } from "../testkit/failover-lab/agents";
import type { HaLabGateway } from "../testkit/ha-lab/lab";
import { publishHaSettings } from "../testkit/ha-lab/provision";
import { type HaSession, missingHaBinaries, startHaSession } from "../testkit/ha-lab/session";
import { longestGapAfter, seenAddresses, startHaEcho, startHaStreams } from "../testkit/ha-lab/streams";

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
/** the whole benchmark stops after this, whatever it measured */
const BUDGET_MS = 8 * 60_000;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? 0 : s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};
const other = (gw: HaLabGateway): HaLabGateway => (gw === "a" ? "b" : "a");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  outageMs: number;
  tcpSurvived: boolean;
}

async function failMaster(s: HaSession, master: HaLabGateway, takeoverMs: number): Promise<Run> {
  const backup = other(master);
  // every reply more than 5 ms after the one before is printed: the stream's heartbeat
  const streams = startHaStreams(s.lab, 60, 5);
  await waitFor("both streams to get replies", () => streams.udp.seenNow() !== null && streams.tcp.seenNow() !== null);
  await sleep(1_000);
  const t0 = Date.now();
  await s.lab.isolate(master, true);
  try {
    await waitFor(`${backup} to report master`, async () => (await s.states())[backup] === "master", takeoverMs, 50);
    // long enough for the stream's silence to end and the TCP connection to show it lives on
    await sleep(2_000);
    await waitFor(
      "UDP replies after the takeover",
      () => streams.udp.events().some((e) => e.t > Date.now() - 500),
      10_000,
      50,
    ).catch(() => console.warn("  no UDP reply in the last 10 s"));
  } finally {
    await s.lab.isolate(master, false);
  }
  const udp = await streams.udp.stop();
  const tcp = await streams.tcp.stop();
  // a stream that never answered again counts its whole silence
  const lastReply = Math.max(t0, ...streams.udp.events().map((e) => e.t));
  const outageMs = Math.max(longestGapAfter(streams.udp, t0), lastReply > t0 ? 0 : Date.now() - t0);
  const tcpSurvived =
    tcp?.connections?.length === 1 &&
    tcp.connections[0]?.closed === null &&
    seenAddresses(streams.tcp.events()).length === 1 &&
    (tcp.received ?? 0) > 0;
  if (seenAddresses(streams.udp.events()).length !== 1) {
    console.warn(`  the UDP stream changed its source: ${seenAddresses(streams.udp.events()).join(", ")}`);
  }
  // the failed gateway comes back as backup before the next run
  await s.waitStates({ [master]: "backup", [backup]: "master" }, 30_000);
  await sleep(1_000);
  console.info(
    `  ${master} failed: outage ${Math.round(outageMs)} ms, TCP ${tcpSurvived ? "survived" : "broke"} (udp ${udp?.received}/${udp?.sent})`,
  );
  return { outageMs, tcpSurvived };
}

async function series(s: HaSession, label: string, takeoverMs: number, deadline: number): Promise<Run[]> {
  console.info(label);
  const runs: Run[] = [];
  const now = await s.states();
  let master: HaLabGateway = now.a === "master" ? "a" : "b";
  for (let i = 0; i < RUNS && Date.now() < deadline; i++) {
    runs.push(await failMaster(s, master, takeoverMs));
    master = other(master);
  }
  return runs;
}

async function main(): Promise<void> {
  const missing = await missingHaBinaries();
  if (missing !== null) throw new Error(`bench:ha needs keepalived and conntrackd: ${missing}`);
  const started = Date.now();
  const deadline = started + BUDGET_MS;
  const s = await startHaSession({ preempt: false, agentLogLevel: "warn" });
  try {
    await s.waitStates({ a: "master", b: "backup" }, 30_000);
    await startHaEcho(s.lab, 900);
    const ours = await series(s, "adverts every 100 ms, connection sync (the defaults):", 10_000, deadline);

    await publishHaSettings(
      s.api,
      s.cluster,
      { advertIntervalMs: 1_000, sync: false, preempt: false },
      "plain keepalived",
    );
    await waitFor(
      "both agents to run the plain keepalived settings",
      async () => {
        const list = await s.api.gateway.list.query({ clusterId: s.cluster.clusterId });
        return list.gateways.every((g) => g.appliedRevision === 2 && g.ha?.conntrackd === "disabled");
      },
      30_000,
      200,
    );
    await sleep(3_000);
    const plain = await series(s, "adverts every second, no connection sync (plain keepalived):", 20_000, deadline);

    const outages = ours.map((r) => r.outageMs);
    console.log(
      `RESULT runs=${ours.length} gateway_outage_median_ms=${Math.round(median(outages))} ` +
        `gateway_outage_max_ms=${Math.round(Math.max(0, ...outages))} ` +
        `tcp_survived=${ours.filter((r) => r.tcpSurvived).length}/${ours.length} ` +
        `keepalived_default_outage_ms=${Math.round(median(plain.map((r) => r.outageMs)))} ` +
        `keepalived_default_tcp=${plain.filter((r) => r.tcpSurvived).length}/${plain.length}`,
    );
  } finally {
    await s.stop();
  }
  console.info(`took ${Math.round((Date.now() - started) / 1000)} s`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
