import { createDb, type Db, type DbProvider } from "../../server/db/client";
import { migrate } from "../../server/db/migrate";
import { freshStore } from "./databases";
import type { Actor, RequestMeta } from "../../server/services/audit/record";
import { createCluster } from "../../server/services/clusters/clusters";
import { createEntity } from "../../server/services/draft/entities";

/**
 * For the draft services' tests: a migrated store of either kind with one operator, and a
 * cluster with two ISPs (each with a pool), a zone and a few rules, built through the services.
 */

export const META: RequestMeta = { ip: "127.0.0.1", userAgent: "vitest", requestId: "draft-test" };

export interface DraftTestStore {
  db: Db;
  actor: Actor;
  close(): Promise<void>;
}

export async function draftTestStore(provider: DbProvider): Promise<DraftTestStore> {
  const store = await freshStore(provider);
  await migrate(store.url);
  const db = createDb(store.url);
  const u = await db.user.create({
    data: { username: "op", usernameKey: "op", passwordHash: "x", role: "operator" },
    select: { id: true },
  });
  return {
    db,
    actor: { type: "user", id: u.id, name: "op" },
    close: async () => {
      await db.$disconnect();
      await store.drop();
    },
  };
}

export interface TestCluster {
  clusterId: string;
  ispA: string;
  ispB: string;
  poolA: string;
  poolB: string;
  zone: string;
  /** rule ids in creation order */
  rules: string[];
}

export async function makeTestCluster(t: DraftTestStore, name: string, ruleCount = 4): Promise<TestCluster> {
  const { db, actor } = t;
  const cluster = await createCluster(db, actor, META, { name, description: "", unmatched: "drop" });
  const id = cluster.id;
  const ispA = await createEntity(db, actor, META, "isp", id, {
    name: "isp-a",
    interface: "eth1",
    nextHop: "198.51.100.1",
  });
  const ispB = await createEntity(db, actor, META, "isp", id, {
    name: "isp-b",
    interface: "eth2",
    nextHop: "203.0.113.1",
  });
  const poolA = await createEntity(db, actor, META, "pool", id, {
    name: "pool-a",
    ispId: ispA.entity.id,
    addresses: ["198.51.100.10-198.51.100.13"],
  });
  const poolB = await createEntity(db, actor, META, "pool", id, {
    name: "pool-b",
    ispId: ispB.entity.id,
    addresses: ["203.0.113.16/30"],
  });
  const zone = await createEntity(db, actor, META, "zone", id, { name: "office", networks: ["100.64.0.0/16"] });
  const rules: string[] = [];
  for (let i = 0; i < ruleCount; i++) {
    const r = await createEntity(db, actor, META, "rule", id, {
      source: { kind: "cidrs", cidrs: [`100.64.${i}.0/24`] },
      egressIspId: ispA.entity.id,
      action: { type: "snat", poolId: poolA.entity.id, algorithm: "sh" },
      comment: `rule ${i}`,
    });
    rules.push(r.entity.id);
  }
  return {
    clusterId: id,
    ispA: ispA.entity.id,
    ispB: ispB.entity.id,
    poolA: poolA.entity.id,
    poolB: poolB.entity.id,
    zone: zone.entity.id,
    rules,
  };
}

export async function draftVersionOf(db: Db, clusterId: string): Promise<number> {
  const c = await db.cluster.findUniqueOrThrow({ where: { id: clusterId }, select: { draftVersion: true } });
  return c.draftVersion;
}
