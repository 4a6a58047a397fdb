import { z } from "zod";
import type { Db, Tx } from "../../db";
import { AppError, conflict, invalid, notFound } from "../../errors";
import { privateKeyProblem } from "../../ssh/keys";
import { type HostKey, type SshAuth, type SshEndpoint, SshError } from "../../ssh/types";
import { type Actor, type RequestMeta, recordAudit } from "../audit/record";
import { getGatewayOrThrow } from "../gateways/gateways";
import { probe } from "./commands";
import type { GatewaySshDeps } from "./deps";
import type { ServiceMode, SetCredentialsInput, SshAuthInput } from "./inputs";
import { type AgentLayout, agentLayout } from "./layout";
import { chooseServiceMode } from "./prerequisites";
import { RemoteHost } from "./remote";
import { open, parseSecretKey, SealedValueError, SecretKeyError, seal } from "./secret-box";

/**
 * How the console reaches a gateway over SSH: the pinned host key, and the login credentials
 * sealed with GATEHOUSE_SECRET_KEY. Credentials are never returned to a browser: reading access
 * gives the target, the pinned key and whether credentials are kept, nothing more.
 */

const NO_KEY_TO_STORE =
  "The console cannot keep SSH credentials: GATEHOUSE_SECRET_KEY is not set. Set it to 32 random bytes " +
  "(64 hex digits or base64, e.g. the output of `openssl rand -hex 32`) and restart the console, " +
  "or go ahead without keeping the credentials.";

/** The secret key, or an error that tells an admin what to configure. */
export function secretKeyFor(deps: Pick<GatewaySshDeps, "secretKeyText">, purpose: "store" | "open"): Buffer {
  const text = deps.secretKeyText();
  if (text === undefined || text.trim() === "") {
    throw invalid(
      purpose === "store"
        ? NO_KEY_TO_STORE
        : "The stored SSH credentials cannot be opened: GATEHOUSE_SECRET_KEY is not set on this console.",
    );
  }
  try {
    return parseSecretKey(text);
  } catch (e) {
    if (e instanceof SecretKeyError) throw invalid(`The console's ${e.message}.`);
    throw e;
  }
}

const zSealedAuth = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("key"), privateKey: z.string(), passphrase: z.string().optional() }),
  z.object({ kind: z.literal("password"), password: z.string() }),
]);

const context = (gatewayId: string) => `gatehouse/gateway-ssh/${gatewayId}`;

export function sealAuth(key: Buffer, gatewayId: string, auth: SshAuth): string {
  return seal(key, JSON.stringify(auth), context(gatewayId));
}

export function openAuth(key: Buffer, gatewayId: string, sealed: string): SshAuth {
  return zSealedAuth.parse(JSON.parse(open(key, sealed, context(gatewayId))));
}

/** The input's credentials after checking a key can be used at all (a field error otherwise). */
export function checkedAuth(auth: SshAuthInput): SshAuth {
  if (auth.kind === "password") return { kind: "password", password: auth.password };
  const problem = privateKeyProblem(auth.privateKey, auth.passphrase || undefined);
  if (problem !== null) {
    throw invalid(`The private key cannot be used: ${problem}`, [
      { path: ["auth", "privateKey"], message: `cannot be used: ${problem}` },
    ]);
  }
  return {
    kind: "key",
    privateKey: auth.privateKey,
    ...(auth.passphrase ? { passphrase: auth.passphrase } : {}),
  };
}

/** SSH failures as the service error type: a changed host key is a conflict, the rest bad input. */
export function sshAppError(e: unknown): unknown {
  if (e instanceof SshError) return new AppError(e.kind === "host_key_changed" ? "CONFLICT" : "INVALID", e.message);
  return e;
}

const ACCESS_SELECT = {
  gatewayId: true,
  host: true,
  port: true,
  username: true,
  hostKeyAlgorithm: true,
  hostKeyFingerprint: true,
  authKind: true,
  secret: true,
  serviceMode: true,
  installRoot: true,
  updatedAt: true,
} as const;

type AccessRow = {
  gatewayId: string;
  host: string;
  port: number;
  username: string;
  hostKeyAlgorithm: string;
  hostKeyFingerprint: string;
  authKind: string;
  secret: string | null;
  serviceMode: string;
  installRoot: string;
  updatedAt: Date;
};

const isServiceMode = (m: string): m is ServiceMode => m === "systemd" || m === "supervised";

export function presentAccess(row: AccessRow) {
  return {
    host: row.host,
    port: row.port,
    username: row.username,
    hostKey: { algorithm: row.hostKeyAlgorithm, fingerprint: row.hostKeyFingerprint },
    hasCredentials: row.secret !== null,
    authKind: row.secret === null ? null : row.authKind,
    serviceMode: isServiceMode(row.serviceMode) ? row.serviceMode : null,
    installRoot: row.installRoot,
    updatedAt: row.updatedAt,
  };
}
export type PresentedAccess = ReturnType<typeof presentAccess>;

