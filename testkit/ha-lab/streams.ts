import type { LabProcess } from "../lab/namespaces";
import { type Stream, type StreamEvent, type StreamLab, startEcho, startStream } from "../failover-lab/streams";
import type { HaLab } from "./lab";

/**
 * The HA lab's traffic: an echo server on each of the server's addresses, and from the LAN client
 * a UDP stream through ISP alpha (the on-link pool) with one TCP connection through ISP beta (the
 * routed pool), both sending every 10 ms.
 */

export interface HaStreams {
  udp: Stream;
  tcp: Stream;
}

const serverLab = (lab: HaLab, address: string): StreamLab => ({
  spawn: (ns, args, env) => lab.spawn(ns, args, env),
  server: address,
  ns: { server: lab.ns.server },
});

export async function startHaEcho(lab: HaLab, seconds: number): Promise<LabProcess[]> {
  return [
    await startEcho(serverLab(lab, lab.server.viaAlpha), seconds),
    await startEcho(serverLab(lab, lab.server.viaBeta), seconds),
  ];
}

/** gapMs: silences longer than this are printed (below 10 ms every reply is: the stream's heartbeat). */
export function startHaStreams(lab: HaLab, seconds: number, gapMs = 40, clientNs = lab.ns.client): HaStreams {
  const opts = { seconds, intervalMs: 10, gapMs };
  return {
    udp: startStream(serverLab(lab, lab.server.viaAlpha), clientNs, { proto: "udp", ...opts }),
    tcp: startStream(serverLab(lab, lab.server.viaBeta), clientNs, { proto: "tcp", ...opts }),
  };
}

/** The source addresses the server saw, without ports. */
export const seenAddresses = (events: StreamEvent[]): string[] =>
  [...new Set(events.filter((e) => e.event === "reply").map((e) => e.seen?.split(":")[0] ?? ""))].sort();

/** The longest silence of a stream that began at or after `since`. */
export const longestGapAfter = (stream: Stream, since: number): number =>
  Math.max(
    0,
    ...stream
      .events()
      .filter((e) => e.event === "gap" && (e.from ?? 0) >= since - 50)
      .map((e) => e.ms ?? 0),
  );
