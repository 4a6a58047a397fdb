import { randomUUID } from "node:crypto";
import { explainPlacement, type Placement } from "../../../core/policy/placement";
import type { Db, Tx } from "../../db";
import { AppError, conflict, type FieldIssue, invalid, isUniqueViolation, notFound, staleVersion } from "../../errors";
import {
  type Isp,
  MAX_ISPS,
  type Policy,
  type Pool,
  type Rule,
  type Zone,
  zNewIspPool,
} from "../../../core/policy/model";
import {
  dependentsOf,
  describeIssue,
  type PolicyIssue,
  validatePolicy,
  zodIssues,
} from "../../../core/policy/validate";
import { type Actor, recordAudit, type RequestMeta } from "../audit/record";
import { getClusterOrThrow } from "../clusters/clusters";
import {
  ispFromRow,
  ispToData,
  loadDraftPolicy,
  poolFromRow,
  poolToData,
  ruleFromRow,
  ruleToData,
  zoneFromRow,
  zoneToData,
} from "./rows";
import {
  describeEntity,
  ENTITY_TITLE,
  type EntityKind,
  type EntityOf,
  FIELD_SCHEMAS,
  type FieldsOf,
  LIST_KEY,
  type PolicyEntity,
} from "../../../core/policy/entities";
import { capitalize, fieldLabel, joinLabel } from "../../../core/policy/wording";

/**
 * Create, update and delete of the draft's ISPs, pools, zones and rules. Every edit is checked
 * against the whole draft: it may not introduce a problem anywhere in the policy (a new overlap,
 * a dangling reference), and it commits together with its audit event and the draft version bump.
 */

export interface Versioned<E> {
  /** a rule that was created or edited: where it sits in the effective order now, and why */
  placement?: Placement | null;
  entity: E;
  version: number;
}

async function readVersioned(
  tx: Tx,
  kind: EntityKind,
  clusterId: string,
  id: string,
): Promise<Versioned<PolicyEntity> | null> {
  const where = { id, clusterId };
  switch (kind) {
    case "isp": {
      const r = await tx.isp.findFirst({ where });
      return r && { entity: ispFromRow(r), version: r.version };
    }
    case "pool": {
      const r = await tx.pool.findFirst({ where });
      return r && { entity: poolFromRow(r), version: r.version };
    }
    case "zone": {
      const r = await tx.zone.findFirst({ where });
      return r && { entity: zoneFromRow(r), version: r.version };
    }
    case "rule": {
      const r = await tx.rule.findFirst({ where });
      return r && { entity: ruleFromRow(r), version: r.version };
    }
  }
}

/** What refers to an entity: shown in delete confirmations, and the reason a delete is refused. */
export async function entityDependents(db: Db, kind: EntityKind, clusterId: string, id: string) {
  const cluster = await getClusterOrThrow(db, clusterId);
  const policy = await loadDraftPolicy(db as unknown as Tx, cluster);
  return dependentsOf(policy, kind, id);
}

export async function getEntity<K extends EntityKind>(db: Db, kind: K, clusterId: string, id: string) {
  const found = await readVersioned(db as unknown as Tx, kind, clusterId, id);
  if (!found) throw notFound(`${ENTITY_TITLE[kind]} ${id}`);
  return found as Versioned<EntityOf[K]>;
}

function withEntity(policy: Policy, kind: EntityKind, entity: PolicyEntity | null, removeId?: string): Policy {
  const key = LIST_KEY[kind];
  const list = (policy[key] as PolicyEntity[]).filter((e) => e.id !== (entity?.id ?? removeId));
  if (entity) {
    const at = (policy[key] as PolicyEntity[]).findIndex((e) => e.id === entity.id);
    if (at === -1) list.push(entity);
    else list.splice(at, 0, entity);
  }
  return { ...policy, [key]: list };
}

const issueKey = (i: PolicyIssue) => `${i.entity}|${i.id}|${i.path.join(".")}|${i.message}`;

/**
 * Rejects the change when the new policy has problems the old one did not. Problems of the edited
 * entity become field messages; problems it causes elsewhere are named in the error message.
 */
