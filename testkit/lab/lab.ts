import { randomBytes } from "node:crypto";
import type { CommandResult, CommandRunner, RunOptions } from "../../agent/apply/runner";
import { host, ipBatch, type LabProcess, must, Namespaces, waitForLinks } from "./namespaces";

export type { LabProcess };

/**
 * A gateway lab in network namespaces: LAN clients, one gateway, two ISP routers and an internet
 * server, joined by veth pairs created directly inside the namespaces (nothing ever touches the
 * host's own interfaces). Addresses come only from 100.64.0.0/10 (LAN and transit) and the
 * documentation ranges 198.51.100.0/24 (pools) and 203.0.113.0/24 (server).
 *
 *   client k  eth0 100.64.k.2/24 ── lan{k} 100.64.k.1/24 ┐
 *                                                        gateway ── ispa 100.65.1.1 ── gw0 100.65.1.2  ISP A ── srv0 100.66.1.1 ── ispa 100.66.1.2 ┐
 *                                                                ── ispb 100.65.2.1 ── gw0 100.65.2.2  ISP B ── srv0 100.66.2.1 ── ispb 100.66.2.2 ┴ server
 *
 * The gateway's default route is ISP A. ISP A routes 198.51.100.0/25 back to the gateway and ISP
 * B 198.51.100.128/25; both also route the LAN (100.64.0.0/10) back, so un-NATed (excluded)
 * connections work end to end. The server answers on 203.0.113.{10,20,30}.
 *
 * With `exchange`, a third link joins the gateway and both ISP routers on one segment (a bridge
 * in its own namespace, as an exchange switch): the gateway's xch0 100.65.9.1/24, ISP A's x0
 * 100.65.9.2 and ISP B's x0 100.65.9.3. Both routers then route their pool range and the LAN back
 * through 100.65.9.1 on that segment: two ISPs behind one gateway interface.
 *
 * Every namespace name carries a run id, and destroy() deletes them by name.
 */

export interface LabOptions {
  /** number of LAN clients (1..50), default 3 */
  clients?: number;
  /** namespace name prefix, default "gh" */
  prefix?: string;
  /** strict rp_filter on the gateway (default true), so the agent's loose setting is what lets replies in */
  strictRpFilter?: boolean;
  /** one more link: the gateway and both ISP routers on one segment (see above) */
  exchange?: boolean;
}

/** The segment the gateway shares with both ISP routers (LabOptions.exchange). */
export interface LabExchange {
  ns: string;
  gatewayInterface: string;
  gatewayAddress: string;
  prefix: number;
  /** ISP A's and ISP B's addresses on the segment */
  routerA: string;
  routerB: string;
  /** the routers' interface on the segment */
  routerInterface: string;
}

export interface LabIsp {
  /** interface of the gateway towards this ISP */
  gatewayInterface: string;
  /** the gateway's own address on that link */
  gatewayAddress: string;
  /** the ISP router's address: the gateway's next hop */
  nextHop: string;
  /** the part of 198.51.100.0/24 this ISP routes to the gateway */
  poolRange: string;
  /** the ISP router's interface towards the gateway (where traffic from the gateway arrives) */
  routerInterface: string;
}

export interface LabClient {
  ns: string;
  address: string;
  gateway: string;
  /** the gateway's interface towards this client */
  gatewayInterface: string;
}

export interface Lab {
  runId: string;
  ns: { gateway: string; ispA: string; ispB: string; server: string; clients: string[] };
  clients: LabClient[];
  ispA: LabIsp;
  ispB: LabIsp;
  /** set when built with `exchange` */
  exchange: LabExchange | null;
  /** the server's addresses (203.0.113.10, .20, .30) */
  servers: string[];
  lan: string;
  /** runs a command inside a namespace */
  exec(ns: string, args: readonly string[], opts?: RunOptions): Promise<CommandResult>;
  /** like exec, but throws with the command's error text when it fails */
  must(ns: string, args: readonly string[], opts?: RunOptions): Promise<string>;
  runner(ns: string): CommandRunner;
  /** starts a long-running process in a namespace; destroy() kills it */
  spawn(ns: string, args: readonly string[]): LabProcess;
  /** runs `ip` commands (one per line, without the leading `ip`) in a namespace as one batch */
  ip(ns: string, lines: readonly string[]): Promise<void>;
  /** gives a client extra source addresses (on its loopback) and routes them at the gateway */
  addClientAddresses(client: number, addresses: readonly string[], route: string): Promise<void>;
  destroy(): Promise<void>;
}