export async function getAccess(db: Db, gatewayId: string): Promise<PresentedAccess | null> {
  await getGatewayOrThrow(db, gatewayId);
  const row = await db.gatewaySsh.findUnique({ where: { gatewayId }, select: ACCESS_SELECT });
  return row ? presentAccess(row) : null;
}

export interface AccessRecord {
  host: string;
  port: number;
  username: string;
  hostKey: HostKey;
  /** null: keep none (and delete any kept before) */
  sealed: { authKind: SshAuth["kind"]; secret: string } | null;
  serviceMode: ServiceMode | "";
  installRoot: string;
}

export async function saveAccess(tx: Tx, gatewayId: string, a: AccessRecord): Promise<void> {
  const data = {
    host: a.host,
    port: a.port,
    username: a.username,
    hostKeyAlgorithm: a.hostKey.algorithm,
    hostKeyFingerprint: a.hostKey.fingerprint,
    authKind: a.sealed?.authKind ?? "",
    secret: a.sealed?.secret ?? null,
    serviceMode: a.serviceMode,
    installRoot: a.installRoot,
  };
  await tx.gatewaySsh.upsert({
    where: { gatewayId },
    create: { gatewayId, ...data },
    update: data,
    select: { gatewayId: true },
  });
}

/** Logs in with an open session's root access settled (root, or sudo after checking it works). */
export async function loginAsAdmin(
  deps: Pick<GatewaySshDeps, "connector">,
  target: { host: string; port: number; username: string },
  auth: SshAuth,
  hostKey: HostKey,
): Promise<RemoteHost> {
  const session = await deps.connector.connect(target, auth, hostKey);
  const remote = new RemoteHost(session);
  remote.reconnect = () => deps.connector.connect(target, auth, hostKey);
  try {
    const uid = await remote.run(probe.uid, { timeoutMs: 15_000 });
    remote.viaSudo = uid.stdout.trim() !== "0";
    return remote;
  } catch (e) {
    remote.close();
    throw e;
  }
}

export interface GatewaySession {
  remote: RemoteHost;
  gateway: { id: string; name: string; clusterId: string; agentVersion: string };
  access: PresentedAccess;
  layout: AgentLayout;
}

/** Logs in to an enrolled gateway with its kept credentials and its pinned host key. */
export async function openGatewaySession(deps: GatewaySshDeps, gatewayId: string): Promise<GatewaySession> {
  const gateway = await getGatewayOrThrow(deps.db, gatewayId);
  const row = await deps.db.gatewaySsh.findUnique({ where: { gatewayId }, select: ACCESS_SELECT });
  if (!row) {
    throw conflict(`Gateway "${gateway.name}" has no SSH access configured; add its SSH credentials on its page first`);
  }
  if (row.secret === null) {
    throw conflict(
      `The SSH credentials of gateway "${gateway.name}" were not kept or have been deleted; store them again on its page`,
    );
  }
  const key = secretKeyFor(deps, "open");
  let auth: SshAuth;
  try {
    auth = openAuth(key, gatewayId, row.secret);
  } catch (e) {
    if (e instanceof SealedValueError) {
      throw conflict(`The SSH credentials of gateway "${gateway.name}" cannot be opened: ${e.message}`);
    }
    throw e;
  }
  const access = presentAccess(row);
  const remote = await loginAsAdmin(
    deps,
    { host: row.host, port: row.port, username: row.username },
    auth,
    access.hostKey,
  ).catch((e: unknown) => {
    throw sshAppError(e);
  });
  return {
    remote,
    gateway: { id: gateway.id, name: gateway.name, clusterId: gateway.clusterId, agentVersion: gateway.agentVersion },
    access,
    layout: agentLayout(row.installRoot),
  };
}

/** The host key a server shows, for an admin to compare with the one on the console of the machine. */
export async function scanHostKey(deps: Pick<GatewaySshDeps, "connector">, endpoint: SshEndpoint): Promise<HostKey> {
  try {
    return await deps.connector.scanHostKey(endpoint);
  } catch (e) {
    throw sshAppError(e);
  }
}

/**
 * Keeps SSH access to an existing gateway (one enrolled by hand, or whose credentials were
 * deleted): logs in once with the confirmed host key to prove the credentials work, then seals
 * and stores them.
 */
