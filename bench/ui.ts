/**
 * Rules page benchmark: a fresh SQLite console with one cluster of 10,000 rules
 * (testkit/policy-fixtures.ts generatePolicy), served by `next start` on 127.0.0.1, opened in
 * Chromium, timed as an operator meets it.
 *
 *   npm run bench:ui          (builds the console first when there is no build)
 *
 * - interactive_ms: from the start of the navigation to the rules page until its first rows and
 *   the rule count are on screen and the table is not loading: the first visit after the server
 *   started, with nothing cached on the server.
 * - filter_ms: from typing a search into the filter box until the table shows the matching rules
 *   (median over a few searches: a pool name, a network, an algorithm).
 *
 * Warm figures (the page opened again) are printed too. The last line is machine-readable:
 *
 *   RESULT rules=10000 interactive_ms=<n> filter_ms=<n>
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Page } from "@playwright/test";
import config from "../playwright.config";
import { createDb } from "../server/db/client";
import { migrate } from "../server/db/migrate";
import { generatePolicy } from "../testkit/policy-fixtures";
import type { Actor } from "../server/services/audit/record";
import { SYSTEM_META } from "../server/services/audit/record";
import { ensureFirstAdmin } from "../server/services/auth/bootstrap";
import { createCluster } from "../server/services/clusters/clusters";
import { ispToData, poolToData, ruleToData, zoneToData } from "../server/services/draft/rows";

const RULES = Number(process.env.BENCH_RULES ?? 10_000);
const ADMIN = { username: "admin", password: "bench-admin-password-123" };
const SEARCHES = ["cogent-b", "100.64.3", "sdph"];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

/** The console's own services create the admin and the cluster; the rules go in as rows, in one transaction. */
async function seed(url: string): Promise<string> {
  await migrate(url);
  const db = createDb(url);
  try {
    await ensureFirstAdmin(db, ADMIN.username, ADMIN.password);
    const admin = await db.user.findUniqueOrThrow({ where: { username: ADMIN.username }, select: { id: true } });
    const actor: Actor = { type: "user", id: admin.id, name: ADMIN.username };
    const cluster = await createCluster(db, actor, SYSTEM_META, { name: "bench", description: "", unmatched: "drop" });
    const p = generatePolicy({ rules: RULES });
    await db.$transaction(
      async (tx) => {
        const clusterId = cluster.id;
        let seq = 1;
        for (const i of p.isps) {
          await tx.isp.create({ data: { id: i.id, clusterId, seq: seq++, index: i.index, ...ispToData(i) } });
        }
        for (const x of p.pools) await tx.pool.create({ data: { id: x.id, clusterId, seq: seq++, ...poolToData(x) } });
        for (const z of p.zones) await tx.zone.create({ data: { id: z.id, clusterId, seq: seq++, ...zoneToData(z) } });
        const rows = p.rules.map((r) => ({ id: r.id, clusterId, seq: r.seq, ...ruleToData(r) }));
        for (let i = 0; i < rows.length; i += 1000) await tx.rule.createMany({ data: rows.slice(i, i + 1000) });
        await tx.cluster.update({
          where: { id: clusterId },
          data: { nextSeq: Math.max(seq, RULES + 1), draftVersion: { increment: 1 } },
        });
      },
      { timeout: 120_000 },
    );
    return cluster.id;
  } finally {
    await db.$disconnect();
  }
}