async function sysctls(ns: string, settings: Record<string, string>): Promise<void> {
  const args = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  await must(host, ["ip", "netns", "exec", ns, "sysctl", "-q", "-w", ...args]);
}

export async function buildLab(options: LabOptions = {}): Promise<Lab> {
  const clientCount = options.clients ?? 3;
  if (clientCount < 1 || clientCount > 50) throw new Error("a lab has 1 to 50 clients");
  const runId = randomBytes(3).toString("hex");
  const p = `${options.prefix ?? "gh"}-${runId}`;
  const ns = {
    gateway: `${p}-gw`,
    ispA: `${p}-ispa`,
    ispB: `${p}-ispb`,
    server: `${p}-srv`,
    clients: Array.from({ length: clientCount }, (_, i) => `${p}-c${i + 1}`),
  };
  const spaces = new Namespaces();
  const runner = (name: string) => spaces.runner(name);
  const destroy = () => spaces.destroy();

  const clients: LabClient[] = ns.clients.map((name, i) => ({
    ns: name,
    address: `100.64.${i + 1}.2`,
    gateway: `100.64.${i + 1}.1`,
    gatewayInterface: `lan${i + 1}`,
  }));
  const ispA: LabIsp = {
    gatewayInterface: "ispa",
    gatewayAddress: "100.65.1.1",
    nextHop: "100.65.1.2",
    poolRange: "198.51.100.0/25",
    routerInterface: "gw0",
  };
  const ispB: LabIsp = {
    gatewayInterface: "ispb",
    gatewayAddress: "100.65.2.1",
    nextHop: "100.65.2.2",
    poolRange: "198.51.100.128/25",
    routerInterface: "gw0",
  };
  const servers = ["203.0.113.10", "203.0.113.20", "203.0.113.30"];
  const lan = "100.64.0.0/10";
  const exchange: LabExchange | null = options.exchange
    ? {
        ns: `${p}-xch`,
        gatewayInterface: "xch0",
        gatewayAddress: "100.65.9.1",
        prefix: 24,
        routerA: "100.65.9.2",
        routerB: "100.65.9.3",
        routerInterface: "x0",
      }
    : null;

  try {
    for (const name of [ns.gateway, ns.ispA, ns.ispB, ns.server, ...ns.clients]) {
      await spaces.add(name);
    }
    // the veth pairs are created inside the gateway / ISP namespaces and their peers moved
    // straight into the other namespace: no interface ever exists on the host
    const gw: string[] = ["link set lo up"];
    for (const c of clients) {
      gw.push(
        `link add ${c.gatewayInterface} type veth peer name eth0 netns ${c.ns}`,
        `addr add ${c.gateway}/24 dev ${c.gatewayInterface}`,
        `link set ${c.gatewayInterface} up`,
      );
    }
    for (const [isp, router] of [
      [ispA, ns.ispA],
      [ispB, ns.ispB],
    ] as const) {
      gw.push(
        `link add ${isp.gatewayInterface} type veth peer name ${isp.routerInterface} netns ${router}`,
        `addr add ${isp.gatewayAddress}/24 dev ${isp.gatewayInterface}`,
        `link set ${isp.gatewayInterface} up`,
      );
    }
    gw.push(`route add default via ${ispA.nextHop} dev ${ispA.gatewayInterface}`);
    await ipBatch(ns.gateway, gw);

    for (const [isp, router, srvIface, n] of [
      [ispA, ns.ispA, "ispa", 1],
      [ispB, ns.ispB, "ispb", 2],
    ] as const) {
      await ipBatch(router, [
        "link set lo up",
        `link add srv0 type veth peer name ${srvIface} netns ${ns.server}`,
        `addr add ${isp.nextHop}/24 dev ${isp.routerInterface}`,
        `link set ${isp.routerInterface} up`,
        `addr add 100.66.${n}.1/24 dev srv0`,
        "link set srv0 up",
        `route add 203.0.113.0/24 via 100.66.${n}.2 dev srv0`,
        `route add ${isp.poolRange} via ${isp.gatewayAddress} dev ${isp.routerInterface}`,
        `route add ${lan} via ${isp.gatewayAddress} dev ${isp.routerInterface}`,
      ]);
      await sysctls(router, {
        "net.ipv4.ip_forward": "1",
        "net.ipv4.conf.all.rp_filter": "0",
        "net.ipv4.conf.default.rp_filter": "0",
      });
    }
    await ipBatch(ns.server, [
      "link set lo up",
      ...servers.map((s) => `addr add ${s}/32 dev lo`),
      "addr add 100.66.1.2/24 dev ispa",
      "link set ispa up",
      "addr add 100.66.2.2/24 dev ispb",
      "link set ispb up",
      `route add ${ispA.poolRange} via 100.66.1.1 dev ispa`,
      `route add ${ispB.poolRange} via 100.66.2.1 dev ispb`,
      `route add ${lan} via 100.66.1.1 dev ispa`,
    ]);
    // replies may leave by another ISP than the request came in: no reverse-path filter here
    await sysctls(ns.server, {
      "net.ipv4.conf.all.rp_filter": "0",
      "net.ipv4.conf.default.rp_filter": "0",
      "net.ipv4.conf.ispa.rp_filter": "0",
      "net.ipv4.conf.ispb.rp_filter": "0",
    });
    for (const c of clients) {
      await ipBatch(c.ns, [
        "link set lo up",
        `addr add ${c.address}/24 dev eth0`,
        "link set eth0 up",
        `route add default via ${c.gateway}`,
      ]);
    }
    if (exchange !== null) {
      await spaces.add(exchange.ns);
      // no multicast snooping: its IGMP queries (from 0.0.0.0) would count as traffic at the routers
      await ipBatch(exchange.ns, ["link set lo up", "link add br0 type bridge mcast_snooping 0", "link set br0 up"]);
      // each port is created in its owner's namespace with its bridge end moved straight into the switch
      for (const [owner, iface, port, address] of [
        [ns.gateway, exchange.gatewayInterface, "p-gw", exchange.gatewayAddress],
        [ns.ispA, exchange.routerInterface, "p-a", exchange.routerA],
        [ns.ispB, exchange.routerInterface, "p-b", exchange.routerB],
      ] as const) {
        await ipBatch(owner, [
          `link add ${iface} type veth peer name ${port} netns ${exchange.ns}`,
          `addr add ${address}/${exchange.prefix} dev ${iface}`,
          `link set ${iface} up`,
        ]);
        // IPv4 only: no IPv6 neighbour discovery chatter for the routers' flow counters
        await sysctls(owner, { [`net.ipv6.conf.${iface}.disable_ipv6`]: "1" });
        await ipBatch(exchange.ns, [`link set ${port} master br0`, `link set ${port} up`]);
      }
      for (const [router, isp] of [
        [ns.ispA, ispA],
        [ns.ispB, ispB],
      ] as const) {
        await ipBatch(router, [
          `route replace ${isp.poolRange} via ${exchange.gatewayAddress} dev ${exchange.routerInterface}`,
          `route replace ${lan} via ${exchange.gatewayAddress} dev ${exchange.routerInterface}`,
        ]);
      }
    }
    const strict = options.strictRpFilter ?? true;
    await sysctls(ns.gateway, {
      "net.ipv4.ip_forward": "1",
      "net.ipv4.conf.all.rp_filter": strict ? "1" : "0",
      "net.ipv4.conf.default.rp_filter": strict ? "1" : "0",
      [`net.ipv4.conf.${ispA.gatewayInterface}.rp_filter`]: strict ? "1" : "0",
      [`net.ipv4.conf.${ispB.gatewayInterface}.rp_filter`]: strict ? "1" : "0",
    });
    // a lab is handed over only once all its links carry traffic (see waitForLinks)
    for (const name of [ns.gateway, ns.ispA, ns.ispB, ns.server, ...ns.clients, ...(exchange ? [exchange.ns] : [])]) {
      await waitForLinks(name);
    }
  } catch (e) {
    await destroy();
    throw e;
  }

  const lab: Lab = {
    runId,
    ns,
    clients,
    ispA,
    ispB,
    exchange,
    servers,
    lan,
    exec: (name, args, opts) => runner(name).run(args, opts),
    must: (name, args, opts) => must(runner(name), args, opts),
    runner,
    spawn: (name, args) => spaces.spawn(name, args),
    ip: (name, lines) => ipBatch(name, lines),
    async addClientAddresses(client, addresses, route) {
      const c = clients[client];
      if (c === undefined) throw new Error(`the lab has no client ${client}`);
      if (addresses.length > 0)
        await ipBatch(
          c.ns,
          addresses.map((a) => `addr replace ${a}/32 dev lo`),
        );
      await ipBatch(ns.gateway, [`route replace ${route} via ${c.address} dev ${c.gatewayInterface}`]);
    },
    destroy,
  };
  return lab;
}
