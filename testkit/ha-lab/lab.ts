import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { CommandRunner } from "../../agent/apply/runner";
import { host, ipBatch, type LabProcess, must, Namespaces } from "../lab/namespaces";

/**
 * A high-availability pair in network namespaces, wired as a real site is:
 *
 *   client 100.64.0.50 ── LAN switch ──┬── eth0 gwA 100.64.0.2   eth1 198.51.100.2 ─┬─ ISP alpha 198.51.100.1 ─┐
 *   (default via the VIP 100.64.0.1)   │          sync0 100.100.0.1                  │                          │
 *                                      │              │ (sync link)                  │                          server
 *                                      └── ens0 gwB 100.64.0.3   ens1 198.51.100.3 ─┘                          100.127.0.10
 *                                                 sync0 100.100.0.2                                            100.127.0.11
 *                 gwA eth2 203.0.113.2 ─┬─ ISP beta 203.0.113.1 / 203.0.113.62 ─────────────────────────────────┘
 *                 gwB ens2 203.0.113.3 ─┘
 *
 * The two gateways name their interfaces differently and reach ISP beta through different next
 * hops (testkit/ha-fixtures.ts has the same cluster as a policy). The ISP routers do only what
 * ISP routers do: ISP alpha finds the on-link pool addresses (198.51.100.10-17) by ARP, ISP beta
 * holds a static route of the routed pool (203.0.113.100/30) to the floating link address
 * 203.0.113.4. The server answers on 100.127.0.10 (reached through alpha, the gateways' default
 * route) and 100.127.0.11 (through beta, a route the operator added on the gateways).
 * Nothing touches the host's interfaces; namespace names are unique per run.
 */

export type HaLabGateway = "a" | "b";

export interface HaLabGatewayInfo {
  ns: string;
  lan: { iface: string; address: string };
  alpha: { iface: string; address: string; nextHop: string };
  beta: { iface: string; address: string; nextHop: string };
  sync: { iface: string; address: string };
  /** the gateway's ports on the switches: LAN switch, ISP alpha, ISP beta */
  ports: { lan: string; alpha: string; beta: string };
}

export interface HaLabClient {
  ns: string;
  address: string;
  /** its default gateway: a virtual address */
  gateway: string;
}

export interface HaLab {
  runId: string;
  ns: { lan: string; alpha: string; beta: string; server: string; client: string };
  gateways: Record<HaLabGateway, HaLabGatewayInfo>;
  /** the first client (ns.client) and, with more, the others */
  clients: HaLabClient[];
  /** the server's address through alpha (on-link pool) and through beta (routed pool) */
  server: { viaAlpha: string; viaBeta: string };
  vip: string;
  pools: { alpha: string[]; beta: string[] };
  runner(ns: string): CommandRunner;
  must(ns: string, args: readonly string[]): Promise<string>;
  spawn(ns: string | null, args: readonly string[], env?: Record<string, string>): LabProcess;
  /** replaces ISP beta's static routes of the routed pool (cidr -> the gateways' address it goes to) */
  routeBeta(routes: ReadonlyArray<{ cidr: string; via: string }>): Promise<void>;
  /** takes every ISP link of a gateway down (its carrier drops) or back up */
  ispLinks(gw: HaLabGateway, state: "up" | "down"): Promise<void>;
  /** the gateway dies to the network (every port of it down, the sync link too) or comes back */
  isolate(gw: HaLabGateway, on: boolean): Promise<void>;
  /** drops VRRP between the gateways on every link (both claim master) or lets it through again */
  partitionVrrp(on: boolean): Promise<void>;
  destroy(): Promise<void>;
}

export const HA_LAB_SYNC_INTERFACE = "sync0";

function commOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return null;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone
  }
}

export interface HaLabOptions {
  prefix?: string;
  /** each client's default gateway (a virtual address of the LAN); default: one client via 100.64.0.1 */
  clientGateways?: string[];
}

