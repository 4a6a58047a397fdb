/**
 * npm run bench:ruleset-diff [-- --rules N]
 *
 * How long a viewer's ruleset diff takes, the first time and again, and how long a light request
 * (one small query) that arrives meanwhile waits: two revisions of a generated policy with N rules
 * (default 20,000; the second revision changes every tenth rule's pool), one gateway, SQLite.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createDb } from "../server/db/client";
import { migrate } from "../server/db/migrate";
import { generatePolicy } from "../testkit/policy-fixtures";
import { rulesetDiff } from "../server/services/revisions/ruleset-diff";

const { values } = parseArgs({ options: { rules: { type: "string", default: "20000" } } });
const RULES = Number(values.rules);

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-bench-diff-"));
  const url = `file:${join(dir, "bench.db")}`;
  await migrate(url);
  const db = createDb(url);
  try {
    const cluster = await db.cluster.create({ data: { name: "bench", settings: "{}" }, select: { id: true } });
    const p1 = generatePolicy({ rules: RULES });
    const p2 = structuredClone(p1);
    const poolIds = new Set(p2.pools.map((p) => p.id));
    // every tenth rule moves to its ISP's other pool
    p2.rules.forEach((r, i) => {
      if (i % 10 !== 0 || r.action.type !== "snat") return;
      const other = r.action.poolId.endsWith("-a") ? r.action.poolId.replace(/-a$/, "-b") : r.action.poolId;
      if (poolIds.has(other)) r.action = { ...r.action, poolId: other };
    });
    for (const [number, policy] of [
      [1, p1],
      [2, p2],
    ] as const) {
      await db.revision.create({
        data: {
          clusterId: cluster.id,
          number,
          message: `r${number}`,
          authorName: "bench",
          policy: JSON.stringify(policy),
        },
      });
    }
    const gw = await db.gateway.create({ data: { clusterId: cluster.id, name: "gw1" }, select: { id: true } });
    const input = { clusterId: cluster.id, gatewayId: gw.id, from: 1, to: 2 };

    const gw2 = await db.gateway.create({ data: { clusterId: cluster.id, name: "gw2" }, select: { id: true } });
    const timed = async (which = input) => {
      // a light request is due every 10 ms while the diff runs: how late is it answered, counted
      // from when it was due (a blocked event loop delays the timer, not only the query)?
      let worstLag = 0;
      let running = true;
      const light = (async () => {
        while (running) {
          const due = performance.now() + 10;
          await new Promise((r) => setTimeout(r, 10));
          await db.cluster.findUnique({ where: { id: cluster.id }, select: { id: true } });
          worstLag = Math.max(worstLag, performance.now() - due);
        }
      })();
      const t0 = performance.now();
      const r = await rulesetDiff(db, which);
      const ms = performance.now() - t0;
      running = false;
      await light;
      return { ms, worstLag, r };
    };
    const first = await timed();
    const second = await timed();
    // another gateway: rendered again, by a worker that has run once already
    const other = await timed({ ...input, gatewayId: gw2.id });
    const lines = first.r.to.lines;
    console.log(
      JSON.stringify({
        rules: RULES,
        renderedLines: lines,
        changed: `+${first.r.added} -${first.r.removed}`,
        firstMs: Math.round(first.ms),
        secondMs: Math.round(second.ms),
        lightRequestWorstMsDuringFirst: Math.round(first.worstLag),
        lightRequestWorstMsDuringSecond: Math.round(second.worstLag),
        otherGatewayMs: Math.round(other.ms),
        lightRequestWorstMsDuringOtherGateway: Math.round(other.worstLag),
      }),
    );
  } finally {
    await db.$disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
