/**
 * A private, throwaway PostgreSQL cluster for test runs.
 *
 * Used as a vitest globalSetup: `setup` only reserves a directory, and the cluster itself starts the first time a
 * test asks for a database (so test runs that never touch PostgreSQL do not need it installed), then `teardown`
 * stops it and removes everything. The cluster listens on 127.0.0.1 on a free high port, keeps its unix socket in
 * its own directory, and runs as the `postgres` user when the tests run as root (initdb refuses root).
 *
 * Nothing here skips: when PostgreSQL is missing, `createTestDatabase()` throws and the test fails.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

/** Key under which globalSetup hands the cluster directory to the test workers. */
const PROVIDE_KEY = "gatehousePostgresDir";

declare module "vitest" {
  interface ProvidedContext {
    gatehousePostgresDir: string;
  }
}

interface ClusterState {
  port: number;
  password: string;
  bindir: string;
}

export interface PostgresCluster {
  /** Superuser URL of the `postgres` database. */
  adminUrl: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

const SUPERUSER = "postgres";
const START_TIMEOUT_MS = 60_000;

/** Highest installed server version first; Debian keeps the binaries out of PATH. */
export function findPostgresBindir(): string | null {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  const top = versions[0];
  return top === undefined ? null : join(root, top, "bin");
}

const MISSING_MESSAGE =
  "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin. Run scripts/test/ensure-postgres.sh first.";

/** initdb and postgres refuse to run as root, so a root test run hands the cluster to the postgres user. */
function asClusterOwner(bin: string, args: string[]): [string, string[]] {
  if (userInfo().uid !== 0) return [bin, args];
  return ["runuser", ["-u", SUPERUSER, "--", bin, ...args]];
}

async function runAsOwner(bin: string, args: string[], timeoutMs = START_TIMEOUT_MS): Promise<string> {
  const [cmd, argv] = asClusterOwner(bin, args);
  try {
    const { stdout } = await run(cmd, argv, { timeout: timeoutMs });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${bin} ${args.join(" ")} failed: ${err.stderr?.trim() || err.message}`);
  }
}

function handToOwner(path: string): void {
  if (userInfo().uid !== 0) return;
  const { uid, gid } = ownerIds();
  chownSync(path, uid, gid);
}

let cachedOwner: { uid: number; gid: number } | undefined;
function ownerIds(): { uid: number; gid: number } {
  if (cachedOwner) return cachedOwner;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${SUPERUSER}:`));
  const fields = line?.split(":");
  if (!fields || fields.length < 4) throw new Error(`user ${SUPERUSER} not found; ${MISSING_MESSAGE}`);
  cachedOwner = { uid: Number(fields[2]), gid: Number(fields[3]) };
  return cachedOwner;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

function adminUrl(state: ClusterState, database = "postgres"): string {
  return `postgresql://${SUPERUSER}:${state.password}@127.0.0.1:${state.port}/${database}`;
}

/** Creates and starts a cluster in `dir` (which must be empty or absent). */
async function initAndStart(dir: string): Promise<ClusterState> {
  const bindir = findPostgresBindir();
  if (!bindir) throw new Error(MISSING_MESSAGE);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o700);
  handToOwner(dir);

  const password = randomBytes(18).toString("base64url");
  const pwfile = join(dir, "pwfile");
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  handToOwner(pwfile);
  const data = join(dir, "data");
  const sock = join(dir, "sock");
  mkdirSync(sock);
  handToOwner(sock);

  await runAsOwner(join(bindir, "initdb"), [
    "-D",
    data,
    "-U",
    SUPERUSER,
    "--auth=scram-sha-256",
    `--pwfile=${pwfile}`,
    "-E",
    "UTF8",
    "--locale=C",
    "--no-sync",
    "--no-instructions",
  ]);
  rmSync(pwfile);

  // The port is free when chosen but may be taken before postgres binds it: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await freePort();
    const options = [
      "-c listen_addresses=127.0.0.1",
      `-c port=${port}`,
      `-c unix_socket_directories=${sock}`,
      // A throwaway cluster: durability only costs time.
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off",
      "-c max_connections=200",
    ].join(" ");
    try {
      await runAsOwner(join(bindir, "pg_ctl"), [
        "-D",
        data,
        "-l",
        join(dir, "server.log"),
        "-w",
        "-t",
        "30",
        "-o",
        options,
        "start",
      ]);
      return { port, password, bindir };
    } catch (e) {
      lastError = e;
      const log = existsSync(join(dir, "server.log")) ? readFileSync(join(dir, "server.log"), "utf8") : "";
      if (!/could not bind|address already in use/i.test(log)) break;
    }
  }
  throw new Error(`could not start PostgreSQL in ${dir}: ${String(lastError)}`);
}

