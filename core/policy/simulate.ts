import {
  type Decision,
  decide,
  type EntryMiss,
  type FailoverState,
  lookupSees,
  type MissReason,
  type Packet,
} from "../spec/decide";
import { rulePlace } from "./rule-name";
import type { GatewaySpec, SpecEntry } from "../spec/schema";
import { z } from "zod";
import { formatFwmark } from "./match-criteria";
import { ALGORITHM_LABELS, MAX_ISPS, zId } from "./model";

/**
 * The packet simulator: runs the gateway's own `decide` on a packet and explains the outcome in
 * words. It never matches anything itself, so what it says is what a gateway does.
 */

export interface SkippedRule {
  ruleId: string;
  position: number;
  /** one sentence per kind of mismatch, e.g. "source 100.64.2.9 is not in 100.64.1.0/24" */
  reasons: string[];
}

export interface SimulatedRoute {
  ispId: string;
  ispName: string;
  nextHop: string | null;
  interface: string | null;
}

export interface SimulatedSnat {
  poolId: string;
  poolName: string;
  algorithm: string;
  /** the address a hash algorithm picks; null for random and round robin */
  address: string | null;
  /** every address the connection may get */
  candidates: string[];
  portRange: { from: number; to: number } | null;
  /** an interface-address pool: the interface whose current address the source becomes */
  masquerade?: string;
}

export interface Simulation {
  outcome: "snat" | "forward" | "drop" | "not-egress";
  /** one sentence for the result line */
  summary: string;
  matched: { ruleId: string; position: number; entry: SpecEntry } | null;
  /** rules tried before the match (all tried rules when nothing matched), in rule order */
  skipped: SkippedRule[];
  snat: SimulatedSnat | null;
  route: SimulatedRoute | null;
  /** redirect, failover and port range remarks */
  notes: string[];
  decision: Decision;
}

const LIST_MAX = 4;

function list(items: readonly string[]): string {
  const shown = items.slice(0, LIST_MAX);
  const more = items.length - shown.length;
  if (more > 0) return `${shown.join(", ")} or ${more} more`;
  if (shown.length <= 1) return shown.join("");
  return `${shown.slice(0, -1).join(", ")} or ${shown[shown.length - 1]}`;
}

const unique = (xs: Iterable<string>) => [...new Set(xs)];

/** decide checks source, destination, protocol, port, interface, mark, egress in this order; a later failure means the earlier checks passed. */
const MISS_ORDER: readonly MissReason[] = ["source", "destination", "protocol", "port", "interface", "mark", "egress"];

/**
 * Explains why a rule did not match. Only the entries that got furthest are described: when the
 * source matched one of the rule's networks, "source is not in" the others would only confuse.
 */
function missSentences(misses: readonly EntryMiss[], p: Packet, ispName: (id: string | null) => string): string[] {
  const furthest = Math.max(...misses.map((m) => MISS_ORDER.indexOf(m.reason)));
  const by = (r: MissReason) =>
    misses.filter((m) => m.reason === r && MISS_ORDER.indexOf(r) === furthest).map((m) => m.entry);
  const out: string[] = [];
  const src = by("source");
  if (src.length > 0) out.push(`source ${p.src} is not in ${list(unique(src.map((e) => e.source)))}`);
  const dst = by("destination");
  if (dst.length > 0) {
    out.push(`destination ${p.dst} is not in ${list(unique(dst.map((e) => e.destination ?? "any")))}`);
  }
  const proto = by("protocol");
  if (proto.length > 0) {
    out.push(`protocol ${p.protocol} is not ${list(unique(proto.map((e) => e.protocol)))}`);
  }
  const port = by("port");
  if (port.length > 0) {
    const wanted = list(unique(port.flatMap((e) => e.dstPorts ?? [])));
    out.push(
      p.dstPort === undefined
        ? `the packet has no destination port, and the rule matches only ports ${wanted}`
        : `destination port ${p.dstPort} is not ${wanted}`,
    );
  }
  const iif = by("interface");
  if (iif.length > 0) {
    const wanted = list(unique(iif.flatMap((e) => (e.inInterfaces ?? []).map((n) => `"${n}"`))));
    out.push(
      p.inInterface === undefined
        ? `no input interface was given, and the rule matches only traffic coming in by ${wanted}`
        : `it comes in by "${p.inInterface}", not ${wanted}`,
    );
  }
  const mark = by("mark");
  if (mark.length > 0) {
    const wanted = list(unique(mark.flatMap((e) => (e.fwmark ? [formatFwmark(e.fwmark)] : []))));
    out.push(`mark 0x${((p.mark ?? 0) >>> 0).toString(16)} does not match ${wanted}`);
  }
  const egress = by("egress");
  if (egress.length > 0) {
    const wanted = unique(egress.map((e) => `"${ispName(e.egressIspId)}"`));
    out.push(
      `routing picked ISP "${ispName(p.routedIspId)}", but the rule matches only traffic leaving via ${list(wanted)}`,
    );
  }
  return out;
}

