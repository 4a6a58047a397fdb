import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Policy } from "../policy/model";
import { emptyPolicy, type ImportOptions, type ImportResult, importPolicy } from "./index";

const SAMPLES = join(__dirname, "__samples__");
const sample = (name: string) => readFileSync(join(SAMPLES, name), "utf8");
const run = (text: string, opts: ImportOptions = {}, existing: Policy = emptyPolicy()): ImportResult =>
  importPolicy(text, existing, opts);
const line = (r: ImportResult, n: number, file = "") => r.lines.find((l) => l.line === n && l.file === file);
const vsAt = (r: ImportResult, address: string, port: number | null, protocol = "tcp") =>
  r.changes.virtualServices.find((v) => v.address === address && v.port === port && v.protocol === protocol);

function expectEveryLine(r: ImportResult, text: string, file = "") {
  const count = text.replace(/\r\n?/g, "\n").replace(/\n$/, "").split("\n").length;
  expect(r.lines.filter((l) => l.file === file)).toHaveLength(count);
  for (const l of r.lines) expect(l.message, `${l.file}:${l.line}`).not.toMatch(/not understood|not supported yet/);
}

describe("ipvsadm virtual services", () => {
  const text = sample("vs.ipvsadm");
  const r = run(text);

  it("gives every line a result and the resulting policy no problems", () => {
    expectEveryLine(r, text);
    expect(r.problems).toEqual([]);
    expect(r.changes.virtualServices.map((v) => v.name)).toEqual([
      "tcp-192.0.2.80-80",
      "tcp-192.0.2.80-443",
      "udp-192.0.2.53-53",
      "tcp-192.0.2.25-all",
      "tcp-192.0.2.81-80",
      "tcp-192.0.2.83-80",
    ]);
  });

  it("reads -A/-a into services with NAT real servers, ports, weights and weight 0 as draining", () => {
    const web = vsAt(r, "192.0.2.80", 80);
    expect(web).toMatchObject({ scheduler: "wrr", persistenceSeconds: 0, healthCheck: { kind: "none" } });
    expect(web?.realServers).toEqual([
      { address: "10.9.0.1", port: 8080, weight: 3, mode: "nat", state: "enabled" },
      { address: "10.9.0.2", port: 8080, weight: 1, mode: "nat", state: "enabled" },
      { address: "10.9.0.3", port: 8080, weight: 1, mode: "nat", state: "draining" },
    ]);
    expect(line(r, 2)?.status).toBe("imported");
    expect(line(r, 3)?.status).toBe("merged");
    expect(line(r, 5)?.message).toMatch(/weight 0 read as draining/);
  });

  it("reads direct routing, persistence, UDP, mh and the same port as no port", () => {
    const tls = vsAt(r, "192.0.2.80", 443);
    expect(tls).toMatchObject({ scheduler: "sh", persistenceSeconds: 600 });
    expect(tls?.realServers.map((s) => [s.mode, s.port])).toEqual([
      ["dr", null],
      ["dr", null],
    ]);
    const dns = vsAt(r, "192.0.2.53", 53, "udp");
    expect(dns?.scheduler).toBe("mh");
    expect(dns?.realServers.map((s) => [s.address, s.port, s.weight])).toEqual([
      ["10.9.1.1", null, 1],
      ["10.9.1.2", 5353, 2],
    ]);
    expect(line(r, 11)?.changed).toEqual(["non-breaking or special spaces replaced by spaces"]);
  });

  it("reads port 0 with -p as every port, with ipvsadm's default timeout said", () => {
    const all = vsAt(r, "192.0.2.25", null);
    expect(all).toMatchObject({ persistenceSeconds: 300, scheduler: "rr" });
    expect(all?.realServers[0]?.port).toBeNull();
    expect(line(r, 13)?.message).toMatch(/-p without a timeout: ipvsadm's 300 seconds/);
  });

  it("reads wlc as wrr and says so; refuses schedulers without an equivalent", () => {
    expect(vsAt(r, "192.0.2.81", 80)?.scheduler).toBe("wrr");
    expect(line(r, 15)?.message).toMatch(/wlc .* read as wrr/);
    expect(line(r, 15)?.changed).toEqual(["dash characters replaced by '-'"]);
    expect(line(r, 17)?.message).toMatch(/scheduler "lblcr" has no equivalent/);
    expect(line(r, 18)?.message).toMatch(/its service \(line 17\) is not imported/);
  });

  it("refuses tunnelling per real server, fwmark services, orphans and names", () => {
    expect(line(r, 20)).toMatchObject({ status: "not-imported" });
    expect(line(r, 20)?.message).toMatch(/IP-in-IP tunnelling \(-i\) is not supported/);
    expect(vsAt(r, "192.0.2.83", 80)?.realServers.map((s) => s.address)).toEqual(["10.9.4.2"]);
    expect(line(r, 22)?.message).toMatch(/fwmark services \(-f 7\)/);
    expect(line(r, 23)?.message).toMatch(/real server of fwmark service 7/);
    expect(line(r, 24)?.status).toBe("ignored");
    expect(line(r, 25)?.message).toMatch(/no -A line adds its service/);
    expect(line(r, 26)?.message).toMatch(/save with ipvsadm -Sn/);
  });

  it("refuses a service the draft already has, and names new ones apart from the draft's", () => {
    const again = run(text, {}, r.policy);
    expect(again.changes.virtualServices).toEqual([]);
    expect(line(again, 2)?.message).toMatch(/existing virtual service "tcp-192.0.2.80-80" already answers/);
    expect(line(again, 3)?.message).toMatch(/its service \(line 2\) is not imported/);
  });

  it("refuses a service its real servers' modes or the policy would make invalid", () => {
    const mixed = run(
      "-A -t 192.0.2.9:80 -s rr\n-a -t 192.0.2.9:80 -r 10.0.0.1:80 -m\n-a -t 192.0.2.9:80 -r 10.0.0.2 -g\n",
    );
    expect(mixed.changes.virtualServices).toEqual([]);
    expect(line(mixed, 1)?.message).toMatch(/must all use the same mode/);
    expect(mixed.problems).toEqual([]);
  });
});
