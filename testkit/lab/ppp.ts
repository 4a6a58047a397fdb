import { execFile } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { Lab, LabProcess } from "./lab";
import { host, waitForLinks } from "./namespaces";

/**
 * A point-to-point uplink as pppd makes it: the gateway's `ppp0` with its own address and the
 * peer's (`inet A peer P/32`), a default route through it, and an interface that goes away when
 * the session ends and is created again, with what the next session brings, when it comes back.
 */
export interface PppSession {
  /** the gateway's address on the link (the ISP's pool) */
  address: string;
  /** the ISP's end: the next hop */
  peer: string;
}

export interface PppLink {
  /** the gateway's interface */
  readonly interface: string;
  /** brings a session up with this address and peer (waits until ppp0 has them) */
  up(session: PppSession): Promise<void>;
  /** ends the session: ppp0 goes away (waits until it is gone) */
  down(): Promise<void>;
  /** what pppd and the server said, for a failing test */
  logs(): string;
  stop(): Promise<void>;
}

const PPP_IF = "ppp0";

async function waitUntil(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** ppp0's address and peer in the gateway's namespace, or null while it is missing or bare. */
async function pppAddress(lab: Lab): Promise<PppSession | null> {
  const r = await lab.exec(lab.ns.gateway, ["ip", "-j", "-4", "addr", "show", "dev", PPP_IF]);
  if (r.code !== 0) return null;
  const links = JSON.parse(r.stdout || "[]") as Array<{ addr_info?: Array<{ local?: string; address?: string }> }>;
  const a = links[0]?.addr_info?.[0];
  return a?.local !== undefined && a.address !== undefined ? { address: a.local, peer: a.address } : null;
}

const pppGone = async (lab: Lab) => (await lab.exec(lab.ns.gateway, ["ip", "link", "show", "dev", PPP_IF])).code !== 0;

// ---------------------------------------------------------------------------------------------
// PPPoE on the wire: pppoe-server at the ISP, pppd with the rp-pppoe plugin at the gateway

const run = (args: string[]) =>
  new Promise<number>((resolve) => execFile(args[0] as string, args.slice(1), (e) => resolve(e === null ? 0 : 1)));

/** What /proc/config.gz says about a kernel option, when the kernel publishes its configuration. */
function kernelConfig(option: string): string {
  try {
    const text = gunzipSync(readFileSync("/proc/config.gz")).toString("utf8");
    if (text.includes(`# ${option} is not set`)) return `; /proc/config.gz: ${option} is not set`;
    const set = new RegExp(`^${option}=(\\w+)$`, "m").exec(text);
    return set === null ? "" : `; /proc/config.gz: ${option}=${set[1]}`;
  } catch {
    return "";
  }
}

/**
 * Why PPPoE cannot run here, or null when it can: pppd, pppoe-server and the rp-pppoe plugin
 * installed (scripts/ensure-system-packages.sh), and a kernel with the PPP driver, PPPoE and a
 * /dev/ppp node. Modules are loaded first where the kernel has them.
 */
export async function pppoeMissing(): Promise<string | null> {
  for (const bin of ["/usr/sbin/pppd", "/usr/sbin/pppoe-server", "/usr/sbin/pppoe"]) {
    if (!existsSync(bin)) return `${bin} is not installed (Debian packages ppp and pppoe)`;
  }
  const plugins = existsSync("/usr/lib/pppd") ? readdirSync("/usr/lib/pppd") : [];
  if (!plugins.some((v) => existsSync(join("/usr/lib/pppd", v, "rp-pppoe.so")))) {
    return "pppd's rp-pppoe.so plugin is not installed";
  }
  if (existsSync("/proc/modules")) await run(["modprobe", "-a", "-q", "ppp_generic", "pppoe"]);
  const devices = existsSync("/proc/devices") ? readFileSync("/proc/devices", "utf8") : "";
  if (!/^\s*108 ppp$/m.test(devices)) {
    return `the kernel has no PPP driver (no "108 ppp" in /proc/devices${kernelConfig("CONFIG_PPP")}): pppd cannot create a ppp interface`;
  }
  if (!existsSync("/proc/net/pppoe")) {
    return `the kernel has no PPPoE (no /proc/net/pppoe${kernelConfig("CONFIG_PPPOE")}): the rp-pppoe plugin cannot open a session`;
  }
  if (!existsSync("/dev/ppp")) return "there is no /dev/ppp device node (mknod /dev/ppp c 108 0)";
  return null;
}

/**
 * Runs a command in a lab namespace with a private /etc/ppp and /run: `ip netns exec` gives each
 * command its own mount namespace (propagation to the host off), where the temporary directory's
 * etc/ and run/ are mounted over them, so pppd reads only this lab's options and secrets and
 * writes its pid files there. Nothing of the host's PPP configuration is read or changed.
 */
function spawnWithPrivatePpp(lab: Lab, ns: string, dir: string, args: string[]): LabProcess {
  const script = 'mount --bind "$0/etc" /etc/ppp && mount --bind "$0/run" /run && exec "$@"';
  return lab.spawn(ns, ["sh", "-c", script, dir, ...args]);
}

function privateDir(prefix: string, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, "etc"));
  mkdirSync(join(dir, "run"));
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, "etc", name), text);
    if (name.endsWith("-secrets")) chmodSync(join(dir, "etc", name), 0o600);
  }
  return dir;
}

