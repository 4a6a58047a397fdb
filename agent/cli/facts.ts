import { hostname, release } from "node:os";
import { z } from "zod";
import type { CommandRunner } from "../apply/runner";
import type { Facts, InterfaceFact } from "../../core/protocol/agent-api";

/**
 * Facts the console shows about a gateway: its interfaces and addresses (`ip -j addr`), kernel
 * and nft version. Gathering never fails: a fact that cannot be read is left empty and the
 * reason goes to the log.
 */

const zIpAddr = z.array(
  z
    .object({
      ifname: z.string(),
      operstate: z.string().optional(),
      address: z.string().optional(),
      mtu: z.number().optional(),
      addr_info: z
        .array(z.object({ local: z.string().optional(), prefixlen: z.number().optional() }).loose())
        .optional(),
    })
    .loose(),
);

/** Parses `ip -j addr` output; throws on anything else. */
export function parseIpAddr(stdout: string): InterfaceFact[] {
  const links = zIpAddr.parse(JSON.parse(stdout));
  return links.slice(0, 1024).map((l) => ({
    name: l.ifname.slice(0, 64),
    state: (l.operstate ?? "").slice(0, 32),
    mac: (l.address ?? "").slice(0, 64),
    mtu: typeof l.mtu === "number" && Number.isInteger(l.mtu) && l.mtu >= 0 && l.mtu <= 1_000_000 ? l.mtu : null,
    addresses: (l.addr_info ?? [])
      .filter((a) => a.local !== undefined)
      .map((a) => (a.prefixlen === undefined ? String(a.local) : `${a.local}/${a.prefixlen}`).slice(0, 64))
      .slice(0, 256),
  }));
}

/** "nftables v1.0.6 (Lester Gooch #5)" -> "1.0.6 (Lester Gooch #5)" */
export function parseNftVersion(stdout: string): string {
  const line = stdout.trim().split("\n")[0] ?? "";
  return line.replace(/^nftables\s+v?/, "").slice(0, 128);
}

export interface FactsDeps {
  runner: CommandRunner;
  warn: (msg: string) => void;
  /** whether link and address changes are watched (changed() is called for them); else every call reads */
  watched?: () => boolean;
}

/** However quiet the link watcher, interfaces are read again this often. */
export const INTERFACES_MAX_AGE_MS = 5 * 60_000;

/** A facts reader; changed() says the interfaces or addresses changed (the link watcher's events). */
export interface FactsGatherer {
  (): Promise<Facts>;
  changed(): void;
}

/**
 * A facts reader. nft and kernel versions do not change while the agent runs: they are read once.
 * Interfaces and addresses (`ip -j addr`, for every status report) are read again after changed(),
 * after INTERFACES_MAX_AGE_MS, and at every call while nothing watches for changes; a failed read
 * is not kept.
 */
export function factsGatherer({ runner, warn, watched }: FactsDeps, now: () => number = Date.now): FactsGatherer {
  let nftVersion = "";
  let generation = 0;
  let kept: { generation: number; at: number; list: InterfaceFact[] } | undefined;
  const gather = async (): Promise<Facts> => {
    if (nftVersion === "") {
      const nft = await runner.run(["nft", "--version"], { timeoutMs: 5_000 });
      if (nft.code === 0) nftVersion = parseNftVersion(nft.stdout);
      else warn(`cannot read the nft version: ${(nft.stderr || nft.stdout).trim().slice(0, 200)}`);
    }
    const stale =
      kept === undefined ||
      kept.generation !== generation ||
      now() - kept.at > INTERFACES_MAX_AGE_MS ||
      (watched !== undefined && !watched());
    if (stale) {
      // a change reported while this read runs makes the next call read again
      const seen = generation;
      const at = now();
      const list = await interfaces(runner, warn);
      kept = list === null ? undefined : { generation: seen, at, list };
    }
    return {
      hostname: hostname().slice(0, 255),
      kernel: release().slice(0, 128),
      nftVersion,
      interfaces: kept?.list ?? [],
    };
  };
  return Object.assign(gather, {
    changed: () => {
      generation++;
    },
  });
}

async function interfaces(runner: CommandRunner, warn: (msg: string) => void): Promise<InterfaceFact[] | null> {
  const r = await runner.run(["ip", "-j", "addr"], { timeoutMs: 5_000 });
  if (r.code !== 0) {
    warn(`cannot list interfaces: ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
    return null;
  }
  try {
    return parseIpAddr(r.stdout);
  } catch (e) {
    warn(`cannot parse \`ip -j addr\`: ${(e as Error).message.slice(0, 200)}`);
    return null;
  }
}
