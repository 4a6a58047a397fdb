/**
 * Audit timeline benchmark: seeds 100,000 chained events (a year of a busy console: ten clusters,
 * edits, publishes, failovers, logins, agent applies) and times pages of the timeline through the
 * API, as the console's pages ask for them.
 *
 *   npm run bench:audit                      SQLite in a temp dir
 *   npm run bench:audit -- --pg              also a private throwaway PostgreSQL
 *   npm run bench:audit -- --plans           print the query plans of the filtered pages
 *
 * Each figure is the median of several runs after a warm-up. The last line is machine-readable
 * (the first store measured, SQLite unless only --pg):
 *
 *   RESULT events=100000 page_ms=<first page> filter_ms=<slowest filtered page, searches included>
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { startPostgresCluster } from "../testkit/postgres";
import { Prisma } from "../prisma/generated/sqlite/client";
import { createDb, type Db, type DbProvider } from "../server/db/client";
import { migrate } from "../server/db/migrate";
import { appendAuditEvents, type BulkAuditInput } from "../server/services/audit/bulk";
import { filterConditions, whereClause } from "../server/services/audit/filter";
import { resolveActions } from "../server/services/audit/list";
import type { AuditFilter } from "../server/services/audit/filter";
import { verifyAuditChain } from "../server/services/audit/verify";
import type { Context } from "../server/trpc/context";
import { createCaller } from "../server/trpc/root";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const DAY = 86_400_000;

/** A deterministic pseudo-random sequence, so every run seeds the same log. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CLUSTERS = Array.from({ length: 10 }, (_, i) => `bench-cluster-${i}`);
const USERS = Array.from({ length: 20 }, (_, i) => `ops${i}`);
const GATEWAYS = Array.from({ length: 30 }, (_, i) => `gw-${i}`);

function seedEvents(n: number, now: number): BulkAuditInput[] {
  const r = rng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: BulkAuditInput[] = [];
  for (let i = 0; i < n; i++) {
    const at = new Date(now - 365 * DAY + Math.floor((i / n) * 365 * DAY));
    const meta = {
      ip: `100.64.${i % 200}.${(i * 7) % 250}`,
      userAgent: "Mozilla/5.0 (X11; Linux x86_64)",
      requestId: `req-${i}`,
    };
    const user = { type: "user" as const, id: `u-${pick(USERS)}`, name: pick(USERS) };
    const clusterId = pick(CLUSTERS);
    const roll = r();
    if (roll < 0.4) {
      const kind = pick(["rule", "rule", "pool", "isp", "zone"] as const);
      const verb = pick(["create", "update", "update", "delete"] as const);
      const entity = {
        name: `${kind}-${i % 500}`,
        comment: `office ${i % 97} egress via isp ${i % 4}`,
        addresses: [`198.51.100.${i % 250}-198.51.100.${(i % 250) + 3}`],
        monitor: { intervalMs: 500, downAfter: 3, upAfter: 5 },
        action: { type: "snat", poolId: `pool-${i % 40}`, algorithm: pick(["sh", "sdh", "rr"]) },
      };
      out.push({
        actor: user,
        meta,
        action: `${kind}.${verb}`,
        clusterId,
        targetType: kind,
        targetId: `${kind}-${i % 500}`,
        before: verb === "create" ? undefined : { ...entity, comment: `was ${i}` },
        after: verb === "delete" ? undefined : entity,
        at,
      });
    } else if (roll < 0.45) {
      out.push({
        actor: user,
        meta,
        action: roll < 0.445 ? "cluster.publish" : "cluster.revert",
        clusterId,
        targetType: "revision",
        targetId: String(i),
        before: { revision: i - 1 },
        after: { revision: i, message: `change ${i}`, changes: { added: 1, removed: 0, changed: 2, total: 3 } },
        at,
      });
    } else if (roll < 0.46) {
      const automatic = r() < 0.5;
      out.push({
        actor: automatic ? { type: "agent", id: pick(GATEWAYS), name: pick(GATEWAYS) } : user,
        meta,
        action: pick(["isp.failover", "isp.failback"]),
        clusterId,
        targetType: "isp",
        targetId: `isp-${i % 4}`,
        after: { backup: `isp-${(i + 1) % 4}`, detectionMs: 220 + (i % 50), switchMs: 30 },
        at,
      });
    } else if (roll < 0.58) {
      out.push({ actor: user, meta, action: "auth.login", targetType: "user", targetId: user.id, at });
    } else if (roll < 0.6) {
      out.push({
        actor: { type: "user", id: "", name: `guess${i % 300}` },
        meta,
        action: "auth.login_failed",
        targetType: "user",
        after: { reason: "unknown user" },
        at,
      });
    } else {
      const gw = pick(GATEWAYS);
      const ok = r() > 0.03;
      out.push({
        actor: { type: "agent", id: gw, name: gw },
        meta,
        action: "gateway.apply",
        clusterId,
        targetType: "gateway",
        targetId: gw,
        after: {
          ok,
          revision: i % 300,
          failoverEpoch: 0,
          error: ok ? "" : "nft: syntax error",
          durationsMs: { apply: 30 },
        },
        at,
      });
    }
  }
  return out;
}

interface Store {
  provider: DbProvider;
  url: string;
  close(): Promise<void>;
}

async function sqliteStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-bench-audit-"));
  return {
    provider: "sqlite",
    url: `file:${join(dir, "bench.db")}`,
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgresStore(): Promise<Store> {
  const cluster = await startPostgresCluster();
  const admin = new pg.Client({ connectionString: cluster.adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "bench_audit"`);
  await admin.end();
  const url = new URL(cluster.adminUrl);
  url.pathname = "/bench_audit";
  return { provider: "postgresql", url: url.toString(), close: () => cluster.stop() };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function time(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up: query plans and caches
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    runs.push(performance.now() - t);
  }
  return median(runs);
}

async function printPlan(db: Db, provider: DbProvider, label: string, f: AuditFilter) {
  const conditions = filterConditions(provider, f, await resolveActions(db, f.action));
  const query = Prisma.sql`SELECT "seq" FROM "AuditEvent" ${whereClause(conditions)} ORDER BY "seq" DESC LIMIT 51`;
  const explain = provider === "sqlite" ? Prisma.sql`EXPLAIN QUERY PLAN ${query}` : Prisma.sql`EXPLAIN ${query}`;
  const rows = await db.$queryRaw<Record<string, unknown>[]>(explain);
  const lines = rows.map((r) => String(r.detail ?? r["QUERY PLAN"] ?? JSON.stringify(r)));
  console.log(`  plan ${label}:\n    ${lines.join("\n    ")}`);
}

async function measure(store: Store, plans: boolean) {
  await migrate(store.url);
  const db = createDb(store.url);
  try {
    const admin = await db.user.create({
      data: { username: "bench", usernameKey: "bench", passwordHash: "x", role: "admin" },
      select: { id: true },
    });
    const ctx: Context = {
      db,
      session: { sessionId: "bench", csrfToken: "c", userId: admin.id, username: "bench", role: "admin" },
      meta: { ip: "127.0.0.1", userAgent: "bench", requestId: "bench" },
      csrfHeader: "c",
      sameOrigin: true,
      resHeaders: new Headers(),
    };
    const api = createCaller(ctx);

    const seedStart = performance.now();
    await appendAuditEvents(db, seedEvents(EVENTS, Date.now()));
    const seedMs = performance.now() - seedStart;
    if (store.provider === "postgresql") await db.$executeRawUnsafe(`ANALYZE "AuditEvent"`);
    const count = await db.auditEvent.count();
    console.log(`${store.provider}: seeded ${count} events in ${(seedMs / 1000).toFixed(1)} s`);

    const verifyStart = performance.now();
    const report = await verifyAuditChain(db);
    console.log(
      `  verify: ${report.intact ? "intact" : "BROKEN"}, ${report.checked} events in ${((performance.now() - verifyStart) / 1000).toFixed(2)} s`,
    );

    const pageMs = await time(() => api.audit.list({ limit: 50 }));
    const mid = Math.floor(count / 2);
    const deepMs = await time(() => api.audit.list({ limit: 50, before: mid }));
    const halfYearAgo = Date.now() - 180 * DAY;
    const filters: Array<[string, AuditFilter & { limit?: number }]> = [
      ["cluster", { clusterId: "bench-cluster-3" }],
      ["actor", { actor: "ops7" }],
      ["action prefix (common)", { action: "rule." }],
      ["action prefix (rare)", { action: "isp.fail" }],
      ["entity", { targetType: "revision" }],
      ["cluster + action", { clusterId: "bench-cluster-3", action: "cluster.revert" }],
      ["cluster + actor + action", { clusterId: "bench-cluster-5", actor: "ops2", action: "pool." }],
      ["actor type", { actorType: "system" }],
      ["time range (a week)", { from: new Date(halfYearAgo), to: new Date(halfYearAgo + 7 * DAY) }],
      [
        "time range + cluster",
        { clusterId: "bench-cluster-1", from: new Date(halfYearAgo), to: new Date(halfYearAgo + 7 * DAY) },
      ],
      ["failed logins", { action: "auth.login_failed" }],
    ];
    const results: Array<[string, number, number]> = [];
    for (const [label, f] of filters) {
      let n = 0;
      const ms = await time(async () => {
        n = (await api.audit.list({ ...f, limit: 50 })).events.length;
      });
      results.push([label, ms, n]);
    }
    const searches: Array<[string, AuditFilter]> = [
      ["search (common word)", { q: "office" }],
      ["search (rare word)", { q: "req-4242" }],
      ["search + cluster", { q: "syntax", clusterId: "bench-cluster-2" }],
      ["search (no match)", { q: "no-such-text-anywhere" }],
    ];
    const searchResults: Array<[string, number, number, number | undefined]> = [];
    for (const [label, f] of searches) {
      let n = 0;
      let to: number | undefined;
      const ms = await time(async () => {
        const page = await api.audit.list({ ...f, limit: 50 });
        n = page.events.length;
        to = page.searchedDownTo;
      });
      searchResults.push([label, ms, n, to]);
    }
    const facetsMs = await time(() => api.audit.facets());

    console.log(
      `  first page: ${pageMs.toFixed(1)} ms; a page in the middle: ${deepMs.toFixed(1)} ms; facets: ${facetsMs.toFixed(1)} ms`,
    );
    for (const [label, ms, n] of results)
      console.log(`  ${label.padEnd(26)} ${ms.toFixed(1).padStart(7)} ms  (${n} events)`);
    for (const [label, ms, n, to] of searchResults) {
      console.log(
        `  ${label.padEnd(26)} ${ms.toFixed(1).padStart(7)} ms  (${n} events${to === undefined ? "" : `, searched down to #${to}`})`,
      );
    }
    if (plans) for (const [label, f] of filters) await printPlan(db, store.provider, label, f);
    // the slowest filtered page of all, searches included (they stop at their time budget)
    const filterMs = Math.max(...results.map(([, ms]) => ms), ...searchResults.map(([, ms]) => ms));
    return { pageMs, filterMs, count };
  } finally {
    await db.$disconnect();
  }
}

async function main() {
  const { values } = parseArgs({
    options: { pg: { type: "boolean" }, "pg-only": { type: "boolean" }, plans: { type: "boolean" } },
  });
  const stores: Array<() => Promise<Store>> = [];
  if (!values["pg-only"]) stores.push(sqliteStore);
  if (values.pg || values["pg-only"]) stores.push(postgresStore);
  let result: { pageMs: number; filterMs: number; count: number } | undefined;
  for (const open of stores) {
    const store = await open();
    try {
      const r = await measure(store, values.plans ?? false);
      result ??= r;
    } finally {
      await store.close();
    }
  }
  if (result === undefined) throw new Error("nothing measured");
  console.log(`RESULT events=${EVENTS} page_ms=${Math.round(result.pageMs)} filter_ms=${Math.round(result.filterMs)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
