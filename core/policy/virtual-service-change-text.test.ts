import { describe, expect, it } from "vitest";
import { zHealthCheck } from "./virtual-service";
import { virtualServiceValueText } from "./virtual-service-change-text";

describe("virtual service values in words", () => {
  it("says what empty and zero values mean", () => {
    expect(virtualServiceValueText("port", null)).toBe("every port");
    expect(virtualServiceValueText("persistenceSeconds", 0)).toBe("off");
    expect(virtualServiceValueText("persistenceSeconds", 300)).toBe("300 s");
    expect(virtualServiceValueText("sorryServer", null)).toBe("none");
    expect(virtualServiceValueText("sorryServer", { address: "100.64.10.9", port: 8080 })).toBe("100.64.10.9:8080");
    expect(virtualServiceValueText("comment", "")).toBe("(none)");
    expect(virtualServiceValueText("fullNat", true)).toBe("yes");
    expect(virtualServiceValueText("scheduler", "mh")).toBe("mh (consistent hash (Maglev))");
  });

  it("lists real servers with the service's port when they have none, and describes the check", () => {
    const servers = [
      { address: "100.64.10.2", port: null, weight: 1, mode: "dr", state: "enabled" },
      { address: "100.64.10.3", port: null, weight: 3, mode: "dr", state: "draining" },
    ];
    expect(virtualServiceValueText("realServers", servers, 443)).toBe(
      "100.64.10.2:443 weight 1 DR, 100.64.10.3:443 weight 3 DR draining",
    );
    const check = zHealthCheck.parse({ kind: "http", path: "/healthz", bodyText: "ok" });
    expect(virtualServiceValueText("healthCheck", check)).toBe(
      'HTTP GET /healthz expecting 200 containing "ok", every 2000 ms, timeout 1000 ms, up after 2 good, down after 3 failed',
    );
  });
});
