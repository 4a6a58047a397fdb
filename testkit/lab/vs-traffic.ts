import type { Lab } from "./lab";
import { type Attempt, connect, type Listener } from "./traffic";

/**
 * Which real server took each connection to a virtual service: connect() from a client, then
 * each attempt's source port looked up among the records the named listeners made during this
 * call only (source ports come round again over a test run).
 */
export async function servedBy(
  lab: Lab,
  clientNs: string,
  listeners: ReadonlyArray<readonly [string, Listener]>,
  opts: Parameters<typeof connect>[2],
): Promise<{ attempts: Attempt[]; served: string[] }> {
  const before = new Map(listeners.map(([name, l]) => [name, l.records().length]));
  const attempts = await connect(lab, clientNs, opts);
  const byPort = new Map<number, string>();
  for (const [name, l] of listeners) {
    for (const r of l.records().slice(before.get(name) ?? 0)) if (r.proto === opts.proto) byPort.set(r.peerPort, name);
  }
  const served = attempts.map((a) => (a.ok && a.sport !== null ? (byPort.get(a.sport) ?? "unknown") : "failed"));
  return { attempts, served };
}

/** Waits until check() holds, polling every 20 ms; throws after ms. */
export async function until(check: () => boolean, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
