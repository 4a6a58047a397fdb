import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES, parseSpecKey, zEnrollRequest, zStatusReport } from "../../core/protocol/agent-api";
import { createGateway } from "../services/gateways/gateways";
import { handleDesired, handleEnroll, handleStatus } from "./agent-api";
import { type GatewayTestDb, gatewayTestDb, makeCluster, makeUser, META } from "../../testkit/server/gateways";

/**
 * Whatever an agent (or anyone who reaches the endpoint) sends, the console answers 4xx with a
 * message, never 500, and a refused request changes nothing.
 */

let t: GatewayTestDb;
let agentToken: string;
let enrollToken: string;
let pendingId: string;

beforeAll(async () => {
  t = await gatewayTestDb();
  const admin = await makeUser(t.db, "root", "admin");
  const { clusterId } = await makeCluster(t.db, admin);
  const gw = await createGateway(t.db, admin, META, { clusterId, name: "gw-1", address: "" });
  const res = await handleEnroll(
    t.db,
    new Request("http://c/api/agent/v1/enroll", {
      method: "POST",
      headers: { authorization: `Bearer ${gw.enrollToken}`, "content-type": "application/json" },
      body: JSON.stringify({ agentVersion: "1.0.0" }),
    }),
  );
  agentToken = ((await res.json()) as { agentToken: string }).agentToken;
  const pending = await createGateway(t.db, admin, META, { clusterId, name: "gw-2", address: "" });
  enrollToken = pending.enrollToken;
  pendingId = pending.id;
});
afterAll(async () => {
  await t?.close();
});

async function snapshot() {
  const [gateways, events] = await Promise.all([
    t.db.gateway.findMany({ orderBy: { id: "asc" } }),
    t.db.auditEvent.count(),
  ]);
  return JSON.stringify({ gateways, events });
}

const post = (path: string, token: string, body: BodyInit, type = "application/json") =>
  new Request(`http://c/api/agent/v1/${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": type },
    body,
  });

const VALID_REPORT = {
  agentVersion: "1.0.0",
  running: { revision: 1, failoverEpoch: 0 },
  lastApply: {
    revision: 1,
    failoverEpoch: 0,
    ok: true,
    error: "",
    at: "2030-01-01T00:00:00Z",
    durationsMs: { totalMs: 3 },
  },
  facts: { hostname: "h", kernel: "k", nftVersion: "n", interfaces: [{ name: "eth0", addresses: ["100.64.0.1/24"] }] },
  health: { "isp-a": { state: "up" } },
};

/** A valid report with one field, at any depth, replaced by junk. */
const nearlyValidReport = fc
  .tuple(
    fc.constantFrom(
      ["agentVersion"],
      ["running"],
      ["running", "revision"],
      ["lastApply"],
      ["lastApply", "at"],
      ["lastApply", "ok"],
      ["lastApply", "durationsMs"],
      ["lastApply", "error"],
      ["facts"],
      ["facts", "interfaces"],
      ["health"],
    ),
    fc.oneof(
      fc.anything(),
      fc.string({ maxLength: 5000 }),
      fc.integer(),
      fc.double(),
      fc.constant(null),
      fc.array(fc.anything(), { maxLength: 2000 }),
    ),
  )
  .map(([path, junk]) => {
    const report = structuredClone(VALID_REPORT) as Record<string, unknown>;
    let at: Record<string, unknown> = report;
    for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
    at[path.at(-1) as string] = junk;
    return report;
  });

describe("POST status with hostile bodies", () => {
  it("answers 400 to anything the schema refuses, 200 to what it accepts, and writes nothing when it refuses", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.anything(), nearlyValidReport), async (value) => {
        const text = JSON.stringify(value) ?? "null";
        const before = await snapshot();
        const res = await handleStatus(t.db, post("status", agentToken, text));
        const valid = zStatusReport.safeParse(JSON.parse(text)).success;
        if (valid) {
          expect(res.status).toBe(200);
          return;
        }
        expect(res.status).toBe(400);
        const body = (await res.json()) as { error: string };
        expect(body.error).toMatch(/^Invalid request: /);
        expect(await snapshot()).toBe(before);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses text that is not JSON, is not UTF-8, is too big or has another content type", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string().filter((s) => {
            try {
              JSON.parse(s);
              return false;
            } catch {
              return true;
            }
          }),
          fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from([0xff, 0xfe, ...b])),
        ),
        async (body) => {
          const before = await snapshot();
          const res = await handleStatus(t.db, post("status", agentToken, body));
          expect(res.status).toBe(400);
          expect(await snapshot()).toBe(before);
        },
      ),
      { numRuns: 100 },
    );
    const before = await snapshot();
    const huge = JSON.stringify({ ...VALID_REPORT, facts: { hostname: "x".repeat(MAX_BODY_BYTES) } });
    expect((await handleStatus(t.db, post("status", agentToken, huge))).status).toBe(413);
    expect(
      (await handleStatus(t.db, post("status", agentToken, JSON.stringify(VALID_REPORT), "text/plain"))).status,
    ).toBe(415);
    expect(await snapshot()).toBe(before);
  });

  it("answers 401, never 500, to any authorization header that is not a valid token", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string().map((s) => `Bearer ${s}`),
          fc.constant(`Bearer ${enrollToken}`),
        ),
        async (header) => {
          let req: Request;
          try {
            req = new Request("http://c/api/agent/v1/status", {
              method: "POST",
              headers: { authorization: header, "content-type": "application/json" },
              body: JSON.stringify(VALID_REPORT),
            });
          } catch {
            return; // not a legal header value: no HTTP client could send it
          }
          const before = await snapshot();
          expect((await handleStatus(t.db, req)).status).toBe(401);
          expect(await snapshot()).toBe(before);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("POST enroll with hostile bodies", () => {
  it("answers 400 and leaves the enrollment token unused", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.anything(),
          fc.record({ agentVersion: fc.oneof(fc.string(), fc.anything()), facts: fc.anything() }, { requiredKeys: [] }),
        ),
        async (value) => {
          const text = JSON.stringify(value) ?? "null";
          if (zEnrollRequest.safeParse(JSON.parse(text)).success) return;
          const before = await snapshot();
          const res = await handleEnroll(t.db, post("enroll", enrollToken, text));
          expect(res.status).toBe(400);
          expect(await snapshot()).toBe(before);
        },
      ),
      { numRuns: 200 },
    );
    const row = await t.db.gateway.findUniqueOrThrow({ where: { id: pendingId } });
    expect(row.tokenHash).toBeNull();
    expect(row.enrollTokenHash).not.toBeNull();
  });
});

describe("GET desired with hostile parameters", () => {
  it("answers 400 to a have parameter that is not <revision>.<epoch>, and never 500", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 60 }), async (have) => {
        const res = await handleDesired(
          t.db,
          new Request(`http://c/api/agent/v1/desired?have=${encodeURIComponent(have)}`, {
            headers: { authorization: `Bearer ${agentToken}` },
          }),
          { longPollMs: 0 },
        );
        // the cluster never published: a well-formed poll finds nothing to hand over
        const wellFormed = have.length <= 40 && parseSpecKey(have) !== undefined;
        expect(res.status).toBe(wellFormed ? 204 : 400);
      }),
      { numRuns: 200 },
    );
  });
});

