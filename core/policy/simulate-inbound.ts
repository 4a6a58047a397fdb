import { z } from "zod";
import { decideInbound, type InboundDecision, type InboundPacket } from "../spec/decide-virtual-service";
import type { GatewaySpec } from "../spec/schema";
import { zIPv4, zPort } from "./fields";
import { formatFwmark } from "./match-criteria";
import { VS_SCHEDULER_LABELS } from "./virtual-service";

/**
 * The packet simulator for inbound connections: runs the gateway's own decision for virtual
 * services (core/spec/decide-virtual-service.ts) and says in words what happens to a connection
 * from a client to a virtual address.
 */

export const zInboundPacket = z.object({
  src: zIPv4,
  srcPort: zPort.optional(),
  dst: zIPv4,
  dstPort: zPort,
  protocol: z.enum(["tcp", "udp"]),
  /** the packet's mark as the operator's rules set it (services chosen by fwmark); absent: 0 */
  mark: z.number().int().min(0).max(0xffffffff).optional(),
});

export interface InboundSimulation {
  outcome: "no-service" | "drop" | "sorry" | "real-server";
  summary: string;
  service: {
    id: string;
    name: string;
    /** null: the service is chosen by fwmark */
    address: string | null;
    fwmark: string | null;
    port: number | null;
    scheduler: string;
  } | null;
  /** the real server the hash picks; null when the scheduler picks per connection */
  realServer: { address: string; port: number | null; weight: number } | null;
  /** every server a new connection may get */
  candidates: string[];
  /** the destination after DNAT (address:port); null when the packet is not rewritten */
  dnat: string | null;
  /** FULLNAT: what the client's address becomes towards the server */
  snat: string | null;
  notes: string[];
}

const at = (address: string, port: number | null) => (port === null ? address : `${address}:${port}`);

export function simulateInbound(
  spec: Pick<GatewaySpec, "virtualServices" | "settings">,
  p: InboundPacket,
): InboundSimulation {
  const d: InboundDecision = decideInbound(spec, p);
  const s = d.service;
  const to = `${p.dst}:${p.dstPort}/${p.protocol}`;
  if (s === null || d.verdict.kind === "no-service") {
    return {
      outcome: "no-service",
      summary: `No virtual service takes ${to}: the connection is not load balanced.`,
      service: null,
      realServer: null,
      candidates: [],
      dnat: null,
      snat: null,
      notes: [],
    };
  }
  const notes: string[] = [];
  const service = {
    id: s.id,
    name: s.name,
    address: s.address,
    fwmark: s.fwmark === null ? null : formatFwmark(s.fwmark),
    port: s.port,
    scheduler: s.scheduler,
  };
  const by =
    d.matchedBy === "every-port"
      ? " (every port)"
      : d.matchedBy === "fwmark" && service.fwmark !== null
        ? ` (chosen by fwmark ${service.fwmark})`
        : "";
  const named = `Virtual service "${s.name}"${by}`;
  const snat =
    s.fullNat && d.verdict.kind !== "drop" ? "the gateway's own address on the interface towards the server" : null;
  if (snat)
    notes.push(
      "FULLNAT: the client's address is rewritten to the gateway's (masquerade), so replies return through it whatever the server's routes.",
    );
  if (d.verdict.kind === "drop") {
    return {
      outcome: "drop",
      summary: `${named} has no real server that can take new connections (all draining, weight 0 or down) and no sorry server: the connection is dropped.`,
      service,
      realServer: null,
      candidates: [],
      dnat: null,
      snat: null,
      notes,
    };
  }
  if (d.verdict.kind === "sorry") {
    const target = d.dnat ? at(d.dnat.address, d.dnat.port) : "";
    return {
      outcome: "sorry",
      summary: `${named} has no real server that can take new connections: the sorry server ${target} takes it.`,
      service,
      realServer: null,
      candidates: [],
      dnat: target,
      snat,
      notes,
    };
  }
  const v = d.verdict;
  const label = VS_SCHEDULER_LABELS[s.scheduler];
  const port = (rs: { port: number | null }) => rs.port ?? s.port ?? p.dstPort;
  const candidates = v.candidates.map((rs) => `${rs.address}:${port(rs)}`);
  const dnat = d.dnat ? at(d.dnat.address, d.dnat.port) : null;
  if (d.directRouting) {
    notes.push(
      "Direct routing (DR): the packet goes unchanged to the server's MAC address; the server holds the virtual address on lo and answers the client itself.",
    );
  }
  if (s.persistenceSeconds > 0) {
    notes.push(
      `Persistence: after its first connection the client keeps the same server for ${s.persistenceSeconds} s after its last new connection.`,
    );
  }
  notes.push("Assumes every enabled real server passes its health check.");
  const how = v.server
    ? `picks ${v.server.address}:${port(v.server)} for client ${p.src} (${label}: entry ${v.bucket} of the service's ${v.buckets}-entry table)`
    : `picks one of ${candidates.join(", ")} per connection (${label})`;
  const rewrite = d.directRouting ? ", forwarded by direct routing" : dnat ? `, destination rewritten to ${dnat}` : "";
  return {
    outcome: "real-server",
    summary: `${named} ${how}${rewrite}.`,
    service,
    realServer: v.server && { address: v.server.address, port: port(v.server), weight: v.server.weight },
    candidates,
    dnat,
    snat,
    notes,
  };
}
