import { TRPCError } from "@trpc/server";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../testkit/server/databases";
import type { Role } from "../services/auth/roles";
import { LOGIN_LIMITS } from "../services/auth/throttle";
import { type ApiHarness, apiHarness, TEST_PASSWORD, tableCounts } from "../../testkit/server/api";
import { createContext } from "./context";
import { appRouter, createCaller } from "./root";

type Need = "public" | Role;

/**
 * Who may call what. Every procedure must be listed: a new procedure without an entry fails the
 * matrix test, so nobody adds an endpoint without deciding who may use it.
 */
function requiredRole(path: string, type: string): Need {
  if (path === "auth.login" || path === "auth.me") return "public";
  if (path.startsWith("auth.")) return "viewer";
  if (path.startsWith("user.")) return "admin";
  if (path.startsWith("token.")) return "admin";
  // alert channels hold secrets and send messages: admins edit and test them, everyone sees them
  if (path.startsWith("alert.")) return type === "query" ? "viewer" : "admin";
  if (path === "cluster.delete") return "admin";
  if (path.startsWith("audit.retention.") && type === "mutation") return "admin";
  // read-only, but sent as a mutation because the selection can be large
  if (path === "rule.bulkPreview") return "viewer";
  // draining a gateway and editing its drafted settings are an operator's work, like failovers
  if (path === "gateway.drain" || path === "gateway.updateSettings") return "operator";
  if (path.startsWith("gateway.")) return type === "query" ? "viewer" : "admin";
  // diagnostics run read-only commands on a gateway: operators; SSH access details: operators
  if (path === "gatewaySsh.diagnostics" || path === "gatewaySsh.access") return "operator";
  if (path.startsWith("gatewaySsh.")) return type === "query" ? "viewer" : "admin";
  // an import preview changes nothing, but parsing pasted configuration is an editor's tool
  if (path === "import.preview" || path === "import.add") return "operator";
  if (path === "document.plan" || path === "document.write") return "operator";
  if (path === "export.policy") return "viewer";
  // live views only read
  if (type === "subscription") return "viewer";
  return type === "query" ? "viewer" : "operator";
}

const PROCEDURES = Object.entries(
  appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>,
).map(([path, proc]) => ({ path, type: proc._def.type }));

const RANK: Record<Need, number> = { public: -1, viewer: 0, operator: 1, admin: 2 };

function call(caller: unknown, path: string, input: unknown): Promise<unknown> {
  let target = caller as Record<string, unknown>;
  for (const part of path.split(".")) target = target[part] as Record<string, unknown>;
  return (target as unknown as (i: unknown) => Promise<unknown>)(input);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (e) {
    if (e instanceof TRPCError) return e.code;
    throw e;
  }
}