describe("NUL characters from an agent", () => {
  it("are refused with 400 before anything is stored", async () => {
    const before = await snapshot();
    const report = {
      ...VALID_REPORT,
      lastApply: { ...VALID_REPORT.lastApply, ok: false, error: "nft: bad\u0000thing" },
    };
    const res = await handleStatus(t.db, post("status", agentToken, JSON.stringify(report)));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; issues: { path: unknown[] }[] };
    expect(body.error).toMatch(/NUL/);
    expect(body.error).toMatch(/^lastApply\.error: /);
    expect(body.issues[0]?.path).toEqual(["lastApply", "error"]);
    expect(await snapshot()).toBe(before);
  });
});

describe("text that is not well-formed Unicode from an agent", () => {
  // JSON.stringify writes a lone surrogate as the escape \ud800: valid UTF-8 on the wire, no character once parsed
  it("is refused with 400 naming the field, before anything is stored", async () => {
    const before = await snapshot();
    const report = { ...VALID_REPORT, lastApply: { ...VALID_REPORT.lastApply, ok: false, error: "nft: \ud800" } };
    const res = await handleStatus(t.db, post("status", agentToken, JSON.stringify(report)));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string };
    expect(body.error).toMatch(/^lastApply\.error: .*well-formed Unicode/);
    expect(await snapshot()).toBe(before);
  });

  it("is refused at enrollment too, and in field names", async () => {
    const before = await snapshot();
    const res = await handleEnroll(t.db, post("enroll", enrollToken, '{"agentVersion":"1.0.0","\\udc00x":1}'));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/^\(field name\): .*well-formed Unicode/);
    expect(await snapshot()).toBe(before);
  });

  it("keeps well-formed surrogate pairs (characters beyond the BMP)", async () => {
    const report = { ...VALID_REPORT, lastApply: { ...VALID_REPORT.lastApply, ok: false, error: "nft: \u{1F525}" } };
    const res = await handleStatus(t.db, post("status", agentToken, JSON.stringify(report)));
    expect(res.status).toBe(200);
  });
});
