import { describe, expect, it } from "vitest";
import { renderRoutes } from "../../core/render/routes";
import { gatewaySpec, isp, officeSpec, pool } from "../../testkit/spec-fixtures";
import { FakeRunner } from "../../testkit/fakes/runner";
import { reconcileRouting } from "./routes";

interface Rule {
  priority: number;
  src?: string;
  fwmark?: string;
  fwmask?: string;
  oif?: string;
  table: string;
}
interface Route {
  dst: string;
  gateway?: string;
  dev: string;
  table: string;
}

interface Addr {
  dev: string;
  local: string;
  prefixlen: number;
  metric?: number;
}

/** Just enough of ip and sysctl, keeping state, to check the reconciler against. */
function fakeHost(initial: {
  rules?: Rule[];
  routes?: Route[];
  addrs?: Addr[];
  sysctl?: Record<string, string>;
  failDev?: string;
  /** interfaces that do not exist: their sysctls cannot be read */
  missing?: string[];
}) {
  const addrs: Addr[] = [...(initial.addrs ?? [])];
  const rules: Rule[] = [{ priority: 0, table: "local" }, ...(initial.rules ?? []), { priority: 32766, table: "main" }];
  const routes: Route[] = [...(initial.routes ?? [])];
  const sysctl: Record<string, string> = { ...initial.sysctl };
  const fake = new FakeRunner();
  const arg = (args: readonly string[], key: string) => args[args.indexOf(key) + 1] as string;
  fake.on(["sysctl", "-n"], (args) => {
    const key = args[2] as string;
    if ((initial.missing ?? []).some((dev) => key.startsWith(`net.ipv4.conf.${dev}.`))) {
      const path = `/proc/sys/${key.replaceAll(".", "/")}`;
      return { code: 255, stderr: `sysctl: cannot stat ${path}: No such file or directory\n` };
    }
    return { stdout: `${sysctl[key] ?? "1"}\n` };
  });
  fake.on(["sysctl", "-q", "-w"], (args) => {
    const [k, v] = (args[3] as string).split("=");
    sysctl[k as string] = v as string;
    return {};
  });
  fake.on(["ip", "-4", "-j", "rule", "show"], () => ({
    stdout: JSON.stringify(rules.map((r) => ({ src: "all", ...r }))),
  }));
  fake.on(["ip", "-4", "rule", "add"], (args) => {
    const rule: Rule = { priority: Number(arg(args, "priority")), table: arg(args, "lookup") };
    if (args.includes("fwmark")) [rule.fwmark, rule.fwmask] = arg(args, "fwmark").split("/");
    if (args.includes("oif")) rule.oif = arg(args, "oif");
    rules.push(rule);
    rules.sort((a, b) => a.priority - b.priority);
    return {};
  });
  fake.on(["ip", "-4", "rule", "del"], (args) => {
    const i = rules.findIndex((r) => r.priority === Number(arg(args, "priority")) && r.table === arg(args, "lookup"));
    if (i < 0) return { code: 2, stderr: "RTNETLINK answers: No such file or directory" };
    rules.splice(i, 1);
    return {};
  });
  fake.on(["ip", "-4", "-j", "route", "show", "table"], (args) => {
    const t = args[6] as string;
    const list = t === "all" ? routes : routes.filter((r) => r.table === t).map(({ table: _t, ...r }) => r);
    if (t !== "all" && list.length === 0)
      return { code: 2, stdout: "[", stderr: "Error: ipv4: FIB table does not exist.\nDump terminated" };
    return { stdout: JSON.stringify(list) };
  });
  fake.on(["ip", "-4", "route", "replace"], (args) => {
    if (arg(args, "dev") === initial.failDev) return { code: 2, stderr: "Error: Nexthop has invalid gateway." };
    const table = arg(args, "table");
    const i = routes.findIndex((r) => r.table === table && r.dst === "default");
    const route = { dst: "default", gateway: arg(args, "via"), dev: arg(args, "dev"), table };
    if (i >= 0) routes[i] = route;
    else routes.push(route);
    return {};
  });
  fake.on(["ip", "-4", "route", "del"], (args) => {
    const i = routes.findIndex((r) => r.dst === args[4] && r.table === arg(args, "table"));
    if (i >= 0) routes.splice(i, 1);
    return {};
  });
  fake.on(["ip", "-4", "-j", "addr", "show"], () => {
    const devs = [...new Set(addrs.map((a) => a.dev))];
    return {
      stdout: JSON.stringify(
        devs.map((d) => ({
          ifname: d,
          addr_info: addrs
            .filter((a) => a.dev === d)
            .map(({ dev: _d, ...a }) => ({ family: "inet", ...a, label: d, scope: "global" })),
        })),
      ),
    };
  });
  fake.on(["ip", "-4", "addr", "add"], (args) => {
    const [local, len] = (args[4] as string).split("/");
    const a: Addr = { dev: arg(args, "dev"), local: local as string, prefixlen: Number(len) };
    if (args.includes("metric")) a.metric = Number(arg(args, "metric"));
    if (addrs.some((x) => x.dev === a.dev && x.local === a.local)) return { code: 2, stderr: "Error: File exists" };
    addrs.push(a);
    return {};
  });
  fake.on(["ip", "-4", "addr", "del"], (args) => {
    const i = addrs.findIndex((x) => `${x.local}/${x.prefixlen}` === args[4] && x.dev === arg(args, "dev"));
    if (i < 0) return { code: 2, stderr: "Error: ipv4: Address not found." };
    addrs.splice(i, 1);
    return {};
  });
  return { fake, rules, routes, sysctl, addrs };
}

