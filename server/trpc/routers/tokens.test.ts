import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../testkit/server/databases";
import { type ApiHarness, apiHarness } from "../../../testkit/server/api";
import { createContext } from "../context";
import { appRouter } from "../root";

/** Calls /api/trpc as a script would: plain JSON over HTTP with only the bearer token. */
async function call(h: ApiHarness, token: string, path: string, input: unknown, kind: "query" | "mutation") {
  const body = JSON.stringify({ json: input });
  const url =
    kind === "query"
      ? `http://console.test/api/trpc/${path}?input=${encodeURIComponent(body)}`
      : `http://console.test/api/trpc/${path}`;
  const req = new Request(url, {
    method: kind === "query" ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", origin: "http://evil.test" },
    ...(kind === "mutation" ? { body } : {}),
  });
  const res = await fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: (opts) => createContext(opts, h.db),
  });
  return { status: res.status, body: (await res.json()) as { result?: { data: { json: unknown } }; error?: unknown } };
}

describe.each(PROVIDERS)("API tokens on %s", (provider) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness(provider);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("an admin creates a token, shown once; scripts use it without CSRF; every use is audited by name", async () => {
    const admin = h.as("admin");
    const t = await admin.token.create({ name: "ci-deploy", role: "operator", expiresInDays: 30 });
    expect(t.token).toMatch(/^ghp_/);
    const list = await admin.token.list();
    expect(list[0]).toMatchObject({ name: "ci-deploy", role: "operator", state: "active", lastUsedAt: null });
    expect(JSON.stringify(list)).not.toContain(t.token);
    expect(await h.db.apiToken.count({ where: { tokenHash: t.token } })).toBe(0);

    // a mutation from another origin, with no cookie and no CSRF header: the bearer token is enough
    const created = await call(h, t.token, "cluster.create", { name: "by-token" }, "mutation");
    expect(created.status).toBe(200);
    const event = await h.db.auditEvent.findFirst({ where: { action: "cluster.create" }, orderBy: { seq: "desc" } });
    expect(event?.actorName).toBe("token:ci-deploy");
    const listed = await call(h, t.token, "cluster.list", {}, "query");
    expect(listed.status).toBe(200);
    expect(await h.db.auditEvent.count({ where: { action: "token.use", actorName: "token:ci-deploy" } })).toBe(2);
    expect((await admin.token.list())[0]?.lastUsedAt).not.toBeNull();
    // the token's role holds: an operator token cannot manage users
    expect((await call(h, t.token, "user.list", {}, "query")).status).toBe(403);
  });

  it("refuses revoked, expired and wrong tokens", async () => {
    const admin = h.as("admin");
    const revoked = await admin.token.create({ name: "old-script", role: "admin", expiresInDays: 1 });
    await admin.token.revoke({ id: revoked.id });
    const expired = await admin.token.create({ name: "expired-script", role: "admin", expiresInDays: 1 });
    await h.db.apiToken.update({ where: { id: expired.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    for (const token of [revoked.token, expired.token, "ghp_wrong", "not-even-a-token"]) {
      const r = await call(h, token, "cluster.list", {}, "query");
      expect(r.status, token).toBe(401);
      const m = await call(h, token, "cluster.create", { name: `x-${token.slice(-4)}` }, "mutation");
      expect(m.status).toBe(401);
    }
    expect(await h.db.cluster.count({ where: { name: { startsWith: "x-" } } })).toBe(0);
    const states = Object.fromEntries((await admin.token.list()).map((x) => [x.name, x.state]));
    expect(states).toMatchObject({ "old-script": "revoked", "expired-script": "expired" });
  });

  it("only admins manage tokens", async () => {
    await expect(h.as("operator").token.create({ name: "nope", role: "admin", expiresInDays: 1 })).rejects.toThrow(
      /admin role/,
    );
  });
});
