import type { HealthReport, IspHealth } from "../../core/protocol/health-report";
import type { Db } from "../../server/db";
import type { Actor } from "../../server/services/audit/record";
import { createCluster } from "../../server/services/clusters/clusters";
import { createEntity, updateEntity } from "../../server/services/draft/entities";
import { publish } from "../../server/services/draft/revisions";
import { enrollGateway } from "../../server/services/gateways/enroll";
import { createGateway } from "../../server/services/gateways/gateways";
import { META } from "./gateways";

/**
 * A published two-ISP cluster (a backs up to b and b to a, each with its pool) with enrolled
 * gateways, and health reports to feed the console as agents would.
 */
export interface FailoverCluster {
  clusterId: string;
  ispA: string;
  ispB: string;
  poolA: string;
  poolB: string;
  gateways: Array<{ id: string; name: string; token: string }>;
}

export async function makeFailoverCluster(
  db: Db,
  actor: Actor,
  opts: { name?: string; gateways?: number; automatic?: boolean } = {},
): Promise<FailoverCluster> {
  const cluster = await createCluster(db, actor, META, {
    name: opts.name ?? "edge",
    description: "",
    unmatched: "drop",
  });
  const mode = opts.automatic ? "automatic" : "manual";
  const a = await createEntity(db, actor, META, "isp", cluster.id, {
    name: "isp-a",
    interface: "ispa",
    nextHop: "100.65.1.2",
    failoverMode: mode,
  });
  const b = await createEntity(db, actor, META, "isp", cluster.id, {
    name: "isp-b",
    interface: "ispb",
    nextHop: "100.65.2.2",
    failoverMode: mode,
  });
  const pa = await createEntity(db, actor, META, "pool", cluster.id, {
    name: "pool-a",
    ispId: a.entity.id,
    addresses: ["198.51.100.10-198.51.100.13"],
  });
  const pb = await createEntity(db, actor, META, "pool", cluster.id, {
    name: "pool-b",
    ispId: b.entity.id,
    addresses: ["198.51.100.130-198.51.100.131"],
  });
  // each ISP backs the other up: the second must exist before the first can name it
  const versionOf = async (id: string) =>
    (await db.isp.findUniqueOrThrow({ where: { id }, select: { version: true } })).version;
  await updateEntity(db, actor, META, "isp", cluster.id, a.entity.id, await versionOf(a.entity.id), {
    name: "isp-a",
    interface: "ispa",
    nextHop: "100.65.1.2",
    failoverMode: mode,
    backupIspIds: [b.entity.id],
    defaultPoolId: pa.entity.id,
  });
  await updateEntity(db, actor, META, "isp", cluster.id, b.entity.id, await versionOf(b.entity.id), {
    name: "isp-b",
    interface: "ispb",
    nextHop: "100.65.2.2",
    failoverMode: mode,
    backupIspIds: [a.entity.id],
    defaultPoolId: pb.entity.id,
  });
  await createEntity(db, actor, META, "rule", cluster.id, {
    source: { kind: "cidrs", cidrs: ["100.64.1.0/24"] },
    action: { type: "snat", poolId: pa.entity.id, algorithm: "sh" },
    comment: "office via A",
  });
  await createEntity(db, actor, META, "rule", cluster.id, {
    source: { kind: "cidrs", cidrs: ["100.64.2.0/24"] },
    action: { type: "snat", poolId: pb.entity.id, algorithm: "sh" },
    egressIspId: b.entity.id,
    comment: "lab via B",
  });
  const { draftVersion } = await db.cluster.findUniqueOrThrow({
    where: { id: cluster.id },
    select: { draftVersion: true },
  });
  // the gateways join before the first publish, so the failover epoch starts at 0
  const gateways: FailoverCluster["gateways"] = [];
  for (let i = 1; i <= (opts.gateways ?? 2); i++) {
    const gw = await createGateway(db, actor, META, { clusterId: cluster.id, name: `gw${i}`, address: "" });
    const enrolled = await enrollGateway(db, META, gw.enrollToken, { agentVersion: "1.0.0" });
    gateways.push({ id: gw.id, name: gw.name, token: enrolled.agentToken });
  }
  await publish(db, actor, META, { clusterId: cluster.id, message: "two ISPs", draftVersion });
  return {
    clusterId: cluster.id,
    ispA: a.entity.id,
    ispB: b.entity.id,
    poolA: pa.entity.id,
    poolB: pb.entity.id,
    gateways,
  };
}

export function ispHealth(ispId: string, over: Partial<IspHealth> = {}): IspHealth {
  return {
    ispId,
    state: "up",
    since: "2030-01-01T00:00:00.000Z",
    reason: "answering probes",
    lossPct: 0,
    rttMs: 0.4,
    lastRttMs: 0.4,
    probesSent: 100,
    probesLost: 0,
    proberError: "",
    failover: null,
    held: false,
    alert: "",
    connections: 10,
    unansweredArp: [],
    ...over,
  };
}

export function healthReport(over: Partial<HealthReport> = {}): HealthReport {
  return {
    agentVersion: "1.0.0",
    at: new Date().toISOString(),
    running: null,
    lastLoad: null,
    isps: [],
    conntrackTotal: null,
    poolUsage: null,
    events: [],
    samples: [],
    ...over,
  };
}
