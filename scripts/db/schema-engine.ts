/**
 * Prisma's schema engine (the WebAssembly build from @prisma/schema-engine-wasm) driven through our own database
 * drivers, so migrations can be generated and checked without the engine binary the CLI would download.
 *
 * Development tooling only: the console applies migrations with server/db/migrate.ts and never loads this.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import type { MigrationList, SchemaEngine, SchemaFilter } from "@prisma/schema-engine-wasm";
import pg from "pg";
import type { DbProvider } from "../../server/db/client";
import { LOCKFILE, lockfileContent, readMigrations } from "../../server/db/migration-files";

// ---- loading the WebAssembly module --------------------------------------------------------------------------

type EngineModule = typeof import("@prisma/schema-engine-wasm");
type Glue = EngineModule & { __wbg_set_wasm(exports: WebAssembly.Exports): void };

let enginePromise: Promise<EngineModule> | undefined;

/**
 * The package's entry imports the .wasm file as an ES module, which Node 20 only does behind a flag; instantiate it
 * by hand against the package's own JS glue instead.
 */
function loadEngineModule(): Promise<EngineModule> {
  enginePromise ??= (async () => {
    const require = createRequire(import.meta.url);
    const gluePath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const glue = (await import("@prisma/schema-engine-wasm/schema_engine_bg")) as unknown as Glue;
    const bytes = readFileSync(join(dirname(gluePath), "schema_engine_bg.wasm"));
    const { instance } = await WebAssembly.instantiate(bytes, {
      "./schema_engine_bg.js": glue as unknown as WebAssembly.ModuleImports,
    });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  return enginePromise;
}

// ---- driver adapters in the shape the engine calls -----------------------------------------------------------

/**
 * The engine expects every adapter call to resolve to a Result and looks up JS exceptions by id in
 * `errorRegistry`. Keeping every error (instead of handing each out once) lets us put the real cause into the
 * message of the engine's "External error id#N".
 */
class ErrorRegistry {
  readonly errors: unknown[] = [];
  register(error: unknown): number {
    this.errors.push(error);
    return this.errors.length - 1;
  }
  consumeError(id: number): { error: unknown } | undefined {
    return id in this.errors ? { error: this.errors[id] } : undefined;
  }
}

type Result = { ok: true; value: unknown } | { ok: false; error: unknown };
type AnyFn = (...args: never[]) => unknown;
type Obj = Record<string, unknown>;

function captureErrors(registry: ErrorRegistry, fn: AnyFn): (...args: never[]) => Promise<Result> {
  return async (...args) => {
    try {
      return { ok: true, value: await fn(...args) };
    } catch (e) {
      // Errors the adapters already classified carry their payload in `cause`.
      if (e instanceof Error && e.name === "DriverAdapterError" && typeof e.cause === "object") {
        return { ok: false, error: e.cause };
      }
      return { ok: false, error: { kind: "GenericJs", id: registry.register(e) } };
    }
  };
}

function method(target: Obj, name: string): AnyFn {
  const fn = target[name];
  if (typeof fn !== "function") throw new Error(`adapter has no ${name}()`);
  return (fn as AnyFn).bind(target);
}

function bindTransaction(registry: ErrorRegistry, tx: Obj): Obj {
  const bound: Obj = { adapterName: tx.adapterName, provider: tx.provider, options: tx.options };
  for (const name of ["queryRaw", "executeRaw", "commit", "rollback"]) {
    bound[name] = captureErrors(registry, method(tx, name));
  }
  for (const name of ["createSavepoint", "rollbackToSavepoint", "releaseSavepoint"]) {
    if (typeof tx[name] === "function") bound[name] = captureErrors(registry, method(tx, name));
  }
  return bound;
}

function bindAdapter(registry: ErrorRegistry, adapter: Obj): Obj {
  const bound: Obj = { adapterName: adapter.adapterName, provider: adapter.provider, errorRegistry: registry };
  for (const name of ["queryRaw", "executeRaw", "executeScript", "dispose"]) {
    bound[name] = captureErrors(registry, method(adapter, name));
  }
  const startTransaction = captureErrors(registry, method(adapter, "startTransaction"));
  bound.startTransaction = async (...args: never[]) => {
    const r = await startTransaction(...args);
    return r.ok ? { ok: true, value: bindTransaction(registry, r.value as Obj) } : r;
  };
  if (typeof adapter.getConnectionInfo === "function") {
    const info = method(adapter, "getConnectionInfo");
    bound.getConnectionInfo = () => {
      try {
        return { ok: true, value: info() };
      } catch (e) {
        return { ok: false, error: { kind: "GenericJs", id: registry.register(e) } };
      }
    };
  }
  return bound;
}

interface MigrationAwareFactory {
  provider: string;
  adapterName: string;
  connect(): Promise<Obj>;
  connectToShadowDb(): Promise<Obj>;
  /** releases whatever the engine left open */
  close(): Promise<void>;
}

function bindFactory(registry: ErrorRegistry, factory: MigrationAwareFactory): Obj {
  const connectWith = (fn: () => Promise<Obj>) => {
    const connect = captureErrors(registry, fn);
    return async () => {
      const r = await connect();
      return r.ok ? { ok: true, value: bindAdapter(registry, r.value as Obj) } : r;
    };
  };
  return {
    adapterName: factory.adapterName,
    provider: factory.provider,
    errorRegistry: registry,
    connect: connectWith(() => factory.connect()),
    connectToShadowDb: connectWith(() => factory.connectToShadowDb()),
  };
}

/**
 * better-sqlite3 prepares one statement at a time, but the engine replays whole migration scripts through
 * executeRaw on the shadow database; run those through executeScript (sqlite3_exec) instead.
 */
function sqliteRunsScripts(adapter: Obj): Obj {
  const executeRaw = method(adapter, "executeRaw") as unknown as (q: {
    sql: string;
    args: unknown[];
  }) => Promise<number>;
  const executeScript = method(adapter, "executeScript") as unknown as (sql: string) => Promise<void>;
  adapter.executeRaw = async (query: { sql: string; args: unknown[] }) => {
    try {
      return await executeRaw(query);
    } catch (e) {
      if (query.args.length > 0 || !(e instanceof Error) || !/more than one statement/.test(e.message)) throw e;
      await executeScript(query.sql);
      return 0;
    }
  };
  return adapter;
}

function sqliteFactory(path: string): MigrationAwareFactory {
  const inner = new PrismaBetterSqlite3({ url: path }, { shadowDatabaseUrl: ":memory:" });
  const connected: Obj[] = [];
  const track = (adapter: Obj) => {
    connected.push(adapter);
    return sqliteRunsScripts(adapter);
  };
  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    connect: async () => track((await inner.connect()) as unknown as Obj),
    connectToShadowDb: async () => track((await inner.connectToShadowDb()) as unknown as Obj),
    close: async () => {
      for (const adapter of connected.splice(0)) await (method(adapter, "dispose") as () => Promise<void>)();
    },
  };
}

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

type PgFields = { fields?: { dataTypeID: number }[] };

/**
 * The engine's catalog queries read pg_catalog's one-byte `"char"` columns (contype, relkind, ...), a type the pg
 * adapter refuses to map. They are plain text to the engine, so relabel them before the adapter looks.
 */
function charAsText(result: unknown): unknown {
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const f of (r as PgFields)?.fields ?? []) if (f.dataTypeID === PG_CHAR_OID) f.dataTypeID = PG_TEXT_OID;
  }
  return result;
}