describe.each(PROVIDERS)("access control and hostile input on %s", (provider) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness(provider);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("lists every procedure of the API in the matrix", () => {
    expect(PROCEDURES.length).toBeGreaterThan(30);
  });

  it("checks each role against each procedure", async () => {
    const rows: string[] = [];
    for (const { path, type } of PROCEDURES) {
      const need = requiredRole(path, type);
      for (const role of [null, "viewer", "operator", "admin"] as const) {
        if (path === "auth.logout") continue; // would end the shared test session; covered below
        const code = await codeOf(call(h.as(role), path, {}));
        const allowed = need === "public" || (role !== null && RANK[role] >= RANK[need]);
        const denied = code === "UNAUTHORIZED" || code === "FORBIDDEN";
        // an allowed call may still fail on its (empty) input, but never on access grounds
        if (allowed === denied && !(path === "auth.login" && code === "BAD_REQUEST")) {
          rows.push(`${path} as ${role ?? "anonymous"}: got ${code}, expected ${allowed ? "access" : "denial"}`);
        }
        if (!allowed) expect(code, `${path} as ${role}`).toBe(role === null ? "UNAUTHORIZED" : "FORBIDDEN");
      }
    }
    expect(rows).toEqual([]);
  });

  it("refuses cookie-authenticated mutations without the CSRF token or from another origin", async () => {
    const noToken = await codeOf(h.as("admin", { csrf: null }).cluster.create({ name: "csrf-a" }));
    const wrongToken = await codeOf(h.as("admin", { csrf: "guess" }).cluster.create({ name: "csrf-b" }));
    const crossSite = await codeOf(h.as("admin", { sameOrigin: false }).cluster.create({ name: "csrf-c" }));
    expect([noToken, wrongToken, crossSite]).toEqual(["FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]);
    // queries need no token
    expect(await codeOf(h.as("viewer", { csrf: null }).cluster.list())).toBe("OK");
    expect(await h.db.cluster.count({ where: { name: { startsWith: "csrf-" } } })).toBe(0);
  });

  it("signs in, rate-limits repeated failures, and audits both", async () => {
    const anon = h.as(null);
    const ok = await anon.auth.login({ username: "viewer", password: TEST_PASSWORD });
    expect(ok.user.role).toBe("viewer");
    expect(await h.db.session.count({ where: { userId: h.users.viewer.id } })).toBe(1);

    const codes: string[] = [];
    for (let i = 0; i < LOGIN_LIMITS.pair.points + 1; i++) {
      codes.push(await codeOf(anon.auth.login({ username: "operator", password: "wrong password" })));
    }
    expect(codes.slice(0, LOGIN_LIMITS.pair.points)).toEqual(Array(LOGIN_LIMITS.pair.points).fill("UNAUTHORIZED"));
    expect(codes.at(-1)).toBe("TOO_MANY_REQUESTS");
    // even the right password is refused while locked
    expect(await codeOf(anon.auth.login({ username: "operator", password: TEST_PASSWORD }))).toBe("TOO_MANY_REQUESTS");
    expect(await h.db.auditEvent.count({ where: { action: "auth.login_failed", actorName: "operator" } })).toBe(
      LOGIN_LIMITS.pair.points,
    );
    expect(await h.db.auditEvent.count({ where: { action: "auth.login", actorName: "viewer" } })).toBe(1);
    // a cross-site sign-in form is refused
    expect(
      await codeOf(h.as(null, { sameOrigin: false }).auth.login({ username: "viewer", password: TEST_PASSWORD })),
    ).toBe("FORBIDDEN");
  });

  it("refuses NUL characters anywhere in the input before any store sees them", async () => {
    const before = await tableCounts(h.db);
    expect(await codeOf(h.as("operator").cluster.create({ name: "nul", description: "a\u0000b" }))).toBe("BAD_REQUEST");
    expect(await codeOf(h.as(null).auth.login({ username: "adm\u0000in", password: "x" }))).toBe("BAD_REQUEST");
    expect(await tableCounts(h.db)).toEqual(before);
  });

  it("answers generated junk to every procedure with a client error, never a 500, and writes nothing", async () => {
    const admin = h.as("admin");
    const cluster = await admin.cluster.create({ name: "junk-target" });
    const isp = await admin.isp.create({
      clusterId: cluster.id,
      fields: { name: "a", interface: "eth1", nextHop: "198.51.100.1" },
    });
    const junk = fc.oneof(
      fc.anything(),
      fc.record({ name: fc.string().map((x) => `${x}\u0000`), description: fc.string() }),
      fc.record({ clusterId: fc.constant(cluster.id), fields: fc.anything() }),
      fc.record({
        clusterId: fc.constant(cluster.id),
        id: fc.constant(isp.entity.id),
        version: fc.integer(),
        fields: fc.anything(),
      }),
      fc.record({
        clusterId: fc.constant(cluster.id),
        fields: fc.record({
          name: fc.string(),
          interface: fc.oneof(fc.string(), fc.constant("eth0; rm -rf /"), fc.constant("a".repeat(16))),
          nextHop: fc.oneof(fc.ipV4(), fc.string()),
          addresses: fc.array(fc.oneof(fc.ipV4(), fc.string())),
          networks: fc.array(fc.string()),
          ispId: fc.string(),
        }),
      }),
    );
    const mutations = PROCEDURES.filter((p) => p.type === "mutation" && !p.path.startsWith("auth."));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PROCEDURES), junk, async ({ path, type }, input) => {
        const before = type === "mutation" ? await tableCounts(h.db) : null;
        const code = await codeOf(call(admin, path, input));
        expect(code, `${path} with ${JSON.stringify(input)?.slice(0, 200)}`).not.toBe("INTERNAL_SERVER_ERROR");
        if (before && code !== "OK") expect(await tableCounts(h.db)).toEqual(before);
      }),
      { numRuns: provider === "sqlite" ? 400 : 150 },
    );
    expect(mutations.length).toBeGreaterThan(15);
  });

  it("reads the session cookie, and logout ends that session and clears the cookies", async () => {
    const res = new Headers();
    const ctx0 = await createContext({ req: new Request("http://console.test/api/trpc"), resHeaders: res }, h.db);
    const out = await createCaller(ctx0).auth.login({ username: "admin", password: TEST_PASSWORD });
    const setCookies = res.getSetCookie();
    const session = setCookies.find((c) => c.startsWith("gh_session="));
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Lax/);
    const token = decodeURIComponent(session?.split(";")[0]?.split("=")[1] ?? "");
    const req = new Request("http://console.test/api/trpc", {
      headers: {
        cookie: `gh_session=${encodeURIComponent(token)}`,
        "x-csrf-token": out.csrfToken,
        origin: "http://console.test",
        host: "console.test",
      },
    });
    const resHeaders = new Headers();
    const ctx = await createContext({ req, resHeaders }, h.db);
    expect(ctx.session?.username).toBe("admin");
    const before = await h.db.session.count({ where: { userId: h.users.admin.id } });
    await createCaller(ctx).auth.logout();
    expect(await h.db.session.count({ where: { userId: h.users.admin.id } })).toBe(before - 1);
    expect(resHeaders.getSetCookie().some((c) => c.startsWith("gh_session=;") && c.includes("Max-Age=0"))).toBe(true);
    const after = await createContext({ req, resHeaders: new Headers() }, h.db);
    expect(after.session).toBeNull();
  });
});
