import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../testkit/failover-lab/agents";
import type { Stream } from "../../testkit/failover-lab/streams";
import type { HaLab } from "../../testkit/ha-lab/lab";
import { type HaSession, missingHaBinaries, startHaSession } from "../../testkit/ha-lab/session";
import {
  type HaStreams,
  longestGapAfter,
  seenAddresses,
  startHaEcho,
  startHaStreams,
} from "../../testkit/ha-lab/streams";

/**
 * An active/standby pair with the real agent, keepalived and conntrackd in namespaces
 * (testkit/ha-lab): while a LAN client sends a UDP stream every 10 ms through ISP alpha (on-link
 * pool) and exchanges data over one TCP connection through ISP beta (routed pool), the master
 * fails three ways and the backup takes over each time; then the master returns (preempt on, so
 * failback is automatic). The server must see the same source addresses throughout and the TCP
 * connection must never break. A partitioned VRRP link makes both gateways master, and the
 * console shows it as split brain.
 */

const missing = await missingHaBinaries();
if (missing !== null) console.warn(`skipping the high-availability namespace tests: ${missing}`);

let s: HaSession;
let lab: HaLab;

function startStreams(seconds: number): HaStreams {
  // every reply more than 5 ms after the one before is printed: the stream's heartbeat
  return startHaStreams(lab, seconds, 5);
}

/** Replies come again: a reply printed after `since`, well after the failure. */
async function flowing(stream: Stream, what: string, since: number): Promise<void> {
  await waitFor(`${what} to answer again`, () => stream.events().some((e) => e.t > since), 10_000, 50);
}

/** Both streams answer through the new master; the outage each saw is printed. */
async function afterTakeover(streams: HaStreams, t0: number): Promise<void> {
  const tookOver = Date.now();
  await flowing(streams.udp, "UDP", tookOver + 300);
  await flowing(streams.tcp, "TCP", tookOver + 300);
  console.info(
    `outage: UDP ${Math.round(longestGapAfter(streams.udp, t0))} ms, TCP ${Math.round(longestGapAfter(streams.tcp, t0))} ms`,
  );
}

async function steady(streams: HaStreams): Promise<void> {
  await waitFor("both streams to get replies", () => streams.udp.seenNow() !== null && streams.tcp.seenNow() !== null);
  await new Promise((r) => setTimeout(r, 1_000));
}

async function finish(streams: HaStreams, what: string) {
  // after the failback both streams still get replies
  const end = Date.now();
  await flowing(streams.udp, `${what}: UDP after the failback`, end);
  await flowing(streams.tcp, `${what}: TCP after the failback`, end);
  const udp = await streams.udp.stop();
  const tcp = await streams.tcp.stop();
  const udpSeen = seenAddresses(streams.udp.events());
  const tcpSeen = seenAddresses(streams.tcp.events());
  expect(udpSeen, `${what}: the server sees one UDP source`).toHaveLength(1);
  expect(lab.pools.alpha, `${what}: UDP leaves from the on-link pool`).toContain(udpSeen[0]);
  expect(tcpSeen, `${what}: the server sees one TCP source`).toHaveLength(1);
  expect(lab.pools.beta, `${what}: TCP leaves from the routed pool`).toContain(tcpSeen[0]);
  expect(tcp?.connections?.length, `${what}: the TCP connection never broke`).toBe(1);
  expect(tcp?.connections?.[0]?.closed ?? null, `${what}: the TCP connection was open to the end`).toBeNull();
  return { udp, tcp };
}

