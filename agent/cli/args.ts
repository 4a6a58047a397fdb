import { parseArgs } from "node:util";
import { LOG_LEVELS, type LogLevel } from "../log";
import { DEFAULT_STATE_DIR } from "../state/store";

/** Command-line parsing: pure, so every usage error is tested without running anything. */
export type Command =
  | {
      name: "enroll";
      consoleUrl: string;
      /** the token itself, or null when it is read from tokenFile (kept out of the process list) */
      token: string | null;
      tokenFile: string | null;
      stateDir: string;
      logLevel: LogLevel;
    }
  | {
      name: "run";
      stateDir: string;
      logLevel: LogLevel;
      netns: string | null;
      /** where to serve Prometheus metrics; null: nowhere */
      metricsListen: { host: string; port: number } | null;
    }
  | { name: "render"; specFile: string; logLevel: LogLevel }
  | { name: "apply"; specFile: string; logLevel: LogLevel }
  | { name: "status"; stateDir: string; json: boolean; logLevel: LogLevel }
  | { name: "cleanup"; logLevel: LogLevel; netns: string | null }
  | { name: "version" }
  | { name: "help" };

export class UsageError extends Error {
  override name = "UsageError";
}

export const USAGE = `Usage: gatehouse-agent <command> [options]

Commands:
  enroll --console URL --token TOKEN   trade a one-time enrollment token for this gateway's agent token
         (or --token-file FILE, which keeps the token out of the process list)
  run                                  keep the gateway's datapath in the state the console publishes
  render --spec FILE                   print the nftables ruleset for a gateway spec (JSON)
  apply --spec FILE                    apply a gateway spec once; exits 1 with nft's error on failure
  status [--json]                      what this agent runs and how its last apply went
  cleanup                              remove the agent's nft tables, ip rules, routing tables and the
                                       on-link pool addresses it added (stop the agent first)
  version                              print the agent version

Options:
  --state-dir DIR     where the agent keeps its token and last good spec (default ${DEFAULT_STATE_DIR})
  --log-level LEVEL   ${LOG_LEVELS.join(", ")} (default info); logs are JSON lines on stderr
  --metrics-listen ADDRESS:PORT
                      run: serve Prometheus metrics at http://ADDRESS:PORT/metrics (off without it;
                      e.g. 127.0.0.1:9464, or the management address a Prometheus server reaches)
  --netns NAME        run, cleanup: drive the datapath of network namespace NAME (nft, ip, conntrack and the
                      probes run there) while the agent talks to the console from where it runs; for labs
`;

const OPTIONS = {
  console: { type: "string" },
  token: { type: "string" },
  "token-file": { type: "string" },
  "state-dir": { type: "string" },
  spec: { type: "string" },
  json: { type: "boolean" },
  "log-level": { type: "string" },
  netns: { type: "string" },
  "metrics-listen": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const ALLOWED: Record<string, readonly string[]> = {
  enroll: ["console", "token", "token-file", "state-dir", "log-level"],
  run: ["state-dir", "log-level", "netns", "metrics-listen"],
  render: ["spec", "log-level"],
  apply: ["spec", "log-level"],
  status: ["state-dir", "json", "log-level"],
  cleanup: ["log-level", "netns"],
  version: [],
};

const NETNS_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** ADDRESS:PORT with an IPv4 address (or localhost) and a port 1-65535; undefined: not given. */
function parseListen(text: string | undefined): { host: string; port: number } | null {
  if (text === undefined) return null;
  const m = /^(localhost|\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  const octetsOk = m?.[1] === "localhost" || (m?.[1] ?? "").split(".").every((o) => Number(o) <= 255);
  if (m === null || !octetsOk || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError("--metrics-listen must be ADDRESS:PORT, e.g. 127.0.0.1:9464");
  }
  return { host: m[1] as string, port };
}

export function parseCommand(argv: readonly string[]): Command {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  const [name, ...extra] = positionals;
  if (values.help || name === undefined || name === "help") return { name: "help" };
  const allowed = ALLOWED[name];
  if (allowed === undefined) throw new UsageError(`unknown command "${name}"`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  for (const key of Object.keys(values)) {
    if (values[key as keyof typeof values] !== undefined && !allowed.includes(key)) {
      throw new UsageError(`${name} does not take --${key}`);
    }
  }
  const logLevel = (values["log-level"] ?? "info") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}`);
  const stateDir = values["state-dir"] ?? DEFAULT_STATE_DIR;
  const need = (key: "console" | "token" | "spec"): string => {
    const v = values[key];
    if (v === undefined || v === "") throw new UsageError(`${name} needs --${key}`);
    return v;
  };
  switch (name) {
    case "enroll": {
      const token = values.token ?? null;
      const tokenFile = values["token-file"] ?? null;
      if ((token === null) === (tokenFile === null) || token === "" || tokenFile === "") {
        throw new UsageError("enroll needs either --token or --token-file");
      }
      return { name, consoleUrl: need("console"), token, tokenFile, stateDir, logLevel };
    }
    case "run":
    case "cleanup": {
      const netns = values.netns ?? null;
      if (netns !== null && !NETNS_RE.test(netns)) {
        throw new UsageError("--netns must be a network namespace name (letters, digits, '.', '_', '-')");
      }
      return name === "run"
        ? { name, stateDir, logLevel, netns, metricsListen: parseListen(values["metrics-listen"]) }
        : { name, logLevel, netns };
    }
    case "render":
    case "apply":
      return { name, specFile: need("spec"), logLevel };
    case "status":
      return { name, stateDir, json: values.json === true, logLevel };
    default:
      return { name: "version" };
  }
}