export async function setCredentials(
  deps: GatewaySshDeps,
  actor: Actor,
  meta: RequestMeta,
  input: SetCredentialsInput,
): Promise<PresentedAccess> {
  const gateway = await getGatewayOrThrow(deps.db, input.gatewayId);
  const key = secretKeyFor(deps, "store");
  const auth = checkedAuth(input.auth);
  const target = { host: input.host, port: input.port, username: input.username };
  let serviceMode: ServiceMode;
  const remote = await loginAsAdmin(deps, target, auth, input.hostKey).catch((e: unknown) => {
    throw sshAppError(e);
  });
  try {
    const [pid1, booted] = await Promise.all([
      remote.run(probe.pid1, { timeoutMs: 15_000 }),
      remote.run(probe.systemdBooted, { timeoutMs: 15_000 }),
    ]);
    const choice = chooseServiceMode(
      input.serviceMode,
      { pid1: pid1.stdout, systemdBooted: booted.code === 0 },
      input.installRoot,
    );
    if (!choice.ok) throw invalid(choice.problem);
    serviceMode = choice.mode;
  } finally {
    remote.close();
  }
  const before = await deps.db.gatewaySsh.findUnique({ where: { gatewayId: gateway.id }, select: ACCESS_SELECT });
  await deps.db.$transaction(async (tx) => {
    await saveAccess(tx, gateway.id, {
      ...target,
      hostKey: input.hostKey,
      sealed: { authKind: auth.kind, secret: sealAuth(key, gateway.id, auth) },
      serviceMode,
      installRoot: input.installRoot,
    });
    await recordAudit(tx, {
      actor,
      meta,
      action: "gateway.ssh_credentials_set",
      clusterId: gateway.clusterId,
      targetType: "gateway",
      targetId: gateway.id,
      before: before ? auditView(presentAccess(before)) : null,
      after: { ...target, hostKey: input.hostKey, authKind: auth.kind, serviceMode, installRoot: input.installRoot },
    });
  });
  const row = await deps.db.gatewaySsh.findUniqueOrThrow({ where: { gatewayId: gateway.id }, select: ACCESS_SELECT });
  return presentAccess(row);
}

const auditView = (a: PresentedAccess) => ({
  host: a.host,
  port: a.port,
  username: a.username,
  hostKey: a.hostKey,
  hasCredentials: a.hasCredentials,
  serviceMode: a.serviceMode,
});

/** Forgets the kept credentials; the target and pinned host key stay for the next time. */
export async function deleteCredentials(
  deps: GatewaySshDeps,
  actor: Actor,
  meta: RequestMeta,
  input: { gatewayId: string },
): Promise<void> {
  const gateway = await getGatewayOrThrow(deps.db, input.gatewayId);
  await deps.db.$transaction(async (tx) => {
    const row = await tx.gatewaySsh.findUnique({ where: { gatewayId: gateway.id }, select: ACCESS_SELECT });
    if (!row || row.secret === null) throw conflict(`Gateway "${gateway.name}" has no kept SSH credentials`);
    await tx.gatewaySsh.update({
      where: { gatewayId: gateway.id },
      data: { secret: null, authKind: "" },
      select: { gatewayId: true },
    });
    await recordAudit(tx, {
      actor,
      meta,
      action: "gateway.ssh_credentials_delete",
      clusterId: gateway.clusterId,
      targetType: "gateway",
      targetId: gateway.id,
      before: auditView(presentAccess(row)),
    });
  });
}

/**
 * Pins a gateway's new host key after an admin compared it: the server must show exactly the
 * confirmed key now, or nothing changes.
 */
export async function trustHostKey(
  deps: GatewaySshDeps,
  actor: Actor,
  meta: RequestMeta,
  input: { gatewayId: string; hostKey: HostKey },
): Promise<PresentedAccess> {
  const gateway = await getGatewayOrThrow(deps.db, input.gatewayId);
  const row = await deps.db.gatewaySsh.findUnique({ where: { gatewayId: gateway.id }, select: ACCESS_SELECT });
  if (!row) throw notFound(`SSH access of gateway "${gateway.name}"`);
  const shown = await scanHostKey(deps, { host: row.host, port: row.port });
  if (shown.fingerprint !== input.hostKey.fingerprint || shown.algorithm !== input.hostKey.algorithm) {
    throw conflict(
      `${row.host}:${row.port} now shows ${shown.algorithm} ${shown.fingerprint}, not the key you confirmed; read the key again`,
    );
  }
  await deps.db.$transaction(async (tx) => {
    await tx.gatewaySsh.update({
      where: { gatewayId: gateway.id },
      data: { hostKeyAlgorithm: shown.algorithm, hostKeyFingerprint: shown.fingerprint },
      select: { gatewayId: true },
    });
    await recordAudit(tx, {
      actor,
      meta,
      action: "gateway.ssh_host_key_trust",
      clusterId: gateway.clusterId,
      targetType: "gateway",
      targetId: gateway.id,
      before: { hostKey: { algorithm: row.hostKeyAlgorithm, fingerprint: row.hostKeyFingerprint } },
      after: { hostKey: shown },
    });
  });
  const updated = await deps.db.gatewaySsh.findUniqueOrThrow({
    where: { gatewayId: gateway.id },
    select: ACCESS_SELECT,
  });
  return presentAccess(updated);
}
