import { createDb, type Db } from "../../server/db/client";
import { migrate } from "../../server/db/migrate";
import { freshStore } from "./databases";
import type { Role } from "../../server/services/auth/roles";
import type { Actor, RequestMeta } from "../../server/services/audit/record";
import { createCluster } from "../../server/services/clusters/clusters";
import { createEntity } from "../../server/services/draft/entities";
import { publish } from "../../server/services/draft/revisions";
import { usernameKey } from "../../server/services/auth/username";

/** A migrated SQLite database in a temp dir, a cluster, and helpers to publish revisions. */
export interface GatewayTestDb {
  db: Db;
  close(): Promise<void>;
}

export async function gatewayTestDb(): Promise<GatewayTestDb> {
  const store = await freshStore("sqlite");
  await migrate(store.url);
  const db = createDb(store.url);
  return {
    db,
    close: async () => {
      await db.$disconnect();
      await store.drop();
    },
  };
}

export const META: RequestMeta = { ip: "127.0.0.1", userAgent: "vitest", requestId: "test" };

export async function makeUser(db: Db, username: string, role: Role): Promise<Actor & { role: Role }> {
  const u = await db.user.create({
    data: { username, usernameKey: usernameKey(username), passwordHash: "x", role },
    select: { id: true },
  });
  return { type: "user", id: u.id, name: username, role };
}

/** A cluster whose draft holds one ISP, one 64-address pool and one SNAT rule for 100.64.0.0/16. */
export async function makeCluster(db: Db, actor: Actor, name = "lab") {
  const cluster = await createCluster(db, actor, META, { name, description: "", unmatched: "drop" });
  const isp = await createEntity(db, actor, META, "isp", cluster.id, {
    name: "isp-a",
    interface: "eth1",
    nextHop: "198.51.100.1",
  });
  const pool = await createEntity(db, actor, META, "pool", cluster.id, {
    name: "pool-a",
    ispId: isp.entity.id,
    // room for a slice per gateway however many gateways a test adds
    addresses: ["198.51.100.64/26"],
  });
  await createEntity(db, actor, META, "rule", cluster.id, {
    source: { kind: "cidrs", cidrs: ["100.64.0.0/16"] },
    action: { type: "snat", poolId: pool.entity.id, algorithm: "sh" },
  });
  return { clusterId: cluster.id, ispId: isp.entity.id, poolId: pool.entity.id };
}

/** Changes the draft (one more rule per call) and publishes it; answers the new revision number. */
export async function publishChange(db: Db, actor: Actor, clusterId: string, poolId: string): Promise<number> {
  const n = await db.rule.count({ where: { clusterId } });
  await createEntity(db, actor, META, "rule", clusterId, {
    source: { kind: "cidrs", cidrs: [`100.65.${n}.0/24`] },
    action: { type: "snat", poolId, algorithm: "sdh" },
  });
  const cluster = await db.cluster.findUniqueOrThrow({ where: { id: clusterId }, select: { draftVersion: true } });
  const result = await publish(db, actor, META, {
    clusterId,
    message: `change ${n}`,
    draftVersion: cluster.draftVersion,
  });
  return result.number;
}
