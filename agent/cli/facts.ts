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
}

/** A facts reader. nft and kernel versions do not change while the agent runs: they are read once. */
export function factsGatherer({ runner, warn }: FactsDeps): () => Promise<Facts> {
  let nftVersion = "";
  return async () => {
    if (nftVersion === "") {
      const nft = await runner.run(["nft", "--version"], { timeoutMs: 5_000 });
      if (nft.code === 0) nftVersion = parseNftVersion(nft.stdout);
      else warn(`cannot read the nft version: ${(nft.stderr || nft.stdout).trim().slice(0, 200)}`);
    }
    return {
      hostname: hostname().slice(0, 255),
      kernel: release().slice(0, 128),
      nftVersion,
      interfaces: await interfaces(runner, warn),
    };
  };
}

async function interfaces(runner: CommandRunner, warn: (msg: string) => void): Promise<InterfaceFact[]> {
  const r = await runner.run(["ip", "-j", "addr"], { timeoutMs: 5_000 });
  if (r.code !== 0) {
    warn(`cannot list interfaces: ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
    return [];
  }
  try {
    return parseIpAddr(r.stdout);
  } catch (e) {
    warn(`cannot parse \`ip -j addr\`: ${(e as Error).message.slice(0, 200)}`);
    return [];
  }
}