async function startConsole(url: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ["node_modules/next/dist/bin/next", "start", "-H", "127.0.0.1", "-p", String(port)],
    {
      env: { ...process.env, DATABASE_URL: url, NEXT_TELEMETRY_DISABLED: "1", LOG_LEVEL: "warn" },
      stdio: ["ignore", "ignore", "inherit"],
      detached: true,
    },
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/login`);
      if (res.ok) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("the console did not start within 60 s");
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Milliseconds since the navigation started, when the rules table is first usable. */
async function openRules(page: Page, url: string): Promise<number> {
  await page.goto(url, { waitUntil: "commit" });
  const handle = await page.waitForFunction(
    (total) => {
      const table = document.querySelector("table.rules");
      const count = document.querySelector("#rules-count")?.textContent ?? "";
      const row = document.querySelector("table.rules tr[data-rule-id]");
      if (!table || !row || table.getAttribute("aria-busy") === "true" || count !== `${total} rules`) return null;
      return performance.now();
    },
    RULES.toLocaleString("en-US"),
    { polling: "raf", timeout: 60_000 },
  );
  return (await handle.jsonValue()) as number;
}

/** Milliseconds from typing a search to the table showing its matches. */
async function filterFor(page: Page, text: string): Promise<{ ms: number; matches: string }> {
  const search = page.locator("#rules-search");
  await search.fill("");
  await page.waitForFunction(
    (total) => document.querySelector("#rules-count")?.textContent === `${total} rules`,
    RULES.toLocaleString("en-US"),
  );
  await search.focus();
  const started = await page.evaluate(() => performance.now());
  await search.fill(text);
  const handle = await page.waitForFunction(
    (wanted) => {
      // the rows on screen are the answer to this search: not an earlier one, and not loading
      const table = document.querySelector("table.rules");
      const count = document.querySelector("#rules-count")?.textContent ?? "";
      if (!table || table.getAttribute("data-search") !== wanted || table.getAttribute("data-shown") !== "current") {
        return null;
      }
      if (table.getAttribute("aria-busy") === "true" || !/ of [\d,]+ rules match$/.test(count)) return null;
      return [performance.now(), count] as const;
    },
    text,
    { polling: "raf", timeout: 30_000 },
  );
  const [at, matches] = (await handle.jsonValue()) as [number, string];
  return { ms: at - started, matches };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function main() {
  if (!existsSync(".next/BUILD_ID")) {
    console.log("no build found: running next build");
    execFileSync(process.execPath, ["node_modules/next/dist/bin/next", "build"], {
      stdio: "inherit",
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    });
  }
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-bench-ui-"));
  const url = `file:${join(dir, "console.db")}`;
  let server: ChildProcess | null = null;
  const browser = await chromium.launch({
    executablePath: config.use?.launchOptions?.executablePath ?? "/usr/bin/chromium",
    args: config.use?.launchOptions?.args,
  });
  try {
    const t0 = Date.now();
    const clusterId = await seed(url);
    console.log(`seeded ${RULES} rules in ${Date.now() - t0} ms`);
    const port = await freePort();
    server = await startConsole(url, port);
    const base = `http://127.0.0.1:${port}`;
    const page = await browser.newPage({ viewport: config.use?.viewport ?? { width: 1280, height: 800 } });

    await page.goto(`${base}/login`);
    await page.getByLabel("User name").fill(ADMIN.username);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Clusters" }).waitFor();

    const rulesUrl = `${base}/clusters/${clusterId}/rules`;
    const interactive = await openRules(page, rulesUrl);
    console.log(`rules page usable after ${interactive.toFixed(0)} ms (first visit, cold server caches)`);
    const warm: number[] = [];
    for (let i = 0; i < 3; i++) warm.push(await openRules(page, rulesUrl));
    console.log(`warm visits: ${warm.map((x) => x.toFixed(0)).join(", ")} ms`);

    const filters: number[] = [];
    for (const text of SEARCHES) {
      const r = await filterFor(page, text);
      filters.push(r.ms);
      console.log(`search "${text}": ${r.matches} after ${r.ms.toFixed(0)} ms`);
    }
    const filter = median(filters);
    console.log(`targets: interactive < 1500 ms, filter < 300 ms`);
    console.log(`RESULT rules=${RULES} interactive_ms=${Math.round(interactive)} filter_ms=${Math.round(filter)}`);
  } finally {
    await browser.close();
    if (server?.pid !== undefined) {
      try {
        process.kill(-server.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
