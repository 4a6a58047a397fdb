import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containsAddress, parseAddressRange } from "../../core/address";
import { waitFor } from "../../testkit/failover-lab/agents";
import type { Stream } from "../../testkit/failover-lab/streams";
import type { HaLabGateway } from "../../testkit/ha-lab/lab";
import { ACTIVE_ACTIVE } from "../../testkit/ha-lab/provision";
import { type HaSession, missingHaBinaries, startHaSession } from "../../testkit/ha-lab/session";
import { type HaStreams, seenAddresses, startHaEcho, startHaStreams } from "../../testkit/ha-lab/streams";

/**
 * Active/active with the real agent, keepalived and conntrackd (testkit/ha-lab): each gateway owns
 * a VRRP group with its LAN address, its floating link addresses and its slices of the pools; one
 * client uses each gateway. ISP beta routes each gateway's slice of the routed pool to that
 * gateway's floating address, as the Pools page lists the slices. When gateway a dies to the
 * network, b takes over a's group too: a's client keeps its source addresses (from a's slices) and
 * its TCP connection, b's client never notices; a comes back and takes its group again.
 */

const missing = await missingHaBinaries();
if (missing !== null) console.warn(`skipping the high-availability namespace tests: ${missing}`);

let s: HaSession;
/** per gateway: its slices of the on-link pool (alpha) and of the routed pool (beta) */
const slices: Record<HaLabGateway, { alpha: string[]; beta: string[] }> = {
  a: { alpha: [], beta: [] },
  b: { alpha: [], beta: [] },
};

const host = (a: string) => a.split("/")[0] as string;
const inSlice = (ranges: string[], address: string) =>
  ranges.some((r) => {
    const p = parseAddressRange(r);
    return p.ok && containsAddress(p.value, address);
  });
const flowing = (stream: Stream, what: string, since: number) =>
  waitFor(`${what} to answer again`, () => stream.events().some((e) => e.t > since), 10_000, 50);

describe.skipIf(missing !== null)("active/active with keepalived and conntrackd", () => {
  beforeAll(async () => {
    s = await startHaSession({
      mode: "active_active",
      preempt: true,
      lab: { clientGateways: [host(ACTIVE_ACTIVE.a.lan), host(ACTIVE_ACTIVE.b.lan)] },
    });
    // the upstream as the Pools page tells it: each gateway's slice to its floating address
    const view = await s.api.pool.slices.query({ clusterId: s.cluster.clusterId });
    expect(view.inForce).toBe(true);
    const routes: Array<{ cidr: string; via: string }> = [];
    for (const u of view.upstream) {
      const gw: HaLabGateway = u.gatewayId === s.cluster.gateways.a.id ? "a" : "b";
      if (u.ispId === s.cluster.isps.alpha) slices[gw].alpha.push(...u.onLink);
      if (u.ispId === s.cluster.isps.beta) {
        slices[gw].beta.push(...u.routed);
        for (const cidr of u.routed) routes.push({ cidr, via: host(ACTIVE_ACTIVE[gw].beta) });
      }
    }
    await s.lab.routeBeta(routes);
    await s.waitStates({ a: "master", b: "backup" }, 30_000, ACTIVE_ACTIVE.a.group);
    await s.waitStates({ a: "backup", b: "master" }, 30_000, ACTIVE_ACTIVE.b.group);
    await startHaEcho(s.lab, 600);
  }, 120_000);

  afterAll(async () => {
    await s?.stop();
  }, 60_000);

  it("a's group moves to b when a dies and back when it returns; every connection keeps its address", async () => {
    const [c1, c2] = s.lab.clients;
    if (c1 === undefined || c2 === undefined) throw new Error("the lab has two clients");
    const streams: Record<HaLabGateway, HaStreams> = {
      a: startHaStreams(s.lab, 40, 5, c1.ns),
      b: startHaStreams(s.lab, 40, 5, c2.ns),
    };
    const all = [streams.a.udp, streams.a.tcp, streams.b.udp, streams.b.tcp];
    await waitFor("every stream to get replies", () => all.every((x) => x.seenNow() !== null));
    await new Promise((r) => setTimeout(r, 1_000));
    await s.lab.isolate("a", true);
    try {
      await s.waitStates({ b: "master" }, 20_000, ACTIVE_ACTIVE.a.group);
      const tookOver = Date.now();
      for (const x of all) await flowing(x, "every stream", tookOver + 300);
    } finally {
      await s.lab.isolate("a", false);
    }
    await s.waitStates({ a: "master", b: "backup" }, 30_000, ACTIVE_ACTIVE.a.group);
    await s.waitStates({ a: "backup", b: "master" }, 30_000, ACTIVE_ACTIVE.b.group);
    await new Promise((r) => setTimeout(r, 1_000));
    const back = Date.now();
    for (const x of all) await flowing(x, "every stream after a returned", back);
    for (const gw of ["a", "b"] as const) {
      const udp = await streams[gw].udp.stop();
      const tcp = await streams[gw].tcp.stop();
      const what = `the client of gateway ${gw}`;
      const udpSeen = seenAddresses(streams[gw].udp.events());
      const tcpSeen = seenAddresses(streams[gw].tcp.events());
      expect(udpSeen, `${what}: one UDP source`).toHaveLength(1);
      expect(inSlice(slices[gw].alpha, udpSeen[0] as string), `${what}: UDP from its gateway's slice`).toBe(true);
      expect(tcpSeen, `${what}: one TCP source`).toHaveLength(1);
      expect(inSlice(slices[gw].beta, tcpSeen[0] as string), `${what}: TCP from its gateway's slice`).toBe(true);
      expect(tcp?.connections?.length, `${what}: the TCP connection never broke`).toBe(1);
      expect((udp?.received ?? 0) > 0, `${what}: UDP answered`).toBe(true);
    }
  }, 120_000);
});