class CatalogClient extends pg.Client {
  constructor(config?: pg.ClientConfig) {
    super(config);
    const query = this.query.bind(this) as (...args: unknown[]) => unknown;
    (this as unknown as { query: unknown }).query = (...args: unknown[]) => {
      // pg.Pool calls back, the adapter's own transactions await: relabel on both paths
      const last = args.at(-1);
      if (typeof last === "function") {
        args[args.length - 1] = (err: unknown, res: unknown) => last(err, err ? res : charAsText(res));
      }
      const r = query(...args);
      return r instanceof Promise ? r.then(charAsText) : r;
    };
  }
}

/** Discrete settings, not a connection string: pg lets a connectionString override `database`. */
export function pgConfigFromUrl(url: string): pg.PoolConfig {
  const u = new URL(url);
  return {
    host: u.searchParams.get("host") ?? decodeURIComponent(u.hostname),
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.slice(1)) || "postgres",
    max: 4,
  };
}

async function withPgClient<T>(config: pg.PoolConfig, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * The pg adapter's own shadow database is created from a copy of the connection string (so it points back at the
 * main database) and dropped while its pool still holds connections; manage it here instead: create, hand over,
 * and on dispose close the pool before dropping. Anything left behind is dropped by `dropLeftovers`.
 */
function pgFactory(url: string): MigrationAwareFactory {
  // The engine never disposes the adapters it connects, and pg keeps idle pooled connections for 10 s, which held
  // every finished script open that long: close them in close(), and let idle ones not keep the process alive.
  const config: pg.PoolConfig = { ...pgConfigFromUrl(url), Client: CatalogClient, allowExitOnIdle: true };
  const main = new PrismaPg(config);
  const live = new Set<string>();
  const connected: Obj[] = [];
  const drop = (name: string) =>
    withPgClient(config, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => {
      live.delete(name);
    });
  return {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: async () => {
      const adapter = (await main.connect()) as unknown as Obj;
      connected.push(adapter);
      return adapter;
    },
    connectToShadowDb: async () => {
      const name = `prisma_shadow_${randomUUID().replace(/-/g, "")}`;
      await withPgClient(config, (c) => c.query(`CREATE DATABASE "${name}"`));
      live.add(name);
      const adapter = (await new PrismaPg({ ...config, database: name }).connect()) as unknown as Obj;
      const dispose = method(adapter, "dispose") as () => Promise<void>;
      adapter.dispose = async () => {
        await dispose();
        await drop(name);
      };
      return adapter;
    },
    close: async () => {
      // the engine does not dispose what it connected
      for (const adapter of connected.splice(0)) await (method(adapter, "dispose") as () => Promise<void>)();
      for (const name of [...live]) await drop(name);
    },
  };
}

