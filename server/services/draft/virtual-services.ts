import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Db, Tx } from "../../db";
import { conflict, type FieldIssue, invalid, isUniqueViolation, notFound, staleVersion } from "../../errors";
import type { Policy } from "../../../core/policy/model";
import { zId } from "../../../core/policy/fields";
import { type VirtualService, zVirtualServiceFields } from "../../../core/policy/virtual-service";
import {
  type VirtualServiceIssue,
  validateVirtualServices,
  virtualServiceFieldLabel,
} from "../../../core/policy/virtual-service-validate";
import { checkVirtualServiceFacts, type GatewayFacts } from "../../../core/policy/virtual-service-facts";
import { zFacts } from "../../../core/protocol/agent-api";
import { joinLabel, plainZodMessage } from "../../../core/policy/wording";
import type { Actor, RequestMeta } from "../audit/record";
import { getClusterOrThrow } from "../clusters/clusters";
import { recordDraftEdit, takeSeq, type Versioned } from "./entities";
import { loadDraftPolicy, virtualServiceFromRow, virtualServiceToData } from "./rows";

/**
 * Create, update and delete of the draft's virtual services, and draining one real server.
 * Every edit is checked against the whole draft (one service per address, protocol and port; no
 * virtual address that is a pool's or a gateway's own) and against what the gateways report about
 * their interfaces, and commits with its audit event and the draft version bump. Like every
 * draft edit, nothing reaches a gateway before a publish.
 */

export const zVirtualServiceRef = z.object({ clusterId: zId, id: zId });
export const zVersionedVirtualServiceRef = zVirtualServiceRef.extend({ version: z.number().int().min(1) });
export const zRealServerStateInput = zVersionedVirtualServiceRef.extend({
  /** the real server's place in the service's list (0-based) */
  index: z.number().int().min(0).max(63),
  state: z.enum(["enabled", "draining"]),
});
export type RealServerStateInput = z.infer<typeof zRealServerStateInput>;

const title = (s: { name: string }) => `Virtual service "${s.name}"`;

export async function listVirtualServices(db: Db, clusterId: string): Promise<Versioned<VirtualService>[]> {
  await getClusterOrThrow(db, clusterId);
  const rows = await db.virtualService.findMany({ where: { clusterId }, orderBy: { seq: "asc" } });
  return rows.map((r) => ({ entity: virtualServiceFromRow(r), version: r.version }));
}

async function readVersioned(tx: Tx, clusterId: string, id: string): Promise<Versioned<VirtualService> | null> {
  const r = await tx.virtualService.findFirst({ where: { id, clusterId } });
  return r && { entity: virtualServiceFromRow(r), version: r.version };
}

export async function getVirtualService(db: Db, clusterId: string, id: string) {
  const found = await readVersioned(db as unknown as Tx, clusterId, id);
  if (!found) throw notFound(`Virtual service ${id}`);
  return found;
}

async function currentOrThrow(tx: Tx, clusterId: string, id: string, version: number) {
  const current = await readVersioned(tx, clusterId, id);
  if (!current) throw notFound(`Virtual service ${id}`);
  if (current.version !== version) throw staleVersion(title(current.entity));
  return current;
}

/** The fields as the model has them, or every problem named by its field. */
function parseFields(raw: unknown): Omit<VirtualService, "id"> {
  const parsed = zVirtualServiceFields.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues: FieldIssue[] = parsed.error.issues.map((i) => {
    const path = i.path.filter((p): p is string | number => typeof p !== "symbol");
    return { path, message: joinLabel(virtualServiceFieldLabel(path), plainZodMessage(i)) };
  });
  throw invalid(
    `Virtual service is not valid: ${issues
      .slice(0, 3)
      .map((i) => i.message)
      .join("; ")}`,
    issues,
  );
}

/** What the gateways of the cluster report about their interfaces; gateways that reported nothing are left out. */
async function gatewayFacts(tx: Tx, clusterId: string): Promise<{ facts: GatewayFacts[]; names: Map<string, string> }> {
  const rows = await tx.gateway.findMany({ where: { clusterId }, select: { id: true, name: true, facts: true } });
  const facts: GatewayFacts[] = [];
  for (const g of rows) {
    let json: unknown;
    try {
      json = JSON.parse(g.facts);
    } catch {
      continue;
    }
    const parsed = zFacts.safeParse(json);
    if (parsed.success && parsed.data.interfaces.length > 0)
      facts.push({ name: g.name, interfaces: parsed.data.interfaces });
  }
  return { facts, names: new Map(rows.map((g) => [g.id, g.name])) };
}

const issueKey = (i: VirtualServiceIssue) => `${i.serviceId}|${i.path.join(".")}|${i.message}`;

function withService(policy: Policy, service: VirtualService | null, removeId?: string): VirtualService[] {
  const list = policy.virtualServices ?? [];
  const id = service?.id ?? removeId;
  const at = list.findIndex((s) => s.id === id);
  const out = list.filter((s) => s.id !== id);
  if (service) out.splice(at === -1 ? out.length : at, 0, service);
  return out;
}

/**
 * Refuses the change when it brings problems the draft did not have: the service's own become
 * field messages, those of other services are named in the message.
 */
