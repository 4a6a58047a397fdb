import { z } from "zod";
import { adminFailoverState } from "../../../core/spec/decide";
import type { GatewaySpec } from "../../../core/spec/schema";
import type { Db } from "../../db";
import { invalid } from "../../errors";
import { compileGatewaySpec, type IspFailover, PolicyCompileError } from "../../../core/policy/compile";
import { type Policy, zId, zInterfaceName, zIPv4, zPort } from "../../../core/policy/model";
import {
  type RoutedSimulation,
  type RoutingChoice,
  type SkippedRule,
  simulateRouting,
  zRoutingChoice,
} from "../../../core/policy/simulate";
import { getClusterOrThrow } from "../clusters/clusters";
import { simulateInbound, zInboundPacket } from "../../../core/policy/simulate-inbound";
import { zRevisionRef } from "./revisions";
import { canonicalJson, draftSnapshot, publishedPolicy } from "./snapshot";
import { describeEntity } from "../../../core/policy/entities";

/**
 * The packet simulator behind the Simulate page: compiles the draft (or a revision) into the same
 * GatewaySpec a gateway receives and runs the gateway's own decision on a packet. Nothing here
 * matches packets itself.
 */

export const zSimulateInput = z.object({
  clusterId: zId,
  revision: zRevisionRef.default("draft"),
  packet: z.object({
    src: zIPv4,
    dst: zIPv4,
    protocol: z.enum(["tcp", "udp", "icmp"]),
    srcPort: zPort.optional(),
    dstPort: zPort.optional(),
    /** the interface the connection comes in by; absent: unknown (rules that name one do not match) */
    inInterface: zInterfaceName.optional(),
    /** the packet's mark as the operator's own rules set it; absent: 0 */
    mark: z
      .number()
      .int("must be a whole number")
      .min(0, "must be 0 or more")
      .max(0xffffffff, "must fit in 32 bits")
      .optional(),
    /** without `route`: the ISP the gateway's routing picked; null or absent: answer for each ISP */
    routedIspId: zId.nullable().optional(),
  }),
  /** how routing picks the egress: one ISP, spread over several (ECMP), or none; wins over packet.routedIspId */
  route: zRoutingChoice.optional(),
  /** "current": ISPs an operator failed over stay failed over; "none": every ISP active */
  failover: z.enum(["current", "none"]).default("current"),
});
export type SimulateInput = z.infer<typeof zSimulateInput>;

/** Beyond this many, rules whose source does not contain the packet's are counted, not listed. */
export const SKIPPED_LIST_MAX = 300;

const GATEWAY = { id: "simulator", name: "simulator" };

// compiling 10,000 rules takes about half a second: keep the last specs per policy object
const specs = new WeakMap<Policy, Map<string, GatewaySpec>>();

function compileCached(policy: Policy, key: string, make: () => GatewaySpec): GatewaySpec {
  let m = specs.get(policy);
  if (m === undefined) {
    m = new Map();
    specs.set(policy, m);
  }
  let spec = m.get(key);
  if (spec === undefined) {
    spec = make();
    m.set(key, spec);
  }
  return spec;
}

/** Near misses first (the source matched, something else did not), then the rest in order, at most `max`. */
export function pickSkipped(skipped: readonly SkippedRule[], src: string, max = SKIPPED_LIST_MAX) {
  if (skipped.length <= max) return { shown: [...skipped], hiddenSourceMisses: 0 };
  const sourceOnly = (s: SkippedRule) => s.reasons.every((r) => r.startsWith(`source ${src} `));
  const near = skipped.filter((s) => !sourceOnly(s));
  const far = skipped.filter(sourceOnly);
  const room = Math.max(0, max - near.length);
  const shown = [...near.slice(0, max), ...far.slice(0, room)].sort((a, b) => a.position - b.position);
  return { shown, hiddenSourceMisses: skipped.length - shown.length };
}