export function simulatePacket(spec: GatewaySpec, failover: FailoverState, packet: Packet): Simulation {
  const decision = decide(spec, failover, packet);
  const isps = new Map(spec.isps.map((i) => [i.id, i]));
  const pools = new Map(spec.pools.map((x) => [x.id, x]));
  const ispName = (id: string | null) => (id === null ? "none" : (isps.get(id)?.name ?? id));

  const grouped = new Map<string, { position: number; misses: EntryMiss[] }>();
  for (const miss of decision.misses) {
    if (miss.entry.ruleId === decision.matched?.ruleId) continue;
    const g = grouped.get(miss.entry.ruleId);
    if (g) g.misses.push(miss);
    else grouped.set(miss.entry.ruleId, { position: miss.entry.rulePosition, misses: [miss] });
  }
  const skipped: SkippedRule[] = [...grouped.entries()]
    .map(([ruleId, g]) => ({ ruleId, position: g.position, reasons: missSentences(g.misses, packet, ispName) }))
    .sort((a, b) => a.position - b.position);

  const matched = decision.matched && {
    ruleId: decision.matched.ruleId,
    position: decision.matched.rulePosition,
    entry: decision.matched,
  };
  const v = decision.verdict;
  const notes: string[] = [];
  const routedName = ispName(packet.routedIspId);
  if (decision.retried && lookupSees(spec, packet.routedIspId) === null) {
    notes.push(
      `ISP "${routedName}" shares its interface with another ISP, so the lookup before routing cannot tell which one routing picks: the connection's first packet is dropped once its next hop is known, and its retransmission is rerouted.`,
    );
  }

  if (v.kind === "not-egress") {
    return {
      outcome: "not-egress",
      summary: "Routing does not send this connection out through an ISP, so Gatehouse leaves it alone.",
      matched: null,
      skipped: [],
      snat: null,
      route: null,
      notes,
      decision,
    };
  }

  const ruleWords = matched ? `Rule ${rulePlace(matched.position)}` : "No rule";
  const redirectTo = decision.matched?.redirectIspId ?? null;
  if (redirectTo !== null && redirectTo !== packet.routedIspId) {
    notes.push(
      `The rule redirects the connection to ISP "${ispName(redirectTo)}" instead of "${routedName}", which routing picked.`,
    );
  }
  const own = decision.matched?.onFailover === "own" && decision.matched.failoverIspId === decision.reroutedTo;
  if (decision.failedOverFrom !== null && v.kind !== "drop") {
    notes.push(
      own
        ? `ISP "${ispName(decision.failedOverFrom)}" is failed over: the rule sends the connection to its own backup "${ispName(v.ispId)}".`
        : `ISP "${ispName(decision.failedOverFrom)}" is failed over to "${ispName(v.ispId)}": the connection leaves through the backup.`,
    );
  }
  const stayedOn = decision.matched?.redirectIspId ?? packet.routedIspId;
  if (decision.matched?.onFailover === "stay" && stayedOn !== null && failover.has(stayedOn) && v.kind !== "drop") {
    notes.push(
      `ISP "${ispName(stayedOn)}" is failed over, but the rule never moves: the connection stays on "${ispName(stayedOn)}" and is lost while it is down.`,
    );
  }

  const route: SimulatedRoute | null =
    v.kind === "drop"
      ? null
      : { ispId: v.ispId, ispName: ispName(v.ispId), nextHop: decision.nextHop, interface: decision.interface };
  const via = route ? ` via ${route.nextHop ?? "?"} on ${route.interface ?? "?"} (ISP "${route.ispName}")` : "";

  if (v.kind === "drop") {
    const summary =
      v.why === "rule"
        ? `${ruleWords} drops the connection.`
        : "No rule matches and the cluster drops unmatched traffic leaving through an ISP.";
    return { outcome: "drop", summary, matched, skipped, snat: null, route: null, notes, decision };
  }
  if (v.kind === "forward") {
    const summary =
      v.why === "exclude"
        ? `${ruleWords} excludes the connection from NAT: it leaves with its own source address${via}.`
        : `No rule matches; the cluster forwards unmatched traffic without NAT${via}.`;
    return { outcome: "forward", summary, matched, skipped, snat: null, route, notes, decision };
  }

  const pool = pools.get(v.poolId);
  const action = decision.matched?.action;
  const algorithm = action?.type === "snat" ? action.algorithm : "sh";
  const label = ALGORITHM_LABELS[algorithm as keyof typeof ALGORITHM_LABELS] ?? algorithm;
  const snat: SimulatedSnat = {
    poolId: v.poolId,
    poolName: pool?.name ?? v.poolId,
    algorithm,
    address: v.address,
    candidates: v.candidates,
    portRange: v.portRange,
    ...(v.masquerade === undefined ? {} : { masquerade: v.masquerade }),
  };
  if (action?.type === "snat" && action.poolId !== v.poolId) {
    const why =
      decision.matched?.fallbackPoolId === v.poolId
        ? own
          ? "the rule's pool on its own backup"
          : "the rule's fallback pool"
        : "the backup ISP's default pool";
    notes.push(
      `It uses pool "${snat.poolName}" (${why}) instead of the rule's pool "${pools.get(action.poolId)?.name ?? action.poolId}".`,
    );
  }
  if (v.portRange) notes.push(`Source ports are taken from ${v.portRange.from}-${v.portRange.to}.`);
  const target =
    v.masquerade !== undefined
      ? `the current address of interface ${v.masquerade} (masquerade)`
      : v.address !== null
        ? `${v.address} (${label} over ${v.candidates.length} address${v.candidates.length === 1 ? "" : "es"})`
        : `one of ${v.candidates.length} address${v.candidates.length === 1 ? "" : "es"}, chosen per connection (${label})`;
  return {
    outcome: "snat",
    summary: `${ruleWords} translates the source to ${target} from pool "${snat.poolName}"${via}.`,
    matched,
    skipped,
    snat,
    route,
    notes,
    decision,
  };
}

