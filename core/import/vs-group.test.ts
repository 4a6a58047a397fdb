import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exportKeepalived } from "../export/scripts";
import { emptyPolicy, importPolicy, type ImportResult } from "./index";

/**
 * keepalived virtual_server_group: `virtual_server group NAME` becomes one virtual service per
 * address of the group, each with the body's scheduler, check and real servers; fwmark entries
 * and services cannot be expressed and say so on their lines.
 */

const file = "vs-group.keepalived.conf";
const text = readFileSync(join(__dirname, "__samples__", file), "utf8");
const r = importPolicy(text, emptyPolicy(), { fileName: file });
const at = (res: ImportResult, n: number) => res.lines.find((l) => l.line === n && l.file === file);

describe("keepalived virtual_server_group", () => {
  it("makes one virtual service per address, with the body's real servers and check", () => {
    expect(r.problems).toEqual([]);
    const vs = r.changes.virtualServices;
    expect(vs.map((v) => `${v.address}:${v.port}`)).toEqual([
      "192.0.2.80:80",
      "192.0.2.81:80",
      "192.0.2.90:80",
      "192.0.2.91:80",
      "192.0.2.92:80",
    ]);
    for (const v of vs) {
      expect(v).toMatchObject({ protocol: "tcp", scheduler: "rr", healthCheck: { kind: "tcp", intervalMs: 5000 } });
      expect(v.realServers.map((s) => [s.address, s.port, s.weight])).toEqual([
        ["10.9.0.1", 8080, 2],
        ["10.9.0.2", 8080, 1],
      ]);
    }
  });

  it("says on every line what it became or why not", () => {
    expect(at(r, 15)?.message).toMatch(
      /^imported as 5 virtual service\(s\), one per address of virtual_server_group WEB .*each of these keeps its own$/,
    );
    expect(at(r, 3)?.message).toMatch(/^imported as virtual service "tcp-192.0.2.80-80"/);
    expect(at(r, 4)?.message).toMatch(/^imported as virtual service "tcp-192.0.2.81-80"/);
    expect(at(r, 5)?.message).toBe(
      'imported as virtual services "tcp-192.0.2.90-80", "tcp-192.0.2.91-80", "tcp-192.0.2.92-80"',
    );
    expect(at(r, 5)?.changed).toEqual(["dash characters replaced by '-'"]);
    expect(at(r, 6)?.message).toBe(
      "not imported because fwmark entries of a group (fwmark 7) are not read: write that service as virtual_server fwmark 7 { ... }",
    );
    expect(at(r, 7)?.message).toBe(
      "not imported because the group's other entries use port 80 (line 3): the body's real servers are read for one port",
    );
    expect(at(r, 8)?.message).toBe('not imported because "web.example.net 80" is not an address (or range) and a port');
    expect(at(r, 2)?.status).toBe("merged");
    expect(at(r, 11)?.message).toBe("not imported because no virtual_server uses virtual_server_group UNUSED");
    expect(at(r, 20)?.message).toBe("real server 10.9.0.1:8080 (NAT) of the virtual services of group WEB");
    expect(at(r, 31)?.message).toBe("not imported because there is no virtual_server_group NOSUCH");
    expect(at(r, 37)?.message).toMatch(/fwmark 5 \(0x5\) uses bits Gatehouse writes itself/);
    expect(r.lines.filter((l) => l.message === "not imported because it was not understood")).toEqual([]);
  });

  it("refuses on its own line an address the draft already serves, and imports the rest", () => {
    const again = importPolicy(text.replace("192.0.2.81   80", "192.0.2.82   80"), r.policy, { fileName: file });
    expect(again.changes.virtualServices.map((v) => v.address)).toEqual(["192.0.2.82"]);
    expect(at(again, 3)?.message).toMatch(/already answers on 192.0.2.80 TCP port 80/);
  });

  it("round-trips as plain virtual_server blocks", () => {
    const out = exportKeepalived(r.policy);
    const back = importPolicy(out.text, emptyPolicy(), { fileName: "exported.conf" });
    const shape = (list: ImportResult["changes"]["virtualServices"]) =>
      list.map(({ id: _id, name: _name, comment: _comment, ...rest }) => rest);
    expect(shape(back.changes.virtualServices)).toEqual(shape(r.changes.virtualServices));
  });
});
