import { createHash } from "node:crypto";
import type { FakeHost, FakeReply } from "./ssh";
import type { HostKey, SshAuth } from "../../server/ssh/types";

/**
 * A gateway for unit tests that answers the console's commands (commands.ts) from a model: a
 * set of files and directories, the tools it has, whether the agent runs. Agent bundles are
 * plain text "fake-agent <version>", so running one prints that version.
 */

export interface FakeGatewayOptions {
  hostKey: HostKey;
  password?: string;
  os?: string;
  uid?: number;
  sudo?: boolean;
  pid1?: string;
  tools?: Record<string, string | null>;
  nodeVersion?: string;
  /** answers a command before the model does: how a test makes one step fail */
  override?: (argv: readonly string[]) => FakeReply | undefined;
  /** called when the agent's service starts: a test makes the agent "report" here */
  onStart?: () => Promise<void>;
}

export const fakeBundleText = (version: string) => `fake-agent ${version}\n`;

const DEFAULT_TOOLS = ["nft", "ip", "conntrack", "fping", "node", "sha256sum", "systemctl", "journalctl", "setsid"];

export class FakeGateway implements FakeHost {
  readonly files = new Map<string, Buffer>();
  readonly dirs = new Set<string>([
    "/",
    "/usr",
    "/usr/local",
    "/usr/local/bin",
    "/usr/local/lib",
    "/var",
    "/var/lib",
    "/var/log",
    "/run",
    "/tmp",
    "/etc",
    "/etc/systemd",
    "/etc/systemd/system",
  ]);
  running = false;
  /** the enrollment tokens the agent read from its --token-file, in order */
  readonly enrollTokens: string[] = [];
  private tempDirs = 0;
  readonly hostKey: HostKey;
  readonly tools: Record<string, string | null>;

  constructor(private readonly opts: FakeGatewayOptions) {
    this.hostKey = opts.hostKey;
    this.tools = opts.tools ?? Object.fromEntries(DEFAULT_TOOLS.map((t) => [t, `/usr/bin/${t}`]));
  }

  accepts(_username: string, auth: SshAuth): boolean {
    return auth.kind === "key" || auth.password === (this.opts.password ?? "right");
  }

  private exists(path: string): boolean {
    return this.files.has(path) || this.dirs.has(path);
  }

  async run(command: readonly string[], stdin: Buffer | undefined): Promise<FakeReply> {
    const reply = this.answer(command, stdin);
    if (this.running && !this.wasRunning) await this.opts.onStart?.();
    this.wasRunning = this.running;
    return reply;
  }

  private wasRunning = false;

