import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, connect as netConnect, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import { describeFailure, execRunner, ok } from "../../agent/apply/runner";
import type { SshEndpoint } from "../../server/ssh/types";

/**
 * An SSH lab: gateways in network namespaces, each with its own sshd (Debian's openssh-server,
 * own config, host key, pid file and authorized keys, on a high port), joined by veth pairs to a
 * "console" namespace. The test process never touches an interface of the host: it reaches the
 * console namespace through unix sockets (files) that a relay inside it listens on or dials.
 *
 *   test process ── unix socket ── relay (console ns) ── g<i> 100.64.<i>.1/24 ══ mgmt0 100.64.<i>.2/24 (gateway i)
 *                                                                                  sshd on :2222
 *   agent (gateway i) ── http://100.64.<i>.1:8080 ── relay ── unix socket ── test process ── agent API server
 *
 * Each gateway also gets eth1 (198.51.100.2/24, a veth pair inside its namespace) so a published
 * spec whose ISP leaves through eth1 via 198.51.100.1 applies for real, with nft and ip in there.
 */

const here = dirname(fileURLToPath(import.meta.url));
const RELAY = join(here, "tools", "relay.mjs");
const SSHD = "/usr/sbin/sshd";
export const SSH_PORT = 2222;
export const CONSOLE_PORT = 8080;

const host = execRunner({ defaultTimeoutMs: 20_000 });

async function must(args: readonly string[], input?: string): Promise<string> {
  const r = await host.run(args, input === undefined ? undefined : { input });
  if (!ok(r)) throw new Error(describeFailure(r));
  return r.stdout;
}

export interface SshdOptions {
  /** tools taken away from the login's PATH (sshd SetEnv PATH=...); each must live in /usr/sbin */
  withoutTools?: string[];
  /** a LAN client namespace behind the gateway (100.64.200.2), whose traffic the gateway SNATs */
  client?: boolean;
}

/** The tools a gateway needs, linked into a directory of their own when some are taken away. */
const TOOLS = ["nft", "ip", "conntrack", "fping", "node", "sha256sum", "setsid"];

export interface LabGateway {
  index: number;
  ns: string;
  /** the gateway's management address, where sshd listens */
  address: string;
  /** what the agent on this gateway uses to reach the console */
  consoleUrl: string;
  dir: string;
  /** the directory the agent is installed under (its install root) */
  installRoot: string;
  hostKeyFingerprint: string;
  /** replaces the host key and restarts sshd; returns the new fingerprint */
  changeHostKey(): Promise<string>;
  /** the LAN client's namespace, when asked for */
  clientNs: string | null;
  /** runs a command inside the gateway's namespace */
  exec(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  sshdLog(): string;
}

export interface SshLab {
  runId: string;
  dir: string;
  consoleNs: string;
  gateways: LabGateway[];
  /** the private key the gateways accept for root, and one they do not */
  clientKey: string;
  strangerKey: string;
  /** opens the byte stream to a gateway's sshd (through the relay) */
  dial(endpoint: SshEndpoint): Duplex;
  destroy(): Promise<void>;
}

function keygen(path: string): string {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "gatehouse-ssh-lab", "-f", path]);
  return path;
}

/** The fingerprint as `ssh-keygen -lf` prints it: the reference the console must agree with. */
function fingerprintOfFile(pub: string): string {
  const out = execFileSync("ssh-keygen", ["-l", "-f", pub], { encoding: "utf8" });
  const m = /(SHA256:[A-Za-z0-9+/]+)/.exec(out);
  if (!m?.[1]) throw new Error(`ssh-keygen printed no fingerprint: ${out}`);
  return m[1];
}