function assertNoNewIssues(before: Policy, after: Policy, kind: EntityKind, id: string, what: string) {
  const old = new Set(validatePolicy(before).map(issueKey));
  const fresh = validatePolicy(after).filter((i) => !old.has(issueKey(i)));
  if (fresh.length === 0) return;
  const own: FieldIssue[] = fresh
    .filter((i) => i.entity === kind && i.id === id)
    .map((i) => ({ path: i.path, message: i.message }));
  const elsewhere = fresh.filter((i) => !(i.entity === kind && i.id === id));
  const parts = [
    ...own.map((i) => (i.path.length ? joinLabel(fieldLabel(kind, i.path), i.message) : i.message)),
    ...elsewhere.map((i) => describeIssue(after, i)),
  ];
  throw invalid(
    `${what}: ${parts.slice(0, 5).join("; ")}${parts.length > 5 ? ` (and ${parts.length - 5} more)` : ""}`,
    own,
  );
}

/** Every draft edit ends the same way: the draft version moves on and the edit is audited, in the edit's transaction. */
export async function recordDraftEdit(
  tx: Tx,
  edit: {
    actor: Actor;
    meta: RequestMeta;
    /** the audit's target type and the first word of its action: "pool" makes "pool.update" */
    kind: EntityKind | "virtual_service";
    verb: "create" | "update" | "delete";
    clusterId: string;
    id: string;
    before?: unknown;
    after?: unknown;
  },
) {
  await tx.cluster.update({
    where: { id: edit.clusterId },
    data: { draftVersion: { increment: 1 } },
    select: { id: true },
  });
  await recordAudit(tx, {
    actor: edit.actor,
    meta: edit.meta,
    action: `${edit.kind}.${edit.verb}`,
    clusterId: edit.clusterId,
    targetType: edit.kind,
    targetId: edit.id,
    before: edit.before,
    after: edit.after,
  });
}

/** The entity as stored, refused when it is gone or when the caller edited an older version. */
async function currentOrThrow(tx: Tx, kind: EntityKind, clusterId: string, id: string, version: number) {
  const current = await readVersioned(tx, kind, clusterId, id);
  if (!current) throw notFound(`${ENTITY_TITLE[kind]} ${id}`);
  if (current.version !== version) throw staleVersion(capitalize(describeEntity(kind, current.entity)));
  return current;
}

export async function takeSeq(tx: Tx, clusterId: string): Promise<number> {
  const c = await tx.cluster.update({
    where: { id: clusterId },
    data: { nextSeq: { increment: 1 } },
    select: { nextSeq: true },
  });
  return c.nextSeq - 1;
}

function freeIspIndex(policy: Policy): number {
  const used = new Set(policy.isps.map((i) => i.index));
  for (let i = 1; i <= MAX_ISPS; i++) if (!used.has(i)) return i;
  throw conflict(`A cluster can have at most ${MAX_ISPS} ISPs`);
}

async function insertRow(tx: Tx, kind: EntityKind, clusterId: string, e: PolicyEntity, seq: number) {
  const base = { id: e.id, clusterId, seq };
  switch (kind) {
    case "isp":
      return tx.isp.create({
        data: { ...base, index: (e as Isp).index, ...ispToData(e as Isp) },
        select: { id: true },
      });
    case "pool":
      return tx.pool.create({ data: { ...base, ...poolToData(e as Pool) }, select: { id: true } });
    case "zone":
      return tx.zone.create({ data: { ...base, ...zoneToData(e as Zone) }, select: { id: true } });
    case "rule":
      return tx.rule.create({ data: { ...base, ...ruleToData(e as Rule) }, select: { id: true } });
  }
}

async function updateRow(tx: Tx, kind: EntityKind, clusterId: string, e: PolicyEntity, version: number) {
  const where = { id: e.id, clusterId, version };
  const bump = { version: { increment: 1 } };
  switch (kind) {
    case "isp":
      return (await tx.isp.updateMany({ where, data: { ...ispToData(e as Isp), ...bump } })).count;
    case "pool":
      return (await tx.pool.updateMany({ where, data: { ...poolToData(e as Pool), ...bump } })).count;
    case "zone":
      return (await tx.zone.updateMany({ where, data: { ...zoneToData(e as Zone), ...bump } })).count;
    case "rule":
      return (await tx.rule.updateMany({ where, data: { ...ruleToData(e as Rule), ...bump } })).count;
  }
}

