import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness, TEST_META } from "../../../testkit/server/api";
import { appendAuditEvents } from "./bulk";
import { eventHash } from "./chain";
import { parseCsv, unguardFormula } from "./csv";
import { CSV_COLUMNS } from "./export";
import { auditExportResponse, type ExportCaller } from "../../http/audit-export";

const HOSTILE = [
  '=HYPERLINK("http://evil.example/","click")',
  '+cmd|" /C calc"!A0',
  "-1+1",
  "@SUM(1)",
  'quote " and, comma',
  "new\r\nline",
  "tab\tinside",
  "'already quoted",
  "ünïcødé ✓ 🚦",
];

describe.each(PROVIDERS)("audit export on %s", (provider) => {
  let h: ApiHarness;
  let viewer: ExportCaller;
  const T0 = Date.parse("2026-05-01T00:00:00.000Z");

  beforeAll(async () => {
    h = await apiHarness(provider);
    viewer = { userId: h.users.viewer.id, username: "viewer", role: "viewer" };
    await appendAuditEvents(h.db, [
      ...HOSTILE.map((text, i) => ({
        actor: { type: "user" as const, id: `u${i}`, name: text.slice(0, 64) },
        meta: { ip: "203.0.113.7", userAgent: text, requestId: `r${i}` },
        action: "rule.update",
        clusterId: "exp-cluster",
        targetType: "rule",
        targetId: `rule-${i}`,
        before: { comment: text },
        after: { comment: `${text} (changed)`, n: i },
        at: new Date(T0 + i * 60_000),
      })),
      // 1200 more: more than two export pages
      ...Array.from({ length: 1200 }, (_, i) => ({
        actor: { type: "system" as const, id: "", name: "system" },
        meta: TEST_META,
        action: "gateway.apply",
        clusterId: "other-cluster",
        targetType: "gateway",
        targetId: `gw-${i % 3}`,
        after: { ok: i % 5 !== 0, revision: i },
        at: new Date(T0 + 3_600_000 + i * 1000),
      })),
    ]);
  });
  afterAll(async () => {
    await h?.close();
  });

  const get = (params: Record<string, string>, caller: ExportCaller | null = viewer) =>
    auditExportResponse(h.db, caller, TEST_META, new URLSearchParams(params));

  it("exports a filtered range as CSV that reads back to the stored values", async () => {
    const res = await get({ format: "csv", clusterId: "exp-cluster" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="gatehouse-audit-.*\.csv"$/);
    const rows = parseCsv(await res.text());
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    const body = rows.slice(1);
    expect(body).toHaveLength(HOSTILE.length);
    const stored = await h.db.auditEvent.findMany({ where: { clusterId: "exp-cluster" }, orderBy: { seq: "asc" } });
    const col = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
    body.forEach((cells, i) => {
      const row = stored[i];
      if (row === undefined) throw new Error("missing row");
      // no cell may start like a formula: text cells are quoted and defused
      for (const cell of cells) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
      const value = (name: (typeof CSV_COLUMNS)[number]) => unguardFormula(cells[col(name)] ?? "");
      expect(Number(cells[col("seq")])).toBe(row.seq);
      expect(value("at")).toBe(row.at.toISOString());
      expect(value("actorName")).toBe(row.actorName);
      expect(value("userAgent")).toBe(row.userAgent);
      expect(value("before")).toBe(row.before);
      expect(value("after")).toBe(row.after);
      expect(value("hash")).toBe(row.hash);
      // the exported fields are enough to recompute the chain
      expect(
        eventHash({
          ...row,
          at: new Date(value("at")),
          actorName: value("actorName"),
          userAgent: value("userAgent"),
          before: value("before") || null,
          after: value("after") || null,
          prevHash: value("prevHash"),
          hashVersion: Number(value("hashVersion")),
        }),
      ).toBe(value("hash"));
    });
  });

  it("exports JSON Lines, one event per line, oldest first, across pages", async () => {
    const res = await get({ format: "jsonl", clusterId: "other-cluster", action: "gateway." });
    expect(res.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    const text = await res.text();
    expect(text.endsWith("\n")).toBe(true);
    const lines = text.trimEnd().split("\n");
    expect(lines).toHaveLength(1200);
    const events = lines.map((l) => JSON.parse(l) as { seq: number; after: { revision: number }; hash: string });
    expect(events.map((e) => e.after.revision)).toEqual(Array.from({ length: 1200 }, (_, i) => i));
    const seqs = events.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  });

  it("applies time range and search to the export", async () => {
    const from = new Date(T0 + 3_600_000 + 100_000).toISOString();
    const to = new Date(T0 + 3_600_000 + 199_000).toISOString();
    const res = await get({ format: "jsonl", from, to, targetId: "gw-1" });
    const lines = (await res.text()).trimEnd().split("\n").filter(Boolean);
    expect(lines.length).toBe(Array.from({ length: 100 }, (_, i) => i + 100).filter((i) => i % 3 === 1).length);
    // the export's own audit event holds the search words too: it is no rule.update
    const searched = await get({ format: "jsonl", q: "calc", action: "rule." });
    const found = (await searched.text()).trimEnd().split("\n").filter(Boolean);
    expect(found).toHaveLength(1);
    expect(JSON.parse(found[0] ?? "{}").before.comment).toBe(HOSTILE[1]);
  });

  it("refuses callers without a session and bad requests, and records who exported", async () => {
    expect((await get({ format: "csv" }, null)).status).toBe(401);
    const badFormat = await get({ format: "xlsx" });
    expect(badFormat.status).toBe(400);
    expect(await badFormat.json()).toEqual({ error: expect.stringMatching(/format must be one of csv, jsonl/) });
    expect((await get({ format: "csv", from: "last tuesday" })).status).toBe(400);
    expect((await get({ format: "csv", q: "x".repeat(500) })).status).toBe(400);
    const before = await h.db.auditEvent.count({ where: { action: "audit.export" } });
    await (await get({ format: "csv", actor: "nobody" })).text();
    const ev = await h.db.auditEvent.findFirstOrThrow({ where: { action: "audit.export" }, orderBy: { seq: "desc" } });
    expect(await h.db.auditEvent.count({ where: { action: "audit.export" } })).toBe(before + 1);
    expect(ev.actorName).toBe("viewer");
    expect(JSON.parse(ev.after ?? "{}")).toMatchObject({ format: "csv", filter: { actor: "nobody" } });
  });
});
