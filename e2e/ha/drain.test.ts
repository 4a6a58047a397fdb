import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../testkit/failover-lab/agents";
import { type HaSession, missingHaBinaries, startHaSession } from "../../testkit/ha-lab/session";
import { seenAddresses, startHaEcho, startHaStreams } from "../../testkit/ha-lab/streams";

/**
 * Draining the master of an active/standby pair with preempt off (the default): the console gives
 * it priority 1, which alone moves nothing (a backup never takes over from a live master), so the
 * agent hands its groups over by restarting keepalived. Traffic moves to the peer and keeps its
 * addresses; returning the gateway to service leaves the peer master (no preempt).
 */

const missing = await missingHaBinaries();
if (missing !== null) console.warn(`skipping the high-availability namespace tests: ${missing}`);

let s: HaSession;

describe.skipIf(missing !== null)("draining an active/standby master with preempt off", () => {
  beforeAll(async () => {
    s = await startHaSession({ preempt: false });
    await s.waitStates({ a: "master", b: "backup" }, 30_000);
    await startHaEcho(s.lab, 600);
  }, 120_000);

  afterAll(async () => {
    await s?.stop();
  }, 60_000);

  it("hands the groups to the peer without breaking connections, and keeps them there on return", async () => {
    const streams = startHaStreams(s.lab, 30, 5);
    await waitFor(
      "both streams to get replies",
      () => streams.udp.seenNow() !== null && streams.tcp.seenNow() !== null,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    const drained = await s.api.gateway.drain.mutate({ gatewayId: s.cluster.gateways.a.id, drain: true });
    expect(drained.effect.join(" ")).toContain('move from "gwa" to "gwb"');
    await s.waitStates({ a: "backup", b: "master" });
    const moved = Date.now();
    for (const x of [streams.udp, streams.tcp]) {
      await waitFor("replies through the peer", () => x.events().some((e) => e.t > moved + 300), 10_000, 50);
    }
    await s.api.gateway.drain.mutate({ gatewayId: s.cluster.gateways.a.id, drain: false });
    await waitFor(
      "gateway a to run the spec that returns it",
      async () => {
        const list = await s.api.gateway.list.query({ clusterId: s.cluster.clusterId });
        return list.gateways.find((g) => g.id === s.cluster.gateways.a.id)?.ha?.groups[0]?.effectivePriority === 150;
      },
      20_000,
      200,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await s.states()).toEqual({ a: "backup", b: "master" });
    await streams.udp.stop();
    const tcp = await streams.tcp.stop();
    expect(seenAddresses(streams.udp.events())).toHaveLength(1);
    expect(seenAddresses(streams.tcp.events())).toHaveLength(1);
    expect(tcp?.connections?.length, "the TCP connection never broke").toBe(1);
  }, 90_000);
});