async function deleteRow(tx: Tx, kind: EntityKind, clusterId: string, id: string, version: number) {
  const where = { id, clusterId, version };
  switch (kind) {
    case "isp":
      return (await tx.isp.deleteMany({ where })).count;
    case "pool":
      return (await tx.pool.deleteMany({ where })).count;
    case "zone":
      return (await tx.zone.deleteMany({ where })).count;
    case "rule":
      return (await tx.rule.deleteMany({ where })).count;
  }
}

function parseFields<K extends EntityKind>(kind: K, fields: unknown): FieldsOf<K> {
  const parsed = FIELD_SCHEMAS[kind].safeParse(fields);
  if (!parsed.success) {
    const issues = zodIssues(kind, null, parsed.error.issues).map((i) => ({ path: i.path, message: i.message }));
    const words = issues.slice(0, 3).map((i) => joinLabel(fieldLabel(kind, i.path), i.message));
    throw invalid(`${ENTITY_TITLE[kind]} is not valid: ${words.join("; ")}`, issues);
  }
  return parsed.data as FieldsOf<K>;
}

function mapUnique(kind: EntityKind, fields: { name?: string }) {
  return (e: unknown): never => {
    if (isUniqueViolation(e)) {
      throw conflict(`${ENTITY_TITLE[kind]} "${fields.name ?? ""}" already exists in this cluster`);
    }
    throw e;
  };
}

export async function createEntity<K extends EntityKind>(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  kind: K,
  clusterId: string,
  rawFields: unknown,
): Promise<Versioned<EntityOf[K]>> {
  const fields = parseFields(kind, rawFields);
  return db
    .$transaction(async (tx) => {
      const cluster = await getClusterOrThrow(tx, clusterId);
      const before = await loadDraftPolicy(tx, cluster);
      const seq = await takeSeq(tx, clusterId);
      const id = randomUUID();
      const entity = {
        ...fields,
        id,
        ...(kind === "isp" ? { index: freeIspIndex(before) } : {}),
        ...(kind === "rule" ? { seq } : {}),
      } as PolicyEntity;
      const after = withEntity(before, kind, entity);
      assertNoNewIssues(before, after, kind, id, `Cannot create ${ENTITY_TITLE[kind].toLowerCase()}`);
      await insertRow(tx, kind, clusterId, entity, seq);
      await recordDraftEdit(tx, { actor, meta, kind, verb: "create", clusterId, id, after: entity });
      return {
        entity: entity as EntityOf[K],
        version: 1,
        ...(kind === "rule" ? { placement: explainPlacement(after, id) } : {}),
      };
    })
    .catch(mapUnique(kind, fields as { name?: string }));
}

export async function updateEntity<K extends EntityKind>(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  kind: K,
  clusterId: string,
  id: string,
  version: number,
  rawFields: unknown,
): Promise<Versioned<EntityOf[K]>> {
  const fields = parseFields(kind, rawFields);
  return db
    .$transaction(async (tx) => {
      const cluster = await getClusterOrThrow(tx, clusterId);
      const current = await currentOrThrow(tx, kind, clusterId, id, version);
      const before = await loadDraftPolicy(tx, cluster);
      // identity and creation order are not editable
      const entity = {
        ...current.entity,
        ...fields,
        id,
      } as PolicyEntity;
      const after = withEntity(before, kind, entity);
      assertNoNewIssues(before, after, kind, id, `Cannot save ${describeEntity(kind, current.entity, before)}`);
      const count = await updateRow(tx, kind, clusterId, entity, version);
      if (count === 0) throw staleVersion(capitalize(describeEntity(kind, current.entity, before)));
      await recordDraftEdit(tx, {
        actor,
        meta,
        kind,
        verb: "update",
        clusterId,
        id,
        before: current.entity,
        after: entity,
      });
      return {
        entity: entity as EntityOf[K],
        version: version + 1,
        ...(kind === "rule" ? { placement: explainPlacement(after, id) } : {}),
      };
    })
    .catch(mapUnique(kind, fields as { name?: string }));
}

