import { randomBytes } from "node:crypto";
import type { CommandResult, CommandRunner, RunOptions } from "../../agent/apply/runner";
import { host, ipBatch, type LabProcess, must, Namespaces } from "../lab/namespaces";

export type { LabProcess };

/**
 * A cluster lab in network namespaces: N gateways side by side on a LAN switch and on two ISP
 * segments, LAN clients, two ISP routers and an internet server. Nothing touches the host's
 * interfaces: every veth pair is created inside a lab namespace with its peer moved straight into
 * another. Addresses come only from 100.64.0.0/10 and the documentation ranges.
 *
 *   client j  100.64.1.j ─┐                 ┌─ ispa 100.65.1.(10+k) ── br0 100.65.1.2  ISP A ─ 100.66.1.0/24 ─┐
 *                         lan switch ── gw k┤                                                                    server 203.0.113.10
 *   (default via gw)     ─┘  100.64.0.k/16  └─ ispb 100.65.2.(10+k) ── br0 100.65.2.2  ISP B ─ 100.66.2.0/24 ─┘
 *
 * Every gateway uses the same interface names and next hops, so one cluster spec fits them all.
 * The gateways share the pools (198.51.100.0/25 behind A, 198.51.100.128/25 behind B), so each
 * ISP router remembers which gateway a connection came from (by the gateway's MAC, in the
 * connection's mark) and routes the replies back to that gateway: N gateways can be active at once.
 *
 * Each ISP can be cut the two ways a real uplink dies: the link (the router's ports go down, so
 * the gateways see the carrier drop) or silently (the router drops every IP packet while the
 * link stays up, as when the ISP fails upstream), or made lossy.
 */

export interface ClusterLabOptions {
  gateways?: number;
  clients?: number;
  prefix?: string;
}

export type IspName = "a" | "b";
/** link: the router's ports go down; blackhole: it drops every IP packet; upstream: it stops forwarding (its own address still answers) */
export type CutMode = "link" | "blackhole" | "upstream";

export interface LabGateway {
  index: number;
  ns: string;
  /** the gateway's addresses on the ISP segments and the LAN */
  ispa: string;
  ispb: string;
  lan: string;
}

export interface LabClient {
  ns: string;
  address: string;
  /** the gateway it sends through */
  gateway: number;
}

export interface ClusterLab {
  runId: string;
  ns: { server: string; ispA: string; ispB: string; lan: string; gateways: string[]; clients: string[] };
  gateways: LabGateway[];
  clients: LabClient[];
  isps: Record<IspName, { interface: string; nextHop: string; poolRange: string; routerNs: string }>;
  server: string;
  pools: Record<IspName, string[]>;
  exec(ns: string, args: readonly string[], opts?: RunOptions): Promise<CommandResult>;
  /** runs commands inside a namespace, e.g. for the agent's own apply code */
  runner(ns: string): CommandRunner;
  must(ns: string, args: readonly string[], opts?: RunOptions): Promise<string>;
  /** starts a long-running process inside a namespace (or on the host with ns null); destroy() kills it */
  spawn(ns: string | null, args: readonly string[], env?: Record<string, string>): LabProcess;
  cut(isp: IspName, mode: CutMode): Promise<void>;
  heal(isp: IspName, mode: CutMode): Promise<void>;
  /** drops this share of the ISP's IP packets at random (0 heals) */
  loss(isp: IspName, percent: number): Promise<void>;
  /**
   * Replaces each ISP router's pool routes with these static routes (gateway: its lab index): what
   * an operator configures upstream from the Pools page when every gateway owns a slice.
   */
  routeSlices(routes: ReadonlyArray<SliceRoute>): Promise<void>;
  destroy(): Promise<void>;
}

export interface SliceRoute {
  isp: IspName;
  gateway: number;
  cidrs: readonly string[];
}

/**
 * The lab's pools: 4 addresses behind A and 2 behind B for one gateway, two per gateway behind
 * each ISP for more, so every gateway of an active/active lab owns some of both.
 */
export function labPools(gateways: number): Record<IspName, string[]> {
  const run = (first: number, n: number) => Array.from({ length: n }, (_, i) => `198.51.100.${first + i}`);
  return { a: run(10, Math.max(4, 2 * gateways)), b: run(130, Math.max(2, 2 * gateways)) };
}