function spawnIn(ns: string, args: readonly string[]): { child: ChildProcess; output: () => string } {
  const child = spawn("ip", ["netns", "exec", ns, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  return { child, output: () => output };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function buildSshLab(opts: {
  gateways: SshdOptions[];
  /** where the agent API server listens (127.0.0.1:port) */
  consolePort: number;
}): Promise<SshLab> {
  if (process.getuid?.() !== 0) throw new Error("the SSH lab creates network namespaces: run it as root");
  if (opts.gateways.length < 1 || opts.gateways.length > 8) throw new Error("an SSH lab has 1 to 8 gateways");
  const runId = randomBytes(3).toString("hex");
  const prefix = `ghs-${runId}`;
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const consoleNs = `${prefix}-con`;
  const created: string[] = [];
  const children: ChildProcess[] = [];
  const servers: Server[] = [];
  mkdirSync("/run/sshd", { recursive: true });

  const destroy = async () => {
    for (const s of servers) s.close();
    // every process of the lab runs inside one of its namespaces: sshd, its sessions, the agents
    // and their supervisors, the relay; each is ended by its pid
    for (const ns of created) {
      const pids = (await host.run(["ip", "netns", "pids", ns])).stdout.split("\n").filter((p) => /^\d+$/.test(p));
      for (const pid of pids) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {}
      }
    }
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    for (const ns of created.splice(0).reverse()) await host.run(["ip", "netns", "delete", ns]);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await must(["ip", "netns", "add", consoleNs]);
    created.push(consoleNs);
    await must(["ip", "-n", consoleNs, "link", "set", "lo", "up"]);

    const clientKey = keygen(join(dir, "client"));
    const strangerKey = keygen(join(dir, "stranger"));

    const gateways: LabGateway[] = [];
    const relayArgs: string[] = [];
    for (const [i, gopts] of opts.gateways.entries()) {
      const index = i + 1;
      const ns = `${prefix}-g${index}`;
      const gdir = join(dir, `g${index}`);
      mkdirSync(gdir);
      await must(["ip", "netns", "add", ns]);
      created.push(ns);
      const address = `100.64.${index}.2`;
      await must(
        ["ip", "-n", consoleNs, "-batch", "-"],
        [
          `link add g${index} type veth peer name mgmt0 netns ${ns}`,
          `addr add 100.64.${index}.1/24 dev g${index}`,
          `link set g${index} up`,
        ].join("\n"),
      );
      await must(
        ["ip", "-n", ns, "-batch", "-"],
        [
          "link set lo up",
          `addr add ${address}/24 dev mgmt0`,
          "link set mgmt0 up",
          "link add eth1 type veth peer name eth1p",
          "addr add 198.51.100.2/24 dev eth1",
          "link set eth1 up",
          "link set eth1p up",
          // the ISP of the lab's cluster: eth1 via 198.51.100.1
          "route add default via 198.51.100.1 dev eth1",
        ].join("\n"),
      );
      let clientNs: string | null = null;
      if (gopts.client) {
        clientNs = `${prefix}-c${index}`;
        await must(["ip", "netns", "add", clientNs]);
        created.push(clientNs);
        await must(
          ["ip", "-n", ns, "-batch", "-"],
          [
            `link add lan0 type veth peer name eth0 netns ${clientNs}`,
            "addr add 100.64.200.1/24 dev lan0",
            "link set lan0 up",
          ].join("\n"),
        );
        await must(
          ["ip", "-n", clientNs, "-batch", "-"],
          [
            "link set lo up",
            "addr add 100.64.200.2/24 dev eth0",
            "link set eth0 up",
            "route add default via 100.64.200.1",
          ].join("\n"),
        );
        await must(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
      }
      writeFileSync(join(gdir, "authorized_keys"), readFileSync(`${clientKey}.pub`));
      const hostKey = join(gdir, "host_ed25519");
      keygen(hostKey);
      const config = [
        `ListenAddress ${address}`,
        `Port ${SSH_PORT}`,
        `HostKey ${hostKey}`,
        `PidFile ${join(gdir, "sshd.pid")}`,
        `AuthorizedKeysFile ${join(gdir, "authorized_keys")}`,
        "UsePAM no",
        "StrictModes no",
        "PermitRootLogin yes",
        "PasswordAuthentication yes",
        "KbdInteractiveAuthentication no",
        "LogLevel VERBOSE",
        ...(gopts.withoutTools?.length ? [`SetEnv PATH=${pathWithout(join(gdir, "bin"), gopts.withoutTools)}`] : []),
      ];
      writeFileSync(join(gdir, "sshd_config"), `${config.join("\n")}\n`);
      const log = join(gdir, "sshd.log");
      let sshd: ChildProcess | null = null;
      const startSshd = async () => {
        writeFileSync(log, "");
        const proc = spawnIn(ns, [SSHD, "-D", "-f", join(gdir, "sshd_config"), "-E", log]);
        children.push(proc.child);
        sshd = proc.child;
        await waitFor(`sshd of gateway ${index}`, () => readFileSync(log, "utf8").includes("Server listening"));
      };
      await startSshd();
      relayArgs.push("--unix-to-tcp", `${join(dir, `ssh-${index}.sock`)}=${address}:${SSH_PORT}`);
      const gw: LabGateway = {
        index,
        ns,
        address,
        consoleUrl: `http://100.64.${index}.1:${CONSOLE_PORT}`,
        dir: gdir,
        installRoot: join(gdir, "root"),
        clientNs,
        hostKeyFingerprint: fingerprintOfFile(`${hostKey}.pub`),
        async changeHostKey() {
          const old = sshd;
          if (old && old.exitCode === null) {
            const exited = new Promise((r) => old.once("exit", r));
            old.kill("SIGTERM");
            await exited;
          }
          rmSync(hostKey, { force: true });
          rmSync(`${hostKey}.pub`, { force: true });
          keygen(hostKey);
          gw.hostKeyFingerprint = fingerprintOfFile(`${hostKey}.pub`);
          await startSshd();
          return gw.hostKeyFingerprint;
        },
        async exec(args) {
          const r = await host.run(["ip", "netns", "exec", ns, ...args]);
          return { code: r.code, stdout: r.stdout, stderr: r.stderr };
        },
        sshdLog: () => readFileSync(log, "utf8"),
      };
      gateways.push(gw);
    }

    // the agent API, reached from every gateway at 100.64.<i>.1:8080
    const consoleSock = join(dir, "console.sock");
    const bridge = createServer((c) => {
      const upstream = netConnect({ host: "127.0.0.1", port: opts.consolePort });
      c.on("error", () => upstream.destroy());
      upstream.on("error", () => c.destroy());
      c.pipe(upstream);
      upstream.pipe(c);
    });
    await new Promise<void>((resolve, reject) => bridge.once("error", reject).listen(consoleSock, resolve));
    servers.push(bridge);
    relayArgs.push("--tcp-to-unix", `0.0.0.0:${CONSOLE_PORT}=${consoleSock}`);
    const relay = spawnIn(consoleNs, ["node", RELAY, "--seconds", "900", ...relayArgs]);
    children.push(relay.child);
    await waitFor("the relay", () => relay.output().includes('"ready":true') || relay.child.exitCode !== null);
    if (!relay.output().includes('"ready":true')) throw new Error(`the relay failed: ${relay.output()}`);

    return {
      runId,
      dir,
      consoleNs,
      gateways,
      clientKey: readFileSync(clientKey, "utf8"),
      strangerKey: readFileSync(strangerKey, "utf8"),
      dial(endpoint) {
        const gw = gateways.find((g) => g.address === endpoint.host && endpoint.port === SSH_PORT);
        if (!gw) throw new Error(`the lab has no sshd at ${endpoint.host}:${endpoint.port}`);
        return netConnect(join(dir, `ssh-${gw.index}.sock`));
      },
      destroy,
    };
  } catch (e) {
    await destroy();
    throw e;
  }
}

/**
 * A PATH without `tools`: a directory of links to the other tools, then /usr/bin and /bin (on
 * Debian nft, ip and conntrack live in /usr/sbin, which is left out).
 */
function pathWithout(dir: string, tools: readonly string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const tool of TOOLS) {
    const found = execFileSync("sh", ["-c", 'command -v -- "$1" || true', "sh", tool], { encoding: "utf8" }).trim();
    if (tools.includes(tool)) {
      if (found.startsWith("/usr/bin/") || found.startsWith("/bin/")) {
        throw new Error(`${tool} is in ${found}: it cannot be taken out of PATH`);
      }
      continue;
    }
    if (found.startsWith("/")) symlinkSync(found, join(dir, tool));
  }
  return `${dir}:/usr/bin:/bin`;
}