export async function deleteEntity(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  kind: EntityKind,
  clusterId: string,
  id: string,
  version: number,
): Promise<void> {
  await db.$transaction(async (tx) => {
    const cluster = await getClusterOrThrow(tx, clusterId);
    const current = await currentOrThrow(tx, kind, clusterId, id, version);
    const before = await loadDraftPolicy(tx, cluster);
    const dependents = dependentsOf(before, kind, id);
    if (dependents.length > 0) {
      const names = dependents.slice(0, 5).map((d) => d.message);
      const more = dependents.length > 5 ? ` and ${dependents.length - 5} more` : "";
      throw conflict(
        `Cannot delete ${describeEntity(kind, current.entity, before)}: ${names.join("; ")}${more}. Change those first.`,
      );
    }
    const after = withEntity(before, kind, null, id);
    try {
      assertNoNewIssues(before, after, kind, id, `Cannot delete ${describeEntity(kind, current.entity, before)}`);
    } catch (e) {
      // a delete that breaks references is a conflict with the things that depend on it
      if (e instanceof AppError) throw conflict(e.message);
      throw e;
    }
    const count = await deleteRow(tx, kind, clusterId, id, version);
    if (count === 0) throw staleVersion(capitalize(describeEntity(kind, current.entity, before)));
    await recordDraftEdit(tx, { actor, meta, kind, verb: "delete", clusterId, id, before: current.entity });
  });
}

/**
 * A new ISP together with its first pool, which becomes the ISP's default pool: one edit for the
 * newcomer's "uplink and its addresses", checked against the draft as a whole and committed (with
 * both audit events) or refused together. The pool's messages come under `newPool.<field>`.
 */
export async function createIspWithPool(
  db: Db,
  actor: Actor,
  meta: RequestMeta,
  clusterId: string,
  rawIsp: unknown,
  rawPool: unknown,
): Promise<{ isp: Versioned<Isp>; pool: Versioned<Pool> }> {
  const ispId = randomUUID();
  const poolId = randomUUID();
  const ispFields = parseFields("isp", rawIsp);
  const parsedPool = zNewIspPool.safeParse(rawPool);
  if (!parsedPool.success) {
    const issues = zodIssues("pool", null, parsedPool.error.issues).map((i) => ({
      path: ["newPool", ...i.path],
      message: i.message,
    }));
    const words = issues.slice(0, 3).map((i) => joinLabel(fieldLabel("pool", i.path.slice(1)), i.message));
    throw invalid(`The ISP's pool is not valid: ${words.join("; ")}`, issues);
  }
  const poolFields: FieldsOf<"pool"> = { ...parsedPool.data, ispId };
  return db
    .$transaction(async (tx) => {
      const cluster = await getClusterOrThrow(tx, clusterId);
      const before = await loadDraftPolicy(tx, cluster);
      const isp = { ...ispFields, id: ispId, index: freeIspIndex(before), defaultPoolId: poolId } as Isp;
      const pool = { ...poolFields, id: poolId, ispId } as Pool;
      // the ISP alone first, so its own messages come under its fields, then its pool
      const withIsp = withEntity(before, "isp", { ...isp, defaultPoolId: null });
      assertNoNewIssues(before, withIsp, "isp", ispId, "Cannot create ISP");
      try {
        assertNoNewIssues(withIsp, withEntity(withIsp, "pool", pool), "pool", poolId, "Cannot create its pool");
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        throw new AppError(
          e.code,
          e.message,
          e.issues.map((i) => ({ ...i, path: ["newPool", ...i.path] })),
        );
      }
      const after = withEntity(withEntity(withIsp, "pool", pool), "isp", isp);
      assertNoNewIssues(withEntity(withIsp, "pool", pool), after, "isp", ispId, "Cannot create ISP");
      await insertRow(tx, "isp", clusterId, isp, await takeSeq(tx, clusterId));
      await insertRow(tx, "pool", clusterId, pool, await takeSeq(tx, clusterId));
      await recordDraftEdit(tx, { actor, meta, kind: "isp", verb: "create", clusterId, id: ispId, after: isp });
      await recordDraftEdit(tx, { actor, meta, kind: "pool", verb: "create", clusterId, id: poolId, after: pool });
      return { isp: { entity: isp, version: 1 }, pool: { entity: pool, version: 1 } };
    })
    .catch((e: unknown) => {
      if (isUniqueViolation(e)) {
        throw conflict(`An ISP "${ispFields.name}" or a pool "${poolFields.name}" already exists in this cluster`);
      }
      throw e;
    });
}