export async function buildClusterLab(options: ClusterLabOptions = {}): Promise<ClusterLab> {
  const gatewayCount = options.gateways ?? 1;
  const clientCount = options.clients ?? 1;
  if (gatewayCount < 1 || gatewayCount > 40) throw new Error("a cluster lab has 1 to 40 gateways");
  if (clientCount < 0 || clientCount > 40) throw new Error("a cluster lab has 0 to 40 clients");
  const runId = randomBytes(3).toString("hex");
  const p = `${options.prefix ?? "ghf"}-${runId}`;
  const ns = {
    server: `${p}-srv`,
    ispA: `${p}-ispa`,
    ispB: `${p}-ispb`,
    lan: `${p}-lan`,
    gateways: Array.from({ length: gatewayCount }, (_, i) => `${p}-gw${i + 1}`),
    clients: Array.from({ length: clientCount }, (_, i) => `${p}-c${i + 1}`),
  };
  const gateways: LabGateway[] = ns.gateways.map((name, i) => ({
    index: i + 1,
    ns: name,
    ispa: `100.65.1.${11 + i}`,
    ispb: `100.65.2.${11 + i}`,
    lan: `100.64.0.${1 + i}`,
  }));
  const clients: LabClient[] = ns.clients.map((name, j) => ({
    ns: name,
    address: `100.64.1.${1 + j}`,
    gateway: (j % gatewayCount) + 1,
  }));
  const isps: ClusterLab["isps"] = {
    a: { interface: "ispa", nextHop: "100.65.1.2", poolRange: "198.51.100.0/25", routerNs: ns.ispA },
    b: { interface: "ispb", nextHop: "100.65.2.2", poolRange: "198.51.100.128/25", routerNs: ns.ispB },
  };
  const server = "203.0.113.10";
  const pools = labPools(gatewayCount);
  const spaces = new Namespaces();
  const runner = (name: string) => spaces.runner(name);
  const destroy = () => spaces.destroy(3000);

  try {
    for (const name of [ns.server, ns.ispA, ns.ispB, ns.lan, ...ns.gateways, ...ns.clients]) {
      await spaces.add(name);
    }
    await ipBatch(ns.lan, ["link set lo up", "link add br0 type bridge", "link set br0 up"]);
    for (const [isp, router, n] of [
      ["a", ns.ispA, 1],
      ["b", ns.ispB, 2],
    ] as const) {
      await ipBatch(router, [
        "link set lo up",
        "link add br0 type bridge",
        `addr add ${isps[isp].nextHop}/24 dev br0`,
        "link set br0 up",
        `link add name srv0 type veth peer name isp${isp} netns ${ns.server}`,
        `addr add 100.66.${n}.1/24 dev srv0`,
        "link set srv0 up",
      ]);
    }
    for (const g of gateways) {
      await ipBatch(g.ns, [
        "link set lo up",
        `link add name ispa type veth peer name g${g.index} netns ${ns.ispA}`,
        `link add name ispb type veth peer name g${g.index} netns ${ns.ispB}`,
        `link add name lan type veth peer name g${g.index} netns ${ns.lan}`,
        `addr add ${g.ispa}/24 dev ispa`,
        `addr add ${g.ispb}/24 dev ispb`,
        `addr add ${g.lan}/16 dev lan`,
        "link set ispa up",
        "link set ispb up",
        "link set lan up",
        `route add default via ${isps.a.nextHop} dev ispa`,
      ]);
      for (const router of [ns.ispA, ns.ispB, ns.lan]) {
        await ipBatch(router, [`link set g${g.index} master br0`, `link set g${g.index} up`]);
      }
      await must(host, [
        "ip",
        "netns",
        "exec",
        g.ns,
        "sysctl",
        "-q",
        "-w",
        "net.ipv4.ip_forward=1",
        "net.ipv4.conf.all.rp_filter=1",
        "net.ipv4.conf.default.rp_filter=1",
        "net.ipv4.conf.ispa.rp_filter=1",
        "net.ipv4.conf.ispb.rp_filter=1",
      ]);
    }
    for (const c of clients) {
      const gw = gateways[c.gateway - 1] as LabGateway;
      await ipBatch(c.ns, [
        "link set lo up",
        `link add name eth0 type veth peer name c${c.address.split(".")[3]} netns ${ns.lan}`,
        `addr add ${c.address}/16 dev eth0`,
        "link set eth0 up",
        `route add default via ${gw.lan}`,
      ]);
      await ipBatch(ns.lan, [
        `link set c${c.address.split(".")[3]} master br0`,
        `link set c${c.address.split(".")[3]} up`,
      ]);
    }
    for (const [isp, router, n] of [
      ["a", ns.ispA, 1],
      ["b", ns.ispB, 2],
    ] as const) {
      const first = gateways[0] as LabGateway;
      await ipBatch(router, [
        `route add 203.0.113.0/24 via 100.66.${n}.2 dev srv0`,
        `route add ${isps[isp].poolRange} via ${isp === "a" ? first.ispa : first.ispb} dev br0`,
        `route add 100.64.0.0/16 via ${isp === "a" ? first.ispa : first.ispb} dev br0`,
      ]);
      await must(host, [
        "ip",
        "netns",
        "exec",
        router,
        "sysctl",
        "-q",
        "-w",
        "net.ipv4.ip_forward=1",
        "net.ipv4.conf.all.rp_filter=0",
        "net.ipv4.conf.default.rp_filter=0",
        "net.ipv4.conf.br0.rp_filter=0",
        "net.ipv4.conf.srv0.rp_filter=0",
      ]);
    }
    await ipBatch(ns.server, [
      "link set lo up",
      `addr add ${server}/32 dev lo`,
      "addr add 100.66.1.2/24 dev ispa",
      "link set ispa up",
      "addr add 100.66.2.2/24 dev ispb",
      "link set ispb up",
      `route add ${isps.a.poolRange} via 100.66.1.1 dev ispa`,
      `route add ${isps.b.poolRange} via 100.66.2.1 dev ispb`,
      "route add 100.64.0.0/16 via 100.66.1.1 dev ispa",
      // probes from the gateways' own addresses on each ISP's link come back the way they came
      "route add 100.65.1.0/24 via 100.66.1.1 dev ispa",
      "route add 100.65.2.0/24 via 100.66.2.1 dev ispb",
    ]);
    await must(host, [
      "ip",
      "netns",
      "exec",
      ns.server,
      "sysctl",
      "-q",
      "-w",
      "net.ipv4.conf.all.rp_filter=0",
      "net.ipv4.conf.default.rp_filter=0",
      "net.ipv4.conf.ispa.rp_filter=0",
      "net.ipv4.conf.ispb.rp_filter=0",
    ]);
  } catch (e) {
    await destroy();
    throw e;
  }

  const routerOf = (isp: IspName) => isps[isp].routerNs;
  const setCut = async (isp: IspName, verdict: string | null, hook = "prerouting") => {
    const r = runner(routerOf(isp));
    // add-then-delete: "delete table" fails when the table is not there
    await must(r, ["nft", "-f", "-"], { input: "add table inet lab_cut\ndelete table inet lab_cut\n" });
    if (verdict === null) return;
    await must(r, ["nft", "-f", "-"], {
      input: [
        "table inet lab_cut {",
        "  chain drop_all {",
        `    type filter hook ${hook} priority -300; policy accept;`,
        `    ${verdict}`,
        "  }",
        "}",
        "",
      ].join("\n"),
    });
  };
  const ports = (isp: IspName, state: "up" | "down") =>
    ipBatch(
      routerOf(isp),
      gateways.map((g) => `link set g${g.index} ${state}`),
    );

  return {
    runId,
    ns,
    gateways,
    clients,
    isps,
    server,
    pools,
    exec: (name, args, opts) => runner(name).run(args, opts),
    runner,
    must: (name, args, opts) => must(runner(name), args, opts),
    spawn: (name, args, env) => spaces.spawn(name, args, env),
    async cut(isp, mode) {
      if (mode === "link") await ports(isp, "down");
      else if (mode === "upstream") await setCut(isp, "meta nfproto ipv4 drop", "forward");
      else await setCut(isp, "meta nfproto ipv4 drop");
    },
    async heal(isp, mode) {
      if (mode === "link") await ports(isp, "up");
      else await setCut(isp, null);
    },
    async loss(isp, percent) {
      const pct = Math.max(0, Math.min(100, Math.round(percent)));
      await setCut(isp, pct === 0 ? null : `meta nfproto ipv4 numgen random mod 100 < ${pct} drop`);
    },
    async routeSlices(routes) {
      for (const isp of ["a", "b"] as const) {
        // every earlier pool route goes: the whole range and any slices routed before
        const lines = [`route flush root ${isps[isp].poolRange}`];
        for (const r of routes.filter((x) => x.isp === isp)) {
          const gw = gateways[r.gateway - 1];
          if (gw === undefined) throw new Error(`the lab has no gateway ${r.gateway}`);
          for (const cidr of r.cidrs)
            lines.push(`route replace ${cidr} via ${isp === "a" ? gw.ispa : gw.ispb} dev br0`);
        }
        await ipBatch(routerOf(isp), lines);
      }
    },
    destroy,
  };
}