  private answer(command: readonly string[], stdin: Buffer | undefined): FakeReply {
    const forced = this.opts.override?.(command);
    if (forced) return forced;
    const argv = command[0] === "sudo" ? command.slice(command[2] === "--" ? 3 : 2) : command;
    const [cmd, ...args] = argv;
    const script = cmd === "sh" && args[0] === "-c" ? (args[1] ?? "") : null;
    const params = script === null ? [] : args.slice(3);
    if (script !== null) {
      if (script.includes("command -v")) {
        return { stdout: params.map((t) => `${t}=${this.tools[t] ?? ""}\n`).join("") };
      }
      if (script.includes('[ -e "$p" ]')) return { stdout: params.filter((p) => this.exists(p)).join("\n") };
      if (script.includes('cat > "$1"')) {
        const path = params[0] ?? "";
        const dir = path.slice(0, path.lastIndexOf("/")) || "/";
        if (!this.dirs.has(dir)) return { code: 1, stderr: `sh: ${path}: No such file or directory` };
        this.files.set(path, stdin ?? Buffer.alloc(0));
        return {};
      }
      if (script.includes("rmdir")) {
        const dir = params[0] ?? "";
        if (!this.dirs.has(dir)) return {};
        const busy = [...this.files.keys(), ...this.dirs].some((p) => p !== dir && p.startsWith(`${dir}/`));
        if (busy) return { code: 1, stderr: `rmdir: failed to remove '${dir}': Directory not empty` };
        this.dirs.delete(dir);
        return {};
      }
      if (script.startsWith("setsid")) {
        this.running = true;
        return {};
      }
      if (script.includes("kill -TERM")) {
        this.running = false;
        return {};
      }
      if (script.includes("kill -0")) return this.running ? { stdout: "4242\n" } : { code: 1 };
      return { stdout: "" };
    }
    switch (cmd) {
      case "uname":
        return { stdout: `${this.opts.os ?? "Linux"}\n` };
      case "id":
        return { stdout: `${this.opts.uid ?? 0}\n` };
      case "true":
        return { code: this.opts.sudo ? 0 : 1 };
      case "cat":
        return { stdout: `${this.opts.pid1 ?? "init"}\n` };
      case "test":
        return { code: this.opts.pid1 === "systemd" ? 0 : 1 };
      case "mktemp": {
        const template = args[1] ?? "";
        const dir = template.replace(/X+$/, (xs) => String(++this.tempDirs).padStart(xs.length, "0"));
        if (args[0] !== "-d" || !this.dirs.has(dir.slice(0, dir.lastIndexOf("/")) || "/")) {
          return { code: 1, stderr: `mktemp: failed to create directory via template '${template}'` };
        }
        this.dirs.add(dir);
        return { stdout: `${dir}\n` };
      }
      case "mkdir": {
        for (const dir of args.slice(3)) {
          if (this.exists(dir)) return { code: 1, stderr: `mkdir: cannot create directory '${dir}': File exists` };
          this.dirs.add(dir);
        }
        return {};
      }
      case "sha256sum": {
        const data = this.files.get(args[1] ?? "");
        if (!data) return { code: 1, stderr: "sha256sum: No such file or directory" };
        return { stdout: `${createHash("sha256").update(data).digest("hex")}  ${args[1]}\n` };
      }
      case "chmod":
        return {};
      case "mv":
      case "ln": {
        const [from, to] = [args[2] ?? "", args[3] ?? ""];
        const data = this.files.get(from);
        if (!data) return { code: 1, stderr: `${cmd}: cannot stat '${from}'` };
        this.files.set(to, data);
        if (cmd === "mv") this.files.delete(from);
        return {};
      }
      case "rm": {
        const recursive = args[0] === "-rf";
        for (const p of args.slice(2)) {
          this.files.delete(p);
          if (recursive) {
            for (const f of [...this.files.keys()]) if (f.startsWith(`${p}/`)) this.files.delete(f);
            for (const d of [...this.dirs]) if (d === p || d.startsWith(`${p}/`)) this.dirs.delete(d);
          }
        }
        return {};
      }
      case "systemctl":
        if (args[0] === "start") this.running = true;
        if (args[0] === "stop" || args[0] === "disable") this.running = false;
        return {};
      case "tail":
      case "journalctl":
        return { stdout: '{"level":30,"time":"2026-01-01T00:00:00.000Z","msg":"agent starting"}\n' };
      default:
        break;
    }
    if (cmd === this.tools.node && args[0] === "--version")
      return { stdout: `${this.opts.nodeVersion ?? "v20.20.0"}\n` };
    if (cmd === this.tools.node) return this.runAgent(args);
    return { code: 127, stderr: `${cmd}: not known to the fake gateway` };
  }

  private runAgent([bin = "", sub, ...rest]: readonly string[]): FakeReply {
    const text = this.files.get(bin)?.toString() ?? "";
    const m = /^fake-agent (\S+)/.exec(text);
    if (!m) return { code: 1, stderr: `node: cannot run ${bin}` };
    if (sub === "version") return { stdout: `${m[1]}\n` };
    if (sub === "enroll") {
      const option = (name: string) => (rest.includes(name) ? (rest[rest.indexOf(name) + 1] ?? "") : null);
      const tokenFile = option("--token-file");
      const token = tokenFile === null ? null : this.files.get(tokenFile)?.toString().trim();
      if (!token?.startsWith("ghe_")) return { code: 2, stderr: "enroll: no token in --token-file" };
      this.enrollTokens.push(token);
      const stateDir = option("--state-dir") ?? "";
      this.dirs.add(stateDir);
      this.files.set(`${stateDir}/credentials.json`, Buffer.from("{}"));
      return { stdout: 'Enrolled as gateway "fake".\n' };
    }
    if (sub === "status") return { stdout: '{ "enrolled": true }\n' };
    return { code: 2 };
  }
}
