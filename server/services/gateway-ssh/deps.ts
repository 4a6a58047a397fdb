import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Db } from "../../db";
import { env } from "../../env";
import { createSsh2Connector } from "../../ssh/client";
import type { SshConnector } from "../../ssh/types";
import { type AgentBundle, ensureAgentBundle } from "./bundle";

/**
 * What the SSH services need from the outside world, in one place so tests can hand in their own:
 * the database, a way to reach gateways, the agent build to push, and the console's secret key.
 */
export interface GatewaySshDeps {
  db: Db;
  connector: SshConnector;
  bundle(): Promise<AgentBundle>;
  /** the shipped systemd unit, agent/systemd/gatehouse-agent.service */
  unitTemplate(): Promise<string>;
  /** GATEHOUSE_SECRET_KEY as configured (unparsed); undefined when unset */
  secretKeyText(): string | undefined;
  /** how long a started or upgraded agent has to report to the console */
  onlineTimeoutMs: number;
  /** how often the console looks for that report */
  onlinePollMs: number;
}

const projectRoot = () => /*turbopackIgnore: true*/ process.cwd();

let override: Partial<Omit<GatewaySshDeps, "db">> | null = null;

/** For tests that drive the tRPC layer: replaces parts of the defaults until reset with null. */
export function overrideGatewaySshDeps(parts: Partial<Omit<GatewaySshDeps, "db">> | null): void {
  override = parts;
}

let connector: SshConnector | null = null;

export function gatewaySshDeps(db: Db): GatewaySshDeps {
  connector ??= createSsh2Connector();
  return {
    db,
    connector,
    bundle: () => ensureAgentBundle(projectRoot()),
    unitTemplate: () => readFile(join(projectRoot(), "agent", "systemd", "gatehouse-agent.service"), "utf8"),
    secretKeyText: () => env.GATEHOUSE_SECRET_KEY,
    onlineTimeoutMs: 60_000,
    onlinePollMs: 1_000,
    ...override,
  };
}
