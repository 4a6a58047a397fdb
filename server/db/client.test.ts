import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDb, type Db, type DbProvider, databaseUrlOf, pgTarget, providerOf, redactUrl } from "./client";
import { migrate } from "./migrate";
import { type FreshStore, freshStore, PROVIDERS } from "../../testkit/server/databases";

describe("url helpers", () => {
  it("tells the stores apart and keeps Prisma's schema parameter away from the driver", () => {
    expect(providerOf("file:./data/x.db")).toBe("sqlite");
    expect(providerOf("postgresql://u:p@h:5432/d")).toBe("postgresql");
    expect(pgTarget("postgresql://u:p@h:5432/d?schema=gh&sslmode=require")).toEqual({
      connectionString: "postgresql://u:p@h:5432/d?sslmode=require",
      schema: "gh",
    });
    expect(pgTarget("postgres://u@h/d").schema).toBeUndefined();
    expect(redactUrl("postgresql://u:secret@h:5432/d")).toBe("postgresql://u:***@h:5432/d");
  });
});

/** The same round trip on both stores: every kind of column, a relation, a cascade, a unique violation. */
async function roundTrip(db: Db): Promise<void> {
  const user = await db.user.create({
    data: { username: "ada", usernameKey: "ada", passwordHash: "x", role: "admin" },
  });
  expect(user).toMatchObject({ username: "ada", disabled: false, version: 1 });
  expect(user.createdAt).toBeInstanceOf(Date);

  const expiresAt = new Date("2030-01-02T03:04:05.678Z");
  await db.session.create({ data: { id: "s1", userId: user.id, csrfToken: "t", expiresAt } });
  const found = await db.user.findUnique({ where: { username: "ada" }, include: { sessions: true } });
  expect(found?.sessions.map((s) => [s.id, s.expiresAt.toISOString()])).toEqual([["s1", expiresAt.toISOString()]]);

  const updated = await db.user.update({
    where: { id: user.id },
    data: { disabled: true, version: { increment: 1 } },
  });
  expect(updated).toMatchObject({ disabled: true, version: 2 });
  expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(user.updatedAt.getTime());

  await expect(
    db.user.create({ data: { username: "ada", usernameKey: "ada", passwordHash: "y", role: "viewer" } }),
  ).rejects.toMatchObject({
    code: "P2002",
  });

  const event = await db.auditEvent.create({
    data: { actorType: "user", action: "auth.login", prevHash: "0", hash: "h1", after: JSON.stringify({ a: 1 }) },
  });
  expect(event.seq).toBeGreaterThan(0);

  await db.user.delete({ where: { id: user.id } });
  expect(await db.session.count()).toBe(0); // ON DELETE CASCADE
  expect(await db.user.count()).toBe(0);
}

describe.each(PROVIDERS)("createDb on %s", (provider: DbProvider) => {
  let store: FreshStore;
  let db: Db | undefined;
  beforeEach(async () => {
    store = await freshStore(provider);
  });
  afterEach(async () => {
    await db?.$disconnect();
    db = undefined;
    await store.drop();
  });

  it("round-trips through the generated client on a migrated database", async () => {
    await migrate(store.url);
    db = createDb(store.url);
    expect(databaseUrlOf(db)).toBe(store.url);
    await roundTrip(db);
  });
});

describe("createDb on postgresql with ?schema=", () => {
  let store: FreshStore;
  let db: Db | undefined;
  beforeEach(async () => {
    store = await freshStore("postgresql");
  });
  afterEach(async () => {
    await db?.$disconnect();
    db = undefined;
    await store.drop();
  });

  it("keeps the tables, the migration history and the queries in that schema", async () => {
    const url = `${store.url}?schema=gatehouse`;
    await migrate(url);
    db = createDb(url);
    await roundTrip(db);
    await db.cluster.create({ data: { name: "edge", settings: "{}" } });

    const raw = new pg.Client({ connectionString: store.url });
    await raw.connect();
    try {
      const tables = await raw.query<{ schemaname: string; n: string }>(
        `SELECT schemaname, count(*) AS n FROM pg_tables
          WHERE tablename IN ('Cluster', '_prisma_migrations') GROUP BY schemaname`,
      );
      expect(tables.rows).toEqual([{ schemaname: "gatehouse", n: "2" }]);
      const clusters = await raw.query(`SELECT name FROM gatehouse."Cluster"`);
      expect(clusters.rows).toEqual([{ name: "edge" }]);
    } finally {
      await raw.end();
    }
  });
});