async function stopCluster(dir: string, bindir: string): Promise<void> {
  const data = join(dir, "data");
  if (existsSync(join(data, "postmaster.pid"))) {
    await runAsOwner(join(bindir, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "-t", "30", "stop"]);
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Starts a cluster of its own (for callers outside vitest, e.g. a Playwright globalSetup). */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-pg-"));
  chmodSync(dir, 0o755);
  const state = await initAndStart(join(dir, "cluster"));
  return {
    adminUrl: adminUrl(state),
    port: state.port,
    dir,
    stop: async () => {
      await stopCluster(join(dir, "cluster"), state.bindir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- shared cluster for one vitest run ----------------------------------------------------------------------

const STATE_FILE = "state.json";
const ERROR_FILE = "error.txt";
const LOCK_FILE = "starting.lock";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Workers race to start the run's cluster: the one that creates the lock file starts it and writes state.json
 * (or error.txt); the others wait for either file.
 */
async function ensureRunCluster(runDir: string): Promise<ClusterState> {
  const statePath = join(runDir, STATE_FILE);
  const errorPath = join(runDir, ERROR_FILE);
  let starter = false;
  try {
    writeFileSync(join(runDir, LOCK_FILE), String(process.pid), { flag: "wx" });
    starter = true;
  } catch {
    // someone else is starting it
  }
  if (starter) {
    try {
      const state = await initAndStart(join(runDir, "cluster"));
      writeFileSync(`${statePath}.tmp`, JSON.stringify(state));
      // rename is atomic, so readers never see half a file
      renameSync(`${statePath}.tmp`, statePath);
      return state;
    } catch (e) {
      writeFileSync(errorPath, e instanceof Error ? e.message : String(e));
      throw e;
    }
  }
  const deadline = Date.now() + START_TIMEOUT_MS + 30_000;
  while (Date.now() < deadline) {
    if (existsSync(statePath)) return JSON.parse(readFileSync(statePath, "utf8")) as ClusterState;
    if (existsSync(errorPath)) throw new Error(readFileSync(errorPath, "utf8"));
    await sleep(100);
  }
  throw new Error(`timed out waiting for the test PostgreSQL cluster in ${runDir}`);
}

async function runDirFromVitest(): Promise<string> {
  const { inject } = await import("vitest");
  const dir = inject(PROVIDE_KEY);
  if (!dir) {
    throw new Error(`no PostgreSQL test cluster: add "testkit/postgres.ts" to globalSetup in vitest.config.ts`);
  }
  return dir;
}

let dbCounter = 0;

/**
 * A fresh, empty database in the run's cluster. `drop()` removes it (closing any connection still open).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const state = await ensureRunCluster(await runDirFromVitest());
  dbCounter += 1;
  const name = `t_${process.pid}_${dbCounter}_${randomBytes(3).toString("hex")}`;
  await withAdmin(state, (c) => c.query(`CREATE DATABASE "${name}"`));
  return {
    name,
    url: adminUrl(state, name),
    drop: () => withAdmin(state, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => {}),
  };
}

async function withAdmin<T>(state: ClusterState, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl(state) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// ---- vitest globalSetup ---------------------------------------------------------------------------------------

const RUN_DIR_PREFIX = "gatehouse-test-pg-";
const OWNER_FILE = "owner.pid";

let runDir: string | undefined;

export async function setup(project: { provide: (key: typeof PROVIDE_KEY, value: string) => void }): Promise<void> {
  await reapAbandonedRuns();
  runDir = mkdtempSync(join(tmpdir(), RUN_DIR_PREFIX));
  // world-traversable so the postgres user can reach its cluster directory inside it
  chmodSync(runDir, 0o755);
  writeFileSync(join(runDir, OWNER_FILE), String(process.pid));
  project.provide(PROVIDE_KEY, runDir);
}

export async function teardown(): Promise<void> {
  if (!runDir) return;
  const dir = runDir;
  runDir = undefined;
  await removeRun(dir);
}

async function removeRun(dir: string): Promise<void> {
  const statePath = join(dir, STATE_FILE);
  const bindir = existsSync(statePath)
    ? (JSON.parse(readFileSync(statePath, "utf8")) as ClusterState).bindir
    : findPostgresBindir(); // a starter that died between pg_ctl start and writing its state
  if (bindir) await stopCluster(join(dir, "cluster"), bindir);
  rmSync(dir, { recursive: true, force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A test run that was killed never reached teardown: stop its cluster now rather than leave it running. */
async function reapAbandonedRuns(): Promise<void> {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(RUN_DIR_PREFIX))) {
    const dir = join(tmpdir(), name);
    const owner = join(dir, OWNER_FILE);
    if (!existsSync(owner) || isAlive(Number(readFileSync(owner, "utf8")))) continue;
    await removeRun(dir).catch(() => {});
  }
}