describe.skipIf(missing !== null)("active/standby with keepalived and conntrackd", () => {
  beforeAll(async () => {
    s = await startHaSession({ preempt: true });
    lab = s.lab;
    await s.waitStates({ a: "master", b: "backup" }, 30_000);
    await startHaEcho(lab, 600);
  }, 120_000);

  afterAll(async () => {
    await s?.stop();
  }, 60_000);

  it("runs keepalived and conntrackd on both gateways with the rendered configurations", async () => {
    const list = await s.api.gateway.list.query({ clusterId: s.cluster.clusterId });
    for (const g of list.gateways) {
      expect(g.ha, g.name).toMatchObject({ keepalived: "running", conntrackd: "running", error: "" });
    }
    // the standby holds none of the addresses that float with the group
    const b = await lab.must(lab.gateways.b.ns, ["ip", "-4", "-br", "addr"]);
    expect(b).not.toContain("100.64.0.1/24");
    expect(b).not.toContain(`${lab.pools.alpha[0]}/32`);
    const a = await lab.must(lab.gateways.a.ns, ["ip", "-4", "-br", "addr"]);
    expect(a).toContain("100.64.0.1/24");
    for (const p of lab.pools.alpha) expect(a).toContain(`${p}/32`);
  });

  it("the backup takes over when every ISP link of the master goes down (its groups go FAULT), and gives them back", async () => {
    const streams = startStreams(40);
    await steady(streams);
    const t0 = Date.now();
    await lab.ispLinks("a", "down");
    await s.waitStates({ a: "fault", b: "master" });
    await afterTakeover(streams, t0);
    await lab.ispLinks("a", "up");
    await s.waitStates({ a: "master", b: "backup" }, 30_000);
    await new Promise((r) => setTimeout(r, 1_000));
    const { udp } = await finish(streams, "links down");
    expect(udp?.received ?? 0).toBeGreaterThan(0);
    const list = await s.api.gateway.list.query({ clusterId: s.cluster.clusterId });
    const b = list.gateways.find((g) => g.id === s.cluster.gateways.b.id);
    const promoted = b?.ha?.transitions.filter((t) => t.to === "master") ?? [];
    expect(promoted.at(-1)?.commitMs, "the new master committed the synced connections").not.toBeNull();
    expect(promoted.at(-1)?.error).toBe("");
  }, 120_000);

  it("the backup takes over when the master's keepalived is killed with SIGKILL, which leaves its addresses", async () => {
    const streams = startStreams(40);
    await steady(streams);
    const pids = s.keepalivedPids("a");
    expect(pids.length).toBeGreaterThan(0);
    const t0 = Date.now();
    for (const pid of pids) process.kill(pid, "SIGKILL");
    await waitFor("gateway b to report master", async () => (await s.states()).b === "master", 20_000, 50);
    await afterTakeover(streams, t0);
    // the agent restarts keepalived; with preempt on, a returns to master
    await s.waitStates({ a: "master", b: "backup" }, 30_000);
    await new Promise((r) => setTimeout(r, 1_000));
    await finish(streams, "keepalived killed");
    const list = await s.api.gateway.list.query({ clusterId: s.cluster.clusterId });
    const a = list.gateways.find((g) => g.id === s.cluster.gateways.a.id);
    expect(a?.ha?.keepalived).toBe("running");
    expect(a?.ha?.transitions.some((t) => t.to === "stopped")).toBe(true);
  }, 120_000);

  it("the backup takes over when the master's keepalived and agent hang while its kernel still forwards", async () => {
    const streams = startStreams(40);
    await steady(streams);
    const frozen = [...s.keepalivedPids("a"), s.agents.a.process.child.pid as number];
    const t0 = Date.now();
    for (const pid of frozen) process.kill(pid, "SIGSTOP");
    try {
      await waitFor("gateway b to report master", async () => (await s.states()).b === "master", 20_000, 50);
      await afterTakeover(streams, t0);
      await new Promise((r) => setTimeout(r, 1_000));
    } finally {
      for (const pid of frozen) process.kill(pid, "SIGCONT");
    }
    // a wakes up as master with the higher priority: b steps back
    await s.waitStates({ a: "master", b: "backup" }, 30_000);
    await new Promise((r) => setTimeout(r, 1_000));
    await finish(streams, "keepalived and agent frozen");
  }, 120_000);

  it("an agent killed with SIGKILL and started again stops the daemons it left and runs its own", async () => {
    const streams = startStreams(40);
    await steady(streams);
    const conntrackdPid = () => Number(readFileSync(join(s.agents.a.stateDir, "ha", "conntrackd.pid"), "utf8"));
    const left = [...s.keepalivedPids("a"), conntrackdPid()];
    const restarted = new Date().toISOString();
    await s.restartAgent("a");
    await waitFor(
      "the new agent's keepalived",
      () => s.keepalivedPids("a").length > 0 && s.keepalivedPids("a").every((p) => !left.includes(p)),
      20_000,
      100,
    );
    await waitFor(
      "gateway a to be master again under its new agent",
      async () => {
        const list = await s.api.gateway.list.query({ clusterId: s.cluster.clusterId });
        const a = list.gateways.find((g) => g.id === s.cluster.gateways.a.id);
        return (
          a?.ha?.groups[0]?.state === "master" && a.ha.transitions.some((t) => t.to === "master" && t.at > restarted)
        );
      },
      30_000,
      100,
    );
    await s.waitStates({ b: "backup" });
    for (const pid of left)
      expect(existsSync(`/proc/${pid}`), `the daemon ${pid} left by the killed agent`).toBe(false);
    expect(left).not.toContain(conntrackdPid());
    await new Promise((r) => setTimeout(r, 1_000));
    await finish(streams, "agent restarted");
  }, 120_000);

  it("a partitioned VRRP link makes both gateways master, which the console records as split brain", async () => {
    await lab.partitionVrrp(true);
    try {
      await s.waitStates({ a: "master", b: "master" });
      const incidents = await waitFor(
        "a split-brain incident",
        async () => {
          const open = await s.api.gateway.haIncidents.query({ clusterId: s.cluster.clusterId });
          return open.some((i) => i.kind === "split_brain") ? open : null;
        },
        15_000,
        200,
      );
      const split = incidents.find((i) => i.kind === "split_brain");
      expect(split?.gatewayIds.sort()).toEqual([s.cluster.gateways.a.id, s.cluster.gateways.b.id].sort());
    } finally {
      await lab.partitionVrrp(false);
    }
    await s.waitStates({ a: "master", b: "backup" }, 30_000);
    await waitFor(
      "the split-brain incident to end",
      async () =>
        !(await s.api.gateway.haIncidents.query({ clusterId: s.cluster.clusterId })).some(
          (i) => i.kind === "split_brain",
        ),
      15_000,
      200,
    );
  }, 120_000);
});
