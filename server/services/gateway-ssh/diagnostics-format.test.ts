import { describe, expect, it } from "vitest";
import { compactLog } from "./agent-service";
import { agentIpRules, conntrackReport, parseAddressCounts } from "./diagnostics-format";

describe("diagnostic output", () => {
  it("keeps only the agent's ip rules", () => {
    const rules = [
      "0:\tfrom all lookup local",
      "7101:\tfrom all fwmark 0x101/0x1ff lookup 7101",
      "7250:\tfrom all fwmark 0x1fa/0x1ff lookup 7250",
      "7351:\tfrom all lookup 7351",
      "100:\tfrom all lookup 7102",
      "32766:\tfrom all lookup main",
    ].join("\n");
    expect(agentIpRules(rules).split("\n")).toEqual([
      "7101:\tfrom all fwmark 0x101/0x1ff lookup 7101",
      "7250:\tfrom all fwmark 0x1fa/0x1ff lookup 7250",
      "100:\tfrom all lookup 7102",
    ]);
  });

  it("counts SNATed connections per pool address, listing small pools whole", () => {
    const counts = parseAddressCounts("198.51.100.11 2\n198.51.100.12 1\n203.0.113.9 4\ngarbage line\n");
    const report = conntrackReport(
      [
        { name: "pool-a", addresses: ["198.51.100.10-198.51.100.12"] },
        { name: "big", addresses: ["10.0.0.0/16"] },
      ],
      counts,
    );
    expect(report.split("\n")).toEqual([
      "pool-a (3 addresses): 3 SNATed connections",
      "  198.51.100.10   0",
      "  198.51.100.11   2",
      "  198.51.100.12   1",
      "big (65536 addresses): 0 SNATed connections",
      "  65536 more addresses without connections",
      "SNAT addresses in no published pool:",
      "  203.0.113.9     4",
    ]);
    expect(conntrackReport([], new Map())).toBe("No pools published and no SNATed connections.");
  });

  it("reads the agent's JSON log lines as short text", () => {
    const log = [
      '{"level":30,"time":"2026-11-23T18:21:42.601Z","service":"gatehouse-agent","version":"1.2","msg":"agent starting"}',
      'Nov 23 18:21:43 gw1 node[12]: {"level":40,"time":"2026-11-23T18:21:43.000Z","msg":"cannot reach","err":"ECONNREFUSED","nested":{"a":1}}',
      "plain text line",
      "",
    ].join("\n");
    expect(compactLog(log).split("\n")).toEqual([
      "18:21:42 info agent starting (version=1.2)",
      "18:21:43 warn cannot reach (err=ECONNREFUSED)",
      "plain text line",
    ]);
  });
});