/** The draft or a revision compiled as a gateway would receive it, with the failover state asked for. */
async function compiledSpec(
  db: Db,
  input: { clusterId: string; revision: "draft" | number; failover: "current" | "none" },
) {
  const cluster = await getClusterOrThrow(db, input.clusterId);
  const [state, failoverRows] = await Promise.all([
    db.cluster.findUniqueOrThrow({ where: { id: input.clusterId }, select: { failoverEpoch: true } }),
    input.failover === "current"
      ? db.failoverState.findMany({
          where: { clusterId: input.clusterId },
          select: { ispId: true, adminState: true, backupIspId: true },
        })
      : Promise.resolve([]),
  ]);
  let policy: Policy;
  let revision: number;
  if (input.revision === "draft") {
    const snap = await draftSnapshot(db, input.clusterId);
    policy = snap.policy;
    revision = snap.publishedRevision;
  } else {
    const settings = canonicalJson(JSON.parse(cluster.settings));
    policy = (await publishedPolicy(db, input.clusterId, input.revision, settings)).policy;
    revision = input.revision;
  }
  const failover: IspFailover[] = failoverRows.map((f) => ({
    ispId: f.ispId,
    adminState: f.adminState === "failed_over" ? "failed_over" : "active",
    backupIspId: f.backupIspId,
  }));
  const key = `${revision}:${input.failover}:${state.failoverEpoch}:${canonicalJson(failover)}`;
  let spec: GatewaySpec;
  try {
    spec = compileCached(policy, key, () =>
      compileGatewaySpec({
        policy,
        revision,
        clusterId: cluster.id,
        clusterName: cluster.name,
        gateway: GATEWAY,
        failover,
        failoverEpoch: state.failoverEpoch,
      }),
    );
  } catch (e) {
    if (e instanceof PolicyCompileError) {
      throw invalid(
        `The ${input.revision === "draft" ? "draft" : `revision ${input.revision}`} cannot be compiled: ${e.message}`,
      );
    }
    throw e;
  }
  return { policy, revision, spec };
}

export async function simulate(db: Db, input: SimulateInput) {
  const { policy, revision, spec } = await compiledSpec(db, input);
  if (spec.isps.length === 0) {
    throw invalid(
      `The ${input.revision === "draft" ? "draft" : `revision ${input.revision}`} has no ISPs: there is nothing to route through`,
    );
  }
  const failed = adminFailoverState(spec);
  const { routedIspId, ...packet } = input.packet;
  const ispIds = new Set(spec.isps.map((i) => i.id));
  const unknownIsp = (path: (string | number)[]) =>
    invalid("The chosen ISP is not in this policy", [{ path, message: "is not an ISP of this policy" }]);
  let routed: RoutedSimulation[];
  if (input.route) {
    const route: RoutingChoice = input.route;
    if (route.kind === "isp" && !ispIds.has(route.ispId)) throw unknownIsp(["route", "ispId"]);
    if (route.kind === "ecmp") {
      const at = route.ispIds.findIndex((id) => !ispIds.has(id));
      if (at >= 0) throw unknownIsp(["route", "ispIds", at]);
    }
    routed = simulateRouting(spec, failed, packet, route);
  } else {
    // each ISP routing may pick, one at a time (or the one named)
    const isps = routedIspId == null ? spec.isps : spec.isps.filter((i) => i.id === routedIspId);
    if (isps.length === 0) throw unknownIsp(["packet", "routedIspId"]);
    routed = isps.flatMap((isp) => simulateRouting(spec, failed, packet, { kind: "isp", ispId: isp.id }));
  }
  const ispName = (id: string | null) => (id === null ? null : (spec.isps.find((i) => i.id === id)?.name ?? id));
  const rulesById = new Map(policy.rules.map((r) => [r.id, r]));
  const referenced = new Set<string>();
  const results = routed.map(({ routedIspId: via, simulation: sim }) => {
    const { shown, hiddenSourceMisses } = pickSkipped(sim.skipped, input.packet.src);
    if (sim.matched) referenced.add(sim.matched.ruleId);
    for (const s of shown) referenced.add(s.ruleId);
    const { decision, ...rest } = sim;
    return {
      routedIspId: via,
      routedIspName: ispName(via),
      ...rest,
      skipped: shown,
      skippedTotal: sim.skipped.length,
      hiddenSourceMisses,
      failedOverFrom: decision.failedOverFrom,
      reroutedTo: decision.reroutedTo,
    };
  });
  const rules: Record<string, { title: string; comment: string; seq: number }> = {};
  for (const id of referenced) {
    const r = rulesById.get(id);
    if (r) rules[id] = { title: describeEntity("rule", r, policy), comment: r.comment, seq: r.seq };
  }
  return {
    source: input.revision,
    revision,
    entryCount: spec.entries.length,
    unmatched: spec.settings.unmatched,
    failedOver: [...failed.entries()].map(([from, to]) => ({
      from: spec.isps.find((i) => i.id === from)?.name ?? from,
      to: spec.isps.find((i) => i.id === to)?.name ?? to,
    })),
    route: input.route?.kind ?? "isp",
    results,
    rules,
  };
}

export const zSimulateInboundInput = z.object({
  clusterId: zId,
  revision: zRevisionRef.default("draft"),
  packet: zInboundPacket,
});
export type SimulateInboundInput = z.infer<typeof zSimulateInboundInput>;

/** A new connection from a client to a virtual address: which service and real server take it. */
export async function simulateInboundConnection(db: Db, input: SimulateInboundInput) {
  const { revision, spec } = await compiledSpec(db, { ...input, failover: "none" });
  return {
    source: input.revision,
    revision,
    serviceCount: spec.virtualServices.length,
    ...simulateInbound(spec, input.packet),
  };
}