async function assertNoNewIssues(
  tx: Tx,
  clusterId: string,
  policy: Policy,
  before: VirtualService | null,
  after: VirtualService | null,
  what: string,
) {
  const { facts, names } = await gatewayFacts(tx, clusterId);
  const check = (services: VirtualService[]) =>
    validateVirtualServices({
      virtualServices: services,
      pools: policy.pools,
      isps: policy.isps,
      settings: policy.settings,
      gatewayNames: names,
    });
  const old = new Set(check(policy.virtualServices ?? []).map(issueKey));
  const afterList = after ? withService(policy, after) : withService(policy, null, before?.id);
  const fresh = check(afterList).filter((i) => !old.has(issueKey(i)));
  if (after) {
    const known = new Set((before ? checkVirtualServiceFacts(before, facts, before.id) : []).map(issueKey));
    fresh.push(...checkVirtualServiceFacts(after, facts, after.id).filter((i) => !known.has(issueKey(i))));
  }
  if (fresh.length === 0) return;
  const ownId = after?.id ?? before?.id;
  const own: FieldIssue[] = fresh
    .filter((i) => i.serviceId === ownId)
    .map((i) => ({ path: i.path, message: i.message }));
  const serviceNames = new Map(afterList.map((s) => [s.id, s.name]));
  const parts = fresh.map((i) =>
    i.serviceId === ownId ? i.message : `virtual service "${serviceNames.get(i.serviceId ?? "") ?? "?"}": ${i.message}`,
  );
  const text = `${what}: ${parts.slice(0, 5).join("; ")}${parts.length > 5 ? ` (and ${parts.length - 5} more)` : ""}`;
  // problems it makes for the other services are a conflict with them, not a bad field here
  throw own.length > 0 ? invalid(text, own) : conflict(text);
}

function mapUnique(name: string) {
  return (e: unknown): never => {
    if (isUniqueViolation(e)) throw conflict(`Virtual service "${name}" already exists in this cluster`);
    throw e;
  };
}

export async function createVirtualService(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  clusterId: string,
  rawFields: unknown,
): Promise<Versioned<VirtualService>> {
  const fields = parseFields(rawFields);
  return db
    .$transaction(async (tx) => {
      const cluster = await getClusterOrThrow(tx, clusterId);
      const policy = await loadDraftPolicy(tx, cluster);
      const service: VirtualService = { ...fields, id: randomUUID() };
      await assertNoNewIssues(tx, clusterId, policy, null, service, "Cannot create virtual service");
      const seq = await takeSeq(tx, clusterId);
      await tx.virtualService.create({
        data: { id: service.id, clusterId, seq, ...virtualServiceToData(fields) },
        select: { id: true },
      });
      await recordDraftEdit(tx, {
        actor,
        meta,
        kind: "virtual_service",
        verb: "create",
        clusterId,
        id: service.id,
        after: service,
      });
      return { entity: service, version: 1 };
    })
    .catch(mapUnique(fields.name));
}

/** Replaces a service's fields; the edit is refused when someone changed the service since `version`. */
export async function updateVirtualService(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  clusterId: string,
  id: string,
  version: number,
  rawFields: unknown,
): Promise<Versioned<VirtualService>> {
  const fields = parseFields(rawFields);
  return db
    .$transaction(async (tx) => {
      const cluster = await getClusterOrThrow(tx, clusterId);
      const current = await currentOrThrow(tx, clusterId, id, version);
      return saveChange(tx, actor, meta, clusterId, cluster, current, { ...fields, id });
    })
    .catch(mapUnique(fields.name));
}

async function saveChange(
  tx: Tx,
  actor: Actor,
  meta: RequestMeta,
  clusterId: string,
  cluster: Parameters<typeof loadDraftPolicy>[1],
  current: Versioned<VirtualService>,
  service: VirtualService,
): Promise<Versioned<VirtualService>> {
  const policy = await loadDraftPolicy(tx, cluster);
  await assertNoNewIssues(
    tx,
    clusterId,
    policy,
    current.entity,
    service,
    `Cannot save virtual service "${current.entity.name}"`,
  );
  const { count } = await tx.virtualService.updateMany({
    where: { id: service.id, clusterId, version: current.version },
    data: { ...virtualServiceToData(service), version: { increment: 1 } },
  });
  if (count === 0) throw staleVersion(title(current.entity));
  await recordDraftEdit(tx, {
    actor,
    meta,
    kind: "virtual_service",
    verb: "update",
    clusterId,
    id: service.id,
    before: current.entity,
    after: service,
  });
  return { entity: service, version: current.version + 1 };
}

/**
 * Drains one real server (established connections finish, no new ones) or puts it back: a change
 * of the draft like any other, quick to make from the list.
 */
export async function setRealServerState(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  input: RealServerStateInput,
): Promise<Versioned<VirtualService>> {
  return db.$transaction(async (tx) => {
    const cluster = await getClusterOrThrow(tx, input.clusterId);
    const current = await currentOrThrow(tx, input.clusterId, input.id, input.version);
    const rs = current.entity.realServers[input.index];
    if (rs === undefined) {
      throw invalid(`${title(current.entity)} has no real server ${input.index + 1}`, [
        { path: ["index"], message: `real server ${input.index + 1} does not exist` },
      ]);
    }
    const realServers = current.entity.realServers.map((r, i) =>
      i === input.index ? { ...r, state: input.state } : r,
    );
    return saveChange(tx, actor, meta, input.clusterId, cluster, current, { ...current.entity, realServers });
  });
}

export async function deleteVirtualService(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  clusterId: string,
  id: string,
  version: number,
): Promise<void> {
  await db.$transaction(async (tx) => {
    await getClusterOrThrow(tx, clusterId);
    const current = await currentOrThrow(tx, clusterId, id, version);
    const { count } = await tx.virtualService.deleteMany({ where: { id, clusterId, version } });
    if (count === 0) throw staleVersion(title(current.entity));
    await recordDraftEdit(tx, {
      actor,
      meta,
      kind: "virtual_service",
      verb: "delete",
      clusterId,
      id,
      before: current.entity,
    });
  });
}