/**
 * What routing does with a connection before Gatehouse's marks: it leaves by no ISP, by one, or
 * the kernel spreads connections over several next hops (ECMP: the lookup before routing reports
 * the first one, the hash picks per connection).
 */
export const zRoutingChoice = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("none") }),
  z.object({ kind: z.literal("isp"), ispId: zId }),
  z.object({
    kind: z.literal("ecmp"),
    /** the route's next hops in the route's order: the first is what the lookup before routing reports */
    ispIds: z.array(zId).min(1, "must name at least one ISP").max(MAX_ISPS, `must name at most ${MAX_ISPS} ISPs`),
  }),
]);
export type RoutingChoice = z.infer<typeof zRoutingChoice>;

export interface RoutedSimulation {
  /** the ISP routing really sends the connection through (one per ECMP next hop); null: none */
  routedIspId: string | null;
  simulation: Simulation;
}

/** Simulates a connection for each way routing may send it (docs/semantics.md, "Before and after routing"). */
export function simulateRouting(
  spec: GatewaySpec,
  failover: FailoverState,
  packet: Omit<Packet, "routedIspId" | "lookupIspId">,
  route: RoutingChoice,
): RoutedSimulation[] {
  if (route.kind === "none") {
    return [{ routedIspId: null, simulation: simulatePacket(spec, failover, { ...packet, routedIspId: null }) }];
  }
  if (route.kind === "isp") {
    return [
      { routedIspId: route.ispId, simulation: simulatePacket(spec, failover, { ...packet, routedIspId: route.ispId }) },
    ];
  }
  const lookupIspId = route.ispIds[0] ?? null;
  const name = (id: string | null) => spec.isps.find((i) => i.id === id)?.name ?? id;
  return [...new Set(route.ispIds)].map((ispId) => {
    const simulation = simulatePacket(spec, failover, { ...packet, routedIspId: ispId, lookupIspId });
    if (simulation.decision.retried && lookupSees(spec, lookupIspId) !== null) {
      simulation.notes.push(
        `The lookup before routing reports ISP "${name(lookupIspId)}", the first next hop, but the kernel sends this connection via "${name(ispId)}": its first packet is dropped and its retransmission rerouted.`,
      );
    }
    return { routedIspId: ispId, simulation };
  });
}