// ---- sessions ------------------------------------------------------------------------------------------------

export type EngineTarget = { provider: "sqlite"; path: string } | { provider: "postgresql"; url: string };

export interface EngineSession {
  provider: DbProvider;
  /** Runs an engine call; failures carry the underlying driver error, not just "External error id#N". */
  call<T>(fn: (engine: SchemaEngine) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const NO_FILTER: SchemaFilter = { externalTables: [], externalEnums: [] };

export async function openSchemaEngine(target: EngineTarget, schema: string): Promise<EngineSession> {
  const { SchemaEngine: Engine } = await loadEngineModule();
  const registry = new ErrorRegistry();
  const factory = target.provider === "sqlite" ? sqliteFactory(target.path) : pgFactory(target.url);
  const logs: string[] = [];
  const engine = await Engine.new(
    { datamodels: [["schema.prisma", schema]] },
    (line: string) => logs.push(line),
    bindFactory(registry, factory),
  );
  return {
    provider: target.provider,
    call: async (fn) => {
      try {
        return await fn(engine);
      } catch (e) {
        throw withCauses(e, registry);
      }
    },
    close: async () => {
      engine.free();
      await factory.close();
    },
  };
}

function withCauses(e: unknown, registry: ErrorRegistry): Error {
  const message = e instanceof Error ? e.message : String(e);
  const causes = [...message.matchAll(/External error id#(\d+)/g)].map((m) => {
    const cause = registry.errors[Number(m[1])];
    return `  id#${m[1]}: ${cause instanceof Error ? cause.message : JSON.stringify(cause)}`;
  });
  const err = new Error(causes.length ? `${message}\ncaused by:\n${causes.join("\n")}` : message);
  if (e instanceof Error && "code" in e) Object.assign(err, { code: e.code });
  return err;
}

// ---- operations ----------------------------------------------------------------------------------------------

export function migrationList(provider: DbProvider, dir: string): MigrationList {
  return {
    baseDir: dir,
    lockfile: { path: LOCKFILE, content: lockfileContent(provider) },
    shadowDbInitScript: "",
    migrationDirectories: readMigrations(dir).map((m) => ({
      path: m.name,
      migrationFile: { path: "migration.sql", content: { tag: "ok", value: m.sql } },
    })),
  };
}

export interface SchemaDiff {
  /** true when the two sides describe the same schema */
  empty: boolean;
  /** the SQL that takes the first side to the second */
  sql: string;
}

function toDiff(r: { exitCode: number; stdout: string | null }): SchemaDiff {
  // with exitCode requested, the engine answers 2 when there is a difference and 0 when there is none
  return { empty: r.exitCode === 0, sql: r.stdout ?? "" };
}

/** SQL that takes a database built from the migrations in `dir` (replayed on a shadow database) to `schema`. */
export function diffMigrationsToSchema(session: EngineSession, dir: string, schema: string): Promise<SchemaDiff> {
  return session
    .call((engine) =>
      engine.diff({
        from: { tag: "migrations", ...migrationList(session.provider, dir) },
        to: { tag: "schemaDatamodel", files: [{ path: "schema.prisma", content: schema }] },
        script: true,
        exitCode: true,
        filters: NO_FILTER,
      }),
    )
    .then(toDiff);
}

/** SQL that takes the session's live database to `schema` (empty when they agree). */
export function diffDatabaseToSchema(session: EngineSession, schema: string): Promise<SchemaDiff> {
  const files = [{ path: "schema.prisma", content: schema }];
  return session
    .call((engine) =>
      engine.diff({
        // "the database this schema's datasource points at", which through an adapter is the session's database;
        // configDir only matters for file paths in datasource settings, which ours has none of
        from: { tag: "schemaDatasource", files, configDir: process.cwd() },
        to: { tag: "schemaDatamodel", files },
        script: true,
        exitCode: true,
        filters: NO_FILTER,
      }),
    )
    .then(toDiff);
}
