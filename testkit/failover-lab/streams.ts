import { fileURLToPath } from "node:url";
import type { ClusterLab, LabProcess } from "./cluster-lab";

/** The steady streams of tools/stream.mjs and the echo service they talk to, typed. */

export const TOOLS = {
  echo: fileURLToPath(new URL("./tools/echo.mjs", import.meta.url)),
  stream: fileURLToPath(new URL("./tools/stream.mjs", import.meta.url)),
};
export const ECHO_UDP = 6001;
export const ECHO_TCP = 6000;

export interface StreamEvent {
  t: number;
  event: "reply" | "gap" | "open" | "closed" | "summary";
  seq?: number;
  seen?: string;
  from?: number;
  to?: number;
  ms?: number;
  reason?: string;
  sent?: number;
  received?: number;
  maxGapMs?: number;
  connections?: Array<{ opened: number; closed: number | null; reason: string | null; seen: string | null }>;
}

export interface Stream {
  process: LabProcess;
  events(): StreamEvent[];
  /** the address the server saw most recently (without the port) */
  seenNow(): string | null;
  stop(): Promise<StreamEvent | undefined>;
}

function parse(text: string): StreamEvent[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as StreamEvent);
}

/** What the streams need of a lab: where the server is and a way to start processes. */
export type StreamLab = Pick<ClusterLab, "spawn" | "server"> & { ns: { server: string } };

export async function startEcho(lab: StreamLab, seconds = 600): Promise<LabProcess> {
  const proc = lab.spawn(lab.ns.server, [
    "node",
    TOOLS.echo,
    "--address",
    lab.server,
    "--udp",
    String(ECHO_UDP),
    "--tcp",
    String(ECHO_TCP),
    "--seconds",
    String(seconds),
  ]);
  const until = Date.now() + 10_000;
  while (!proc.stdout().includes('"ready":true')) {
    if (Date.now() > until || proc.child.exitCode !== null) throw new Error(`echo server failed: ${proc.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return proc;
}

export function startStream(
  lab: StreamLab,
  clientNs: string,
  /** gapMs: a silence longer than this is printed (default 40 ms; below the interval every reply is) */
  opts: { proto: "udp" | "tcp"; seconds: number; intervalMs?: number; sport?: number; gapMs?: number },
): Stream {
  const args = ["node", TOOLS.stream, "--proto", opts.proto, "--dst", lab.server];
  args.push("--port", String(opts.proto === "udp" ? ECHO_UDP : ECHO_TCP));
  args.push("--interval", String(opts.intervalMs ?? 10), "--seconds", String(opts.seconds));
  if (opts.sport !== undefined) args.push("--sport", String(opts.sport));
  if (opts.gapMs !== undefined) args.push("--gap", String(opts.gapMs));
  const proc = lab.spawn(clientNs, args);
  const events = () => parse(proc.stdout());
  return {
    process: proc,
    events,
    seenNow() {
      const last = events()
        .filter((e) => e.event === "reply")
        .at(-1);
      return last?.seen?.split(":")[0] ?? null;
    },
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      return events().find((e) => e.event === "summary");
    },
  };
}

/** The first reply after `t` whose server-seen address is in `addresses`, or undefined. */
export function firstReplyFrom(
  events: StreamEvent[],
  addresses: readonly string[],
  t: number,
): StreamEvent | undefined {
  return events.find((e) => e.event === "reply" && e.t >= t && addresses.includes(e.seen?.split(":")[0] ?? ""));
}