/**
 * PPPoE between an ISP namespace and the gateway over a veth of their own (created inside the
 * two namespaces): pppoe-server on the ISP's end, asking for PAP with a lab-only secret and
 * handing out one address at a time, and pppd with the rp-pppoe plugin on the gateway's end,
 * redialling after a second whenever the session ends (persist), adding its default route
 * through ppp0 (the gateway must have none of its own). up() (re)starts the server with the
 * session's addresses; down() stops it, which ends the session (PADT).
 */
export async function startPppoe(
  lab: Lab,
  isp: { ns: string; interface: string },
  gateway: { interface: string },
): Promise<PppLink> {
  const user = "gh-lab";
  const secret = `lab-${lab.runId}`;
  const lcp = ["lcp-echo-interval 1", "lcp-echo-failure 3"];
  const server = privateDir("gh-pppoe-ac-", {
    options: "",
    "pap-secrets": `"${user}" * "${secret}" *\n`,
    "chap-secrets": `"${user}" * "${secret}" *\n`,
    "pppoe-server-options": ["require-pap", ...lcp, "nodefaultroute", "noproxyarp", "logfile /run/pppd.log", ""].join(
      "\n",
    ),
  });
  const client = privateDir("gh-pppoe-gw-", {
    options: "",
    "pap-secrets": `"${user}" * "${secret}"\n`,
    "chap-secrets": `"${user}" * "${secret}"\n`,
  });
  await lab.ip(lab.ns.gateway, [
    `link add ${gateway.interface} type veth peer name ${isp.interface} netns ${isp.ns}`,
    `link set ${gateway.interface} up`,
  ]);
  await lab.ip(isp.ns, [`link set ${isp.interface} up`]);
  await waitForLinks(lab.ns.gateway);
  await waitForLinks(isp.ns);

  let ac: LabProcess | null = null;
  const stopServer = async () => {
    const p = ac;
    ac = null;
    if (p === null) return;
    // pppoe-server ends its sessions (PADT, SIGTERM to their pppd) when it is told to stop
    p.kill("SIGTERM");
    const ended = await Promise.race([p.exited.then(() => true), new Promise((r) => setTimeout(r, 5_000))]);
    if (ended !== true) p.kill("SIGKILL");
    await p.exited;
  };
  const pppd = spawnWithPrivatePpp(lab, lab.ns.gateway, client, [
    "/usr/sbin/pppd",
    "nodetach",
    "plugin",
    "rp-pppoe.so",
    "pppoe-padi-timeout",
    "1",
    "pppoe-padi-attempts",
    "2",
    `nic-${gateway.interface}`,
    "ifname",
    PPP_IF,
    "user",
    user,
    "noauth",
    "persist",
    "maxfail",
    "0",
    "holdoff",
    "1",
    "lcp-echo-interval",
    "1",
    "lcp-echo-failure",
    "3",
    "noipdefault",
    "defaultroute",
    "noaccomp",
    "nopcomp",
    "novj",
    "nobsdcomp",
    "nodeflate",
    "noccp",
    "logfile",
    "/run/pppd.log",
  ]);
  const read = (dir: string) => {
    const f = join(dir, "run", "pppd.log");
    return existsSync(f) ? readFileSync(f, "utf8").slice(-4000) : "";
  };
  const link: PppLink = {
    interface: PPP_IF,
    async up(s) {
      await stopServer();
      ac = spawnWithPrivatePpp(lab, isp.ns, server, [
        "/usr/sbin/pppoe-server",
        "-F",
        "-I",
        isp.interface,
        "-L",
        s.peer,
        "-R",
        s.address,
        "-N",
        "1",
        "-O",
        "/etc/ppp/pppoe-server-options",
        "-q",
        "/usr/sbin/pppd",
        "-Q",
        "/usr/sbin/pppoe",
        "-X",
        "/run/pppoe-server.pid",
      ]);
      await waitUntil(
        `a PPPoE session with ${s.address} and peer ${s.peer}`,
        async () => {
          if (pppd.child.exitCode !== null) throw new Error(`pppd ended: ${pppd.stderr()} ${read(client)}`);
          const now = await pppAddress(lab);
          return now?.address === s.address && now.peer === s.peer;
        },
        20_000,
      );
    },
    async down() {
      await stopServer();
      await waitUntil(`${PPP_IF} to go away`, () => pppGone(lab), 10_000);
    },
    logs: () => `gateway pppd:\n${read(client)}\nISP pppd:\n${read(server)}\n${ac?.stderr() ?? ""}`,
    async stop() {
      pppd.kill("SIGTERM");
      await Promise.race([pppd.exited, new Promise((r) => setTimeout(r, 5_000))]);
      pppd.kill("SIGKILL");
      await stopServer();
      // a session's pppd that outlived its server (started by it, in this lab's namespaces)
      for (const ns of [isp.ns, lab.ns.gateway]) {
        const pids = (await host.run(["ip", "netns", "pids", ns])).stdout.split(/\s+/).filter((p) => p !== "");
        for (const pid of pids) {
          const comm = existsSync(`/proc/${pid}/comm`) ? readFileSync(`/proc/${pid}/comm`, "utf8").trim() : "";
          if (comm === "pppd" || comm === "pppoe") process.kill(Number(pid), "SIGTERM");
        }
      }
      rmSync(server, { recursive: true, force: true });
      rmSync(client, { recursive: true, force: true });
    },
  };
  return link;
}