export async function buildHaLab(options: HaLabOptions = {}): Promise<HaLab> {
  const runId = randomBytes(3).toString("hex");
  const p = `${options.prefix ?? "ghha"}-${runId}`;
  const ns = { lan: `${p}-sw`, alpha: `${p}-ispa`, beta: `${p}-ispb`, server: `${p}-srv`, client: `${p}-c1` };
  const clients: HaLabClient[] = (options.clientGateways ?? ["100.64.0.1"]).map((gateway, i) => ({
    ns: `${p}-c${i + 1}`,
    address: `100.64.0.${50 + i}`,
    gateway,
  }));
  const gateways: Record<HaLabGateway, HaLabGatewayInfo> = {
    a: {
      ns: `${p}-gwa`,
      lan: { iface: "eth0", address: "100.64.0.2/24" },
      alpha: { iface: "eth1", address: "198.51.100.2/24", nextHop: "198.51.100.1" },
      beta: { iface: "eth2", address: "203.0.113.2/26", nextHop: "203.0.113.1" },
      sync: { iface: HA_LAB_SYNC_INTERFACE, address: "100.100.0.1/24" },
      ports: { lan: "ga", alpha: "ga", beta: "ga" },
    },
    b: {
      ns: `${p}-gwb`,
      lan: { iface: "ens0", address: "100.64.0.3/24" },
      alpha: { iface: "ens1", address: "198.51.100.3/24", nextHop: "198.51.100.1" },
      beta: { iface: "ens2", address: "203.0.113.3/26", nextHop: "203.0.113.62" },
      sync: { iface: HA_LAB_SYNC_INTERFACE, address: "100.100.0.2/24" },
      ports: { lan: "gb", alpha: "gb", beta: "gb" },
    },
  };
  const server = { viaAlpha: "100.127.0.10", viaBeta: "100.127.0.11" };
  const spaces = new Namespaces();
  const runner = (name: string) => spaces.runner(name);
  const sysctl = (name: string, values: string[]) =>
    must(host, ["ip", "netns", "exec", name, "sysctl", "-q", "-w", ...values]);

  try {
    for (const name of [
      ns.lan,
      ns.alpha,
      ns.beta,
      ns.server,
      ...clients.map((c) => c.ns),
      gateways.a.ns,
      gateways.b.ns,
    ]) {
      await spaces.add(name);
    }
    for (const sw of [ns.lan, ns.alpha, ns.beta]) {
      await ipBatch(sw, ["link set lo up", "link add br0 type bridge", "link set br0 up"]);
    }
    await ipBatch(ns.alpha, [
      "addr add 198.51.100.1/24 dev br0",
      `link add name srv0 type veth peer name alpha0 netns ${ns.server}`,
      "addr add 100.126.1.1/30 dev srv0",
      "link set srv0 up",
      `route add 100.127.0.0/24 via 100.126.1.2`,
    ]);
    await ipBatch(ns.beta, [
      "addr add 203.0.113.1/26 dev br0",
      "addr add 203.0.113.62/26 dev br0",
      `link add name srv0 type veth peer name beta0 netns ${ns.server}`,
      "addr add 100.126.2.1/30 dev srv0",
      "link set srv0 up",
      `route add 100.127.0.0/24 via 100.126.2.2`,
      // what the operator asks the ISP for: the routed pool to the gateways' floating link address
      "route add 203.0.113.100/30 via 203.0.113.4 dev br0",
    ]);
    for (const router of [ns.alpha, ns.beta]) {
      await sysctl(router, [
        "net.ipv4.ip_forward=1",
        "net.ipv4.conf.all.rp_filter=0",
        "net.ipv4.conf.default.rp_filter=0",
      ]);
    }
    for (const gw of Object.values(gateways)) {
      await ipBatch(gw.ns, [
        "link set lo up",
        `link add name ${gw.lan.iface} type veth peer name ${gw.ports.lan} netns ${ns.lan}`,
        `link add name ${gw.alpha.iface} type veth peer name ${gw.ports.alpha} netns ${ns.alpha}`,
        `link add name ${gw.beta.iface} type veth peer name ${gw.ports.beta} netns ${ns.beta}`,
        `addr add ${gw.lan.address} dev ${gw.lan.iface}`,
        `addr add ${gw.alpha.address} dev ${gw.alpha.iface}`,
        `addr add ${gw.beta.address} dev ${gw.beta.iface}`,
        ...[gw.lan.iface, gw.alpha.iface, gw.beta.iface].map((i) => `link set ${i} up`),
        `route add default via ${gw.alpha.nextHop} dev ${gw.alpha.iface}`,
        // the operator's own route: this server through ISP beta
        `route add ${server.viaBeta}/32 via ${gw.beta.nextHop} dev ${gw.beta.iface}`,
      ]);
      for (const [sw, port] of [
        [ns.lan, gw.ports.lan],
        [ns.alpha, gw.ports.alpha],
        [ns.beta, gw.ports.beta],
      ] as const) {
        await ipBatch(sw, [`link set ${port} master br0`, `link set ${port} up`]);
      }
      await sysctl(gw.ns, ["net.ipv4.ip_forward=1"]);
    }
    await ipBatch(gateways.a.ns, [
      `link add name ${HA_LAB_SYNC_INTERFACE} type veth peer name ${HA_LAB_SYNC_INTERFACE} netns ${gateways.b.ns}`,
      `addr add ${gateways.a.sync.address} dev ${HA_LAB_SYNC_INTERFACE}`,
      `link set ${HA_LAB_SYNC_INTERFACE} up`,
    ]);
    await ipBatch(gateways.b.ns, [
      `addr add ${gateways.b.sync.address} dev ${HA_LAB_SYNC_INTERFACE}`,
      `link set ${HA_LAB_SYNC_INTERFACE} up`,
    ]);
    for (const [i, c] of clients.entries()) {
      await ipBatch(c.ns, [
        "link set lo up",
        `link add name eth0 type veth peer name c${i + 1} netns ${ns.lan}`,
        `addr add ${c.address}/24 dev eth0`,
        "link set eth0 up",
        `route add default via ${c.gateway}`,
      ]);
      await ipBatch(ns.lan, [`link set c${i + 1} master br0`, `link set c${i + 1} up`]);
    }
    await ipBatch(ns.server, [
      "link set lo up",
      `addr add ${server.viaAlpha}/32 dev lo`,
      `addr add ${server.viaBeta}/32 dev lo`,
      "addr add 100.126.1.2/30 dev alpha0",
      "link set alpha0 up",
      "addr add 100.126.2.2/30 dev beta0",
      "link set beta0 up",
      "route add 198.51.100.0/24 via 100.126.1.1",
      "route add 203.0.113.0/24 via 100.126.2.1",
    ]);
    await sysctl(ns.server, ["net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"]);
  } catch (e) {
    await spaces.destroy(3000);
    throw e;
  }

  const partitionTable = "table bridge ha_lab_partition";
  return {
    runId,
    ns,
    gateways,
    clients,
    server,
    vip: "100.64.0.1",
    pools: {
      alpha: Array.from({ length: 8 }, (_, i) => `198.51.100.${10 + i}`),
      beta: Array.from({ length: 4 }, (_, i) => `203.0.113.${100 + i}`),
    },
    runner,
    must: (name, args) => must(runner(name), args),
    spawn: (name, args, env) => spaces.spawn(name, args, env),
    async ispLinks(gw, state) {
      const g = gateways[gw];
      await ipBatch(ns.alpha, [`link set ${g.ports.alpha} ${state}`]);
      await ipBatch(ns.beta, [`link set ${g.ports.beta} ${state}`]);
    },
    async routeBeta(routes) {
      await ipBatch(ns.beta, [
        "route flush root 203.0.113.100/30",
        ...routes.map((r) => `route replace ${r.cidr} via ${r.via} dev br0`),
      ]);
    },
    async isolate(gw, on) {
      const g = gateways[gw];
      const state = on ? "down" : "up";
      await ipBatch(ns.lan, [`link set ${g.ports.lan} ${state}`]);
      await ipBatch(ns.alpha, [`link set ${g.ports.alpha} ${state}`]);
      await ipBatch(ns.beta, [`link set ${g.ports.beta} ${state}`]);
      await ipBatch(g.ns, [`link set ${HA_LAB_SYNC_INTERFACE} ${state}`]);
    },
    async partitionVrrp(on) {
      for (const sw of [ns.lan, ns.alpha, ns.beta]) {
        // add-then-delete: "delete table" fails when the table is not there
        await must(runner(sw), ["nft", "-f", "-"], { input: `add ${partitionTable}\ndelete ${partitionTable}\n` });
        if (!on) continue;
        await must(runner(sw), ["nft", "-f", "-"], {
          input: `${partitionTable} {\n  chain forward {\n    type filter hook forward priority 0; policy accept;\n    ip protocol vrrp drop\n  }\n}\n`,
        });
      }
    },
    async destroy() {
      // the daemons the agents started in the gateways' namespaces: a frozen one cannot stop by itself
      const left: Array<{ pid: number; comm: string }> = [];
      for (const gw of Object.values(gateways)) {
        const r = await host.run(["ip", "netns", "pids", gw.ns]);
        for (const pid of r.stdout
          .split("\n")
          .map(Number)
          .filter((n) => Number.isInteger(n) && n > 1)) {
          const comm = commOf(pid);
          if (comm === null) continue;
          left.push({ pid, comm });
          signal(pid, "SIGCONT");
        }
      }
      await spaces.destroy(3000);
      for (const { pid, comm } of left) if (commOf(pid) === comm) signal(pid, "SIGKILL");
    },
  };
}
