import { describe, expect, it } from "vitest";
import { servicesSpec, virtualService } from "../../testkit/spec-fixtures";
import { simulateInbound } from "./simulate-inbound";

const spec = servicesSpec();
const tcp = (dst: string, dstPort: number) => ({ src: "192.0.2.10", dst, dstPort, protocol: "tcp" as const });

describe("simulateInbound", () => {
  it("names the hashed server, the DNAT target and persistence", () => {
    const r = simulateInbound(spec, tcp("198.51.100.80", 82));
    expect(r.outcome).toBe("real-server");
    expect(r.service?.name).toBe("web-sh");
    expect(r.dnat).toBe(`${r.realServer?.address}:8080`);
    expect(r.summary).toMatch(
      /^Virtual service "web-sh" picks 100\.64\.10\.[23]:8080 for client 192\.0\.2\.10 \(source hash: entry \d+ of the service's 3-entry table\), destination rewritten to 100\.64\.10\.[23]:8080\.$/,
    );
    expect(r.notes[0]).toMatch(/^Persistence: .* 300 s/);
  });

  it("lists the candidates when the scheduler picks per connection, and says FULLNAT rewrites the client", () => {
    const r = simulateInbound(spec, tcp("198.51.100.82", 3306));
    expect(r).toMatchObject({ outcome: "real-server", realServer: null, dnat: null });
    expect(r.candidates).toEqual(["100.64.10.7:3306", "100.64.10.8:3306"]);
    expect(r.summary).toBe(
      'Virtual service "all" (every port) picks one of 100.64.10.7:3306, 100.64.10.8:3306 per connection (random).',
    );
    expect(r.snat).toMatch(/gateway's own address/);
  });

  it("says when no service takes the connection, and when only the sorry server or nothing can", () => {
    expect(simulateInbound(spec, tcp("198.51.100.80", 8080)).summary).toBe(
      "No virtual service takes 198.51.100.80:8080/tcp: the connection is not load balanced.",
    );
    const draining = [{ address: "100.64.10.7", state: "draining" as const }];
    const sorry = {
      ...spec,
      virtualServices: [
        virtualService("s", "198.51.100.90", 80, draining, { sorryServer: { address: "100.64.10.9", port: null } }),
      ],
    };
    expect(simulateInbound(sorry, tcp("198.51.100.90", 80))).toMatchObject({
      outcome: "sorry",
      dnat: "100.64.10.9:80",
    });
    const none = { ...spec, virtualServices: [virtualService("n", "198.51.100.90", 80, draining)] };
    expect(simulateInbound(none, tcp("198.51.100.90", 80)).outcome).toBe("drop");
  });
});
