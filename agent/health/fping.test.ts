import { describe, expect, it } from "vitest";
import { fpingArgs, LineSplitter, parseFpingLine, probeTimeoutMs } from "./fping";
import { RoundAggregator } from "../../core/health/rounds";

const MONITOR = { intervalMs: 100, latencyThresholdMs: 50 };

describe("fping command line", () => {
  it("probes in loop mode bound to the ISP's interface and address, with the latency threshold as timeout", () => {
    expect(
      fpingArgs({ interface: "ispa", source: "100.65.1.1", targets: ["100.65.1.2", "203.0.113.1"], monitor: MONITOR }),
    ).toEqual([
      "fping",
      "-4",
      "-l",
      "-p",
      "100",
      "-t",
      "50",
      "-I",
      "ispa",
      "-S",
      "100.65.1.1",
      "-A",
      "100.65.1.2",
      "203.0.113.1",
    ]);
    expect(
      fpingArgs({ interface: "eth0.100", source: null, targets: ["198.51.100.1"], monitor: MONITOR }),
    ).not.toContain("-S");
  });

  it("refuses anything that is not an interface name or an IPv4 address", () => {
    const base = { source: null, targets: ["198.51.100.1"], monitor: MONITOR };
    for (const iface of ["", "-rf", "eth0;reboot", "a".repeat(16), "..", "eth 0"]) {
      expect(() => fpingArgs({ ...base, interface: iface }), iface).toThrow(/not an interface name/);
    }
    for (const target of ["-l", "example.com", "1.2.3.256", "198.51.100.1 -x", ""]) {
      expect(() => fpingArgs({ ...base, interface: "eth0", targets: [target] }), target).toThrow(/not an IPv4/);
    }
    expect(() => fpingArgs({ ...base, interface: "eth0", targets: [] })).toThrow(/no probe targets/);
  });

  it("bounds the timeout", () => {
    expect(probeTimeoutMs({ latencyThresholdMs: 1 })).toBe(10);
    expect(probeTimeoutMs({ latencyThresholdMs: 1000 })).toBe(1000);
    expect(probeTimeoutMs({ latencyThresholdMs: 60_000 })).toBe(10_000);
  });
});

describe("fping output", () => {
  it("reads answers and timeouts, and ignores everything else", () => {
    expect(parseFpingLine("100.65.9.2 : [12], 64 bytes, 0.041 ms (0.053 avg, 0% loss)")).toEqual({
      target: "100.65.9.2",
      seq: 12,
      rttMs: 0.041,
    });
    expect(parseFpingLine("100.65.9.3 : [7], timed out (NaN avg, 100% loss)")).toEqual({
      target: "100.65.9.3",
      seq: 7,
      rttMs: null,
    });
    for (const junk of [
      "",
      "ICMP Host Unreachable from 100.65.9.1 for ICMP Echo sent to 100.65.9.3",
      "100.65.9.2 : xmt/rcv/%loss = 10/10/0%, min/avg/max = 0.02/0.03/0.04",
      "evil.example : [1], 64 bytes, 1.0 ms (1.0 avg, 0% loss)",
    ]) {
      expect(parseFpingLine(junk), junk).toBeNull();
    }
  });

  it("splits a stream into lines across chunk boundaries", () => {
    const s = new LineSplitter();
    expect(s.push("100.65.9.2 : [0], 64 by")).toEqual([]);
    expect(s.push("tes, 0.1 ms (0.1 avg, 0% loss)\n100.65")).toEqual([
      "100.65.9.2 : [0], 64 bytes, 0.1 ms (0.1 avg, 0% loss)",
    ]);
    expect(s.push(".9.2 : [1], timed out\n")).toEqual(["100.65.9.2 : [1], timed out"]);
  });
});

describe("probe rounds", () => {
  it("answers a round at the first reply and loses it only when every target timed out", () => {
    const agg = new RoundAggregator(["100.65.1.2", "203.0.113.1"]);
    expect(agg.add({ target: "203.0.113.1", seq: 0, rttMs: null })).toBeNull();
    expect(agg.add({ target: "100.65.1.2", seq: 0, rttMs: 0.5 })).toEqual({ seq: 0, ok: true, rttMs: 0.5 });
    expect(agg.add({ target: "100.65.1.2", seq: 1, rttMs: 0.4 })).toEqual({ seq: 1, ok: true, rttMs: 0.4 });
    // the second answer of a round decides nothing more
    expect(agg.add({ target: "203.0.113.1", seq: 1, rttMs: 9 })).toBeNull();
    expect(agg.add({ target: "100.65.1.2", seq: 2, rttMs: null })).toBeNull();
    expect(agg.add({ target: "203.0.113.1", seq: 2, rttMs: null })).toEqual({ seq: 2, ok: false, rttMs: null });
    expect({ sent: agg.probesSent, lost: agg.probesLost }).toEqual({ sent: 6, lost: 3 });
  });

  it("ignores targets it was not given, repeated lines and rounds long gone", () => {
    const agg = new RoundAggregator(["100.65.1.2"]);
    expect(agg.add({ target: "100.65.1.9", seq: 0, rttMs: 1 })).toBeNull();
    expect(agg.add({ target: "100.65.1.2", seq: 0, rttMs: 1 })).not.toBeNull();
    expect(agg.add({ target: "100.65.1.2", seq: 0, rttMs: 1 })).toBeNull();
    expect(agg.add({ target: "100.65.1.2", seq: 500, rttMs: null })).toEqual({ seq: 500, ok: false, rttMs: null });
    expect(agg.add({ target: "100.65.1.2", seq: 3, rttMs: 1 })).toBeNull();
  });
});
