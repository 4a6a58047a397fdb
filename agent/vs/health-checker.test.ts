import { afterEach, describe, expect, it } from "vitest";
import { servicesSpec, virtualService } from "../../testkit/spec-fixtures";
import type { GatewaySpec } from "../../core/spec/schema";
import { VirtualServiceHealthChecker } from "./health-checker";

const check = {
  kind: "tcp" as const,
  intervalMs: 60_000,
  timeoutMs: 100,
  rise: 2,
  fall: 2,
  path: "/",
  expectStatus: 200,
  bodyText: "",
};

async function setup() {
  const failing = new Set<string>();
  const updates: Array<{ serviceId: string; down: string[]; drop: boolean }> = [];
  const checker = new VirtualServiceHealthChecker({
    runCheck: async (_c, address) => (failing.has(address) ? "ECONNREFUSED" : null),
    update: async (_s, serviceId, down, drop) => {
      updates.push({ serviceId, down: [...down], drop });
      return null;
    },
    now: () => new Date("2026-01-01T00:00:00Z"),
  });
  const spec: GatewaySpec = {
    ...servicesSpec(),
    virtualServices: [
      virtualService("web", "198.51.100.80", 80, [{ address: "100.64.10.2" }, { address: "100.64.10.3" }], {
        healthCheck: check,
      }),
      virtualService("plain", "198.51.100.81", 80, [{ address: "100.64.10.4" }]),
    ],
  };
  await checker.setSpec(spec);
  const web = spec.virtualServices[0];
  if (web === undefined) throw new Error("no service");
  return { checker, failing, updates, spec, web };
}

let stop: (() => void) | undefined;
afterEach(() => stop?.());

describe("virtual service health checker", () => {
  it("takes a server out after fall failures and puts it back after rise successes, one update each", async () => {
    const { checker, failing, updates, web } = await setup();
    stop = () => checker.stop();
    failing.add("100.64.10.3");
    await checker.round(web);
    expect(updates).toEqual([]);
    await checker.round(web);
    expect(updates).toEqual([{ serviceId: "web", down: ["web|100.64.10.3|80"], drop: true }]);
    expect(checker.down()).toEqual(new Set(["web|100.64.10.3|80"]));
    failing.clear();
    await checker.round(web);
    await checker.round(web);
    expect(updates[1]).toEqual({ serviceId: "web", down: [], drop: false });
    expect(checker.status()).toEqual([
      {
        serviceId: "web",
        realServers: [
          { address: "100.64.10.2", port: 80, health: "up", since: null, lastError: "" },
          { address: "100.64.10.3", port: 80, health: "up", since: "2026-01-01T00:00:00.000Z", lastError: "" },
        ],
      },
      {
        serviceId: "plain",
        realServers: [{ address: "100.64.10.4", port: 80, health: "unchecked", since: null, lastError: "" }],
      },
    ]);
  });

  it("keeps a down server down across a new spec with the same check, and forgets servers that left", async () => {
    const { checker, failing, spec, web } = await setup();
    stop = () => checker.stop();
    failing.add("100.64.10.3");
    await checker.round(web);
    await checker.round(web);
    await checker.setSpec({ ...spec, revision: spec.revision + 1 });
    expect(checker.down()).toEqual(new Set(["web|100.64.10.3|80"]));
    failing.clear();
    await checker.setSpec({ ...spec, virtualServices: [{ ...web, realServers: [web.realServers[0] as never] }] });
    expect(checker.down()).toEqual(new Set());
  });
});