// ---------------------------------------------------------------------------------------------
// The same interface life without PPP: a veth addressed the way pppd addresses ppp0

/**
 * What the agent sees of a PPPoE session, on a kernel without PPP: a veth named ppp0 between the
 * gateway and the ISP, addressed as pppd addresses its interface (`A peer P/32` on the gateway,
 * `P peer A/32` at the ISP), with pppd's default route through it. A new session is a new
 * interface by the same name. It tests the agent's part (learning, routing, NAT, probes across
 * the interface going and coming back), not PPP.
 */
export function pointToPointLink(lab: Lab, isp: { ns: string; interface: string }): PppLink {
  return {
    interface: PPP_IF,
    async up(s) {
      await lab.ip(lab.ns.gateway, [
        `link add ${PPP_IF} type veth peer name ${isp.interface} netns ${isp.ns}`,
        `addr add ${s.address} peer ${s.peer}/32 dev ${PPP_IF}`,
        `link set ${PPP_IF} up`,
      ]);
      await lab.ip(isp.ns, [`addr add ${s.peer} peer ${s.address}/32 dev ${isp.interface}`]);
      // a point-to-point link delivers everything to the peer: the ISP's end answers ARP for what
      // it routes elsewhere (proxy ARP), so pppd's route without a gateway works over the veth
      await lab.must(isp.ns, ["sysctl", "-q", "-w", `net.ipv4.conf.${isp.interface}.proxy_arp=1`]);
      await lab.ip(isp.ns, [`link set ${isp.interface} up`]);
      await waitForLinks(lab.ns.gateway);
      await waitForLinks(isp.ns);
      // pppd's defaultroute: a route through the interface, no gateway
      await lab.ip(lab.ns.gateway, [`route replace default dev ${PPP_IF}`]);
    },
    async down() {
      // the ISP's end goes with it
      await lab.ip(lab.ns.gateway, [`link del ${PPP_IF}`]);
      await waitUntil(`${PPP_IF} to go away`, () => pppGone(lab), 5_000);
    },
    logs: () => "",
    async stop() {
      if (!(await pppGone(lab))) await lab.ip(lab.ns.gateway, [`link del ${PPP_IF}`]);
    },
  };
}