const desired = renderRoutes(officeSpec());

describe("reconcileRouting", () => {
  it("creates everything on a bare host, then changes nothing on a second run", async () => {
    const host = fakeHost({});
    const first = await reconcileRouting(host.fake, desired);
    expect(first.errors).toEqual([]);
    expect(
      host.rules.filter((r) => r.priority > 100 && r.priority < 600).map((r) => [r.priority, r.fwmark, r.table]),
    ).toEqual([
      [101, "0x101", "7101"],
      [102, "0x102", "7102"],
      [105, "0x105", "7105"],
    ]);
    expect(host.routes).toContainEqual({ dst: "default", gateway: "100.65.3.2", dev: "ispc", table: "7105" });
    expect(host.sysctl["net.ipv4.conf.ispb.rp_filter"]).toBe("2");
    const second = await reconcileRouting(host.fake, desired);
    expect(second).toEqual({ changes: [], errors: [] });
  });

  it("adds before it deletes, and leaves rules and tables outside its ranges alone", async () => {
    const host = fakeHost({
      rules: [
        { priority: 100, fwmark: "0x1", table: "100" },
        { priority: 101, fwmark: "0x101", fwmask: "0x1ff", table: "7101" },
        // a rule of an earlier priority base: Gatehouse's by its table and shape
        { priority: 7105, fwmark: "0x105", fwmask: "0x1ff", table: "7105" },
        // the operator's own rule looking up a Gatehouse table by source: not Gatehouse's
        { priority: 50, src: "100.64.9.0", table: "7101" },
        { priority: 7109, fwmark: "0x109", fwmask: "0x1ff", table: "7109" },
        { priority: 7102, fwmark: "0x777", fwmask: "0x1ff", table: "7102" },
      ],
      routes: [
        { dst: "default", gateway: "100.65.9.9", dev: "ispz", table: "7109" },
        { dst: "default", gateway: "100.65.1.99", dev: "ispa", table: "7101" },
        { dst: "10.0.0.0/8", gateway: "100.65.1.2", dev: "ispa", table: "7101" },
        { dst: "default", gateway: "192.0.2.1", dev: "eth9", table: "100" },
      ],
    });
    const r = await reconcileRouting(host.fake, desired);
    expect(r.errors).toEqual([]);
    const firstDelete = r.changes.findIndex((c) => c.includes(" del "));
    const lastAdd = r.changes.findLastIndex((c) => c.includes(" add ") || c.includes(" replace "));
    expect(lastAdd).toBeLessThan(firstDelete);
    expect(r.changes).toContain("ip -4 rule del priority 7109 fwmark 0x109/0x1ff lookup 7109");
    expect(r.changes).toContain("ip -4 rule del priority 7102 fwmark 0x777/0x1ff lookup 7102");
    expect(r.changes).toContain("ip -4 rule del priority 7105 fwmark 0x105/0x1ff lookup 7105");
    expect(host.rules.some((x) => x.priority === 50)).toBe(true);
    expect(r.changes).toContain("ip -4 route replace default via 100.65.1.2 dev ispa table 7101");
    expect(host.rules.some((r) => r.priority === 100)).toBe(true);
    expect(host.routes).toContainEqual({ dst: "default", gateway: "192.0.2.1", dev: "eth9", table: "100" });
    expect(host.routes.filter((x) => x.table === "7101")).toEqual([
      { dst: "default", gateway: "100.65.1.2", dev: "ispa", table: "7101" },
    ]);
    expect(host.routes.some((x) => x.table === "7109")).toBe(false);
  });

  it("keeps going after an error and reports it", async () => {
    const host = fakeHost({ failDev: "ispa" });
    const r = await reconcileRouting(host.fake, desired);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(
      /ip -4 route replace default via 100.65.1.2 dev ispa table 7101: exit 2: Error: Nexthop/,
    );
    expect(host.routes.map((x) => x.table).sort()).toEqual(["7102", "7105"]);
  });

  it("leaves a PPPoE interface that is gone (session down) for later, but not a missing static one", async () => {
    const spec = gatewaySpec({
      isps: [
        { ...isp("p", 1, "ppp0", "100.65.5.1"), addressing: "pppoe", nextHopUnknown: true },
        isp("s", 2, "wan1", "100.65.2.2"),
      ],
      pools: [],
      entries: [],
    });
    const down = await reconcileRouting(fakeHost({ missing: ["ppp0"] }).fake, renderRoutes(spec));
    expect(down.errors).toEqual([]);
    const host = fakeHost({ missing: ["ppp0", "wan1"] });
    const r = await reconcileRouting(host.fake, renderRoutes(spec));
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/sysctl -n net.ipv4.conf.wan1.rp_filter: exit 255: .*No such file or directory/);
    // the session is up again: its interface gets its setting
    const up = fakeHost({});
    await reconcileRouting(up.fake, renderRoutes(spec));
    expect(up.sysctl["net.ipv4.conf.ppp0.rp_filter"]).toBe("2");
  });

  it("only adds in the add phase and only removes in the prune phase", async () => {
    const stale = { priority: 7109, fwmark: "0x109", fwmask: "0x1ff", table: "7109" };
    const host = fakeHost({ rules: [stale] });
    const added = await reconcileRouting(host.fake, desired, "add");
    expect(added.changes.some((c) => c.includes(" del "))).toBe(false);
    expect(host.rules).toContainEqual(stale);
    const pruned = await reconcileRouting(host.fake, desired, "prune");
    expect(pruned.changes).toEqual(["ip -4 rule del priority 7109 fwmark 0x109/0x1ff lookup 7109"]);
  });

  it("owns the probe rules too: adds those wanted, removes stale ones, keeps other oif rules", async () => {
    const spec = gatewaySpec({
      isps: [
        { ...isp("a", 1, "ispa", "100.65.1.2"), probeTargets: ["100.65.1.2"] },
        { ...isp("b", 2, "eth0.100", "100.65.2.2"), probeTargets: ["203.0.113.1"] },
      ],
      pools: [],
      entries: [],
    });
    const host = fakeHost({
      rules: [
        { priority: 351, oif: "ispa", table: "7101" },
        { priority: 353, oif: "ispc", table: "7103" },
        { priority: 9000, oif: "ispa", table: "200" },
      ],
    });
    const r = await reconcileRouting(host.fake, renderRoutes(spec));
    expect(r.errors).toEqual([]);
    expect(r.changes).toContain("ip -4 rule add priority 352 oif eth0.100 lookup 7102");
    expect(r.changes).toContain("ip -4 rule del priority 351 oif ispa lookup 7101");
    expect(r.changes).toContain("ip -4 rule del priority 353 oif ispc lookup 7103");
    expect(host.rules.some((x) => x.priority === 9000)).toBe(true);
    expect(await reconcileRouting(host.fake, renderRoutes(spec))).toEqual({ changes: [], errors: [] });
  });

  describe("on-link pool addresses", () => {
    const spec = (addresses: string[]) =>
      gatewaySpec({
        isps: [isp("a", 1, "ispa", "198.51.100.1"), isp("b", 2, "ispb", "203.0.113.1")],
        pools: [pool("pa", "a", addresses, null, "on-link"), pool("pb", "b", ["203.0.113.50"])],
        entries: [],
      });
    const operator: Addr[] = [
      { dev: "ispa", local: "198.51.100.2", prefixlen: 24 },
      // the operator's own /32 on the uplink: no metric, so never the agent's
      { dev: "ispa", local: "198.51.100.99", prefixlen: 32 },
      { dev: "lan0", local: "100.64.0.1", prefixlen: 16 },
    ];

    it("puts on-link addresses on the ISP's interface as marked /32s, routed pools nowhere, then changes nothing", async () => {
      const host = fakeHost({ addrs: [...operator] });
      const r = await reconcileRouting(host.fake, renderRoutes(spec(["198.51.100.10", "198.51.100.11"])));
      expect(r.errors).toEqual([]);
      expect(r.changes.filter((c) => c.includes(" addr "))).toEqual([
        "ip -4 addr add 198.51.100.10/32 dev ispa noprefixroute metric 7100",
        "ip -4 addr add 198.51.100.11/32 dev ispa noprefixroute metric 7100",
      ]);
      expect(host.addrs.some((a) => a.local === "203.0.113.50")).toBe(false);
      expect(await reconcileRouting(host.fake, renderRoutes(spec(["198.51.100.10", "198.51.100.11"])))).toEqual({
        changes: [],
        errors: [],
      });
    });

    it("removes its addresses when the pool shrinks or goes, and never the operator's", async () => {
      const host = fakeHost({ addrs: [...operator] });
      await reconcileRouting(host.fake, renderRoutes(spec(["198.51.100.10", "198.51.100.11", "198.51.100.99"])));
      // 198.51.100.99 was the operator's already: not added, not owned
      expect(host.addrs.filter((a) => a.local === "198.51.100.99")).toEqual([operator[1]]);
      const shrunk = await reconcileRouting(host.fake, renderRoutes(spec(["198.51.100.11"])));
      expect(shrunk.changes).toEqual(["ip -4 addr del 198.51.100.10/32 dev ispa"]);
      const empty = gatewaySpec({ isps: [], pools: [], entries: [] });
      const gone = await reconcileRouting(host.fake, renderRoutes(empty));
      expect(gone.changes).toContain("ip -4 addr del 198.51.100.11/32 dev ispa");
      expect(host.addrs).toEqual(operator);
    });

    it("adds an address on its new interface before it removes it from the old one", async () => {
      const host = fakeHost({
        addrs: [...operator, { dev: "ispb", local: "198.51.100.10", prefixlen: 32, metric: 7100 }],
      });
      const r = await reconcileRouting(host.fake, renderRoutes(spec(["198.51.100.10"])));
      expect(r.changes.filter((c) => c.includes(" addr "))).toEqual([
        "ip -4 addr add 198.51.100.10/32 dev ispa noprefixroute metric 7100",
        "ip -4 addr del 198.51.100.10/32 dev ispb",
      ]);
    });
  });
});
