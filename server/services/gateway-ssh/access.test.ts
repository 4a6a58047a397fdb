import { ed25519KeyPair } from "../../../testkit/fakes/ssh-keys";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../errors";
import { fakeConnector } from "../../../testkit/fakes/ssh";
import type { Actor } from "../audit/record";
import { createGateway } from "../gateways/gateways";
import { type GatewayTestDb, gatewayTestDb, makeCluster, makeUser, META } from "../../../testkit/server/gateways";
import {
  checkedAuth,
  deleteCredentials,
  getAccess,
  openAuth,
  openGatewaySession,
  sealAuth,
  secretKeyFor,
  setCredentials,
  trustHostKey,
} from "./access";
import type { GatewaySshDeps } from "./deps";
import { FakeGateway } from "../../../testkit/fakes/gateway-host";

const KEY_A = { algorithm: "ssh-ed25519", fingerprint: `SHA256:${"A".repeat(43)}` };
const KEY_B = { algorithm: "ssh-ed25519", fingerprint: `SHA256:${"B".repeat(43)}` };
const secretHex = randomBytes(32).toString("hex");

let t: GatewayTestDb;
let admin: Actor;
let gatewayId: string;
const gw = new FakeGateway({ hostKey: { ...KEY_A }, pid1: "systemd", password: "s3cret" });
const connector = fakeConnector({ "192.0.2.7:22": gw });
const deps = (secret: string | null = secretHex): GatewaySshDeps => ({
  db: t.db,
  connector,
  bundle: async () => Promise.reject(new Error("not used")),
  unitTemplate: async () => "",
  secretKeyText: () => secret ?? undefined,
  onlineTimeoutMs: 1000,
  onlinePollMs: 10,
});

beforeAll(async () => {
  t = await gatewayTestDb();
  admin = await makeUser(t.db, "admin", "admin");
  const { clusterId } = await makeCluster(t.db, admin);
  gatewayId = (await createGateway(t.db, admin, META, { clusterId, name: "gw", address: "" })).id;
});
afterAll(async () => {
  await t?.close();
});

const input = (extra: Record<string, unknown> = {}) => ({
  gatewayId,
  host: "192.0.2.7",
  port: 22,
  username: "root",
  auth: { kind: "password" as const, password: "s3cret" },
  hostKey: KEY_A,
  serviceMode: "auto" as const,
  installRoot: "",
  ...extra,
});

describe("kept SSH credentials", () => {
  it("are sealed per gateway and open only with the same key and gateway", () => {
    const key = randomBytes(32);
    const sealed = sealAuth(key, "gw1", { kind: "password", password: "pw" });
    expect(openAuth(key, "gw1", sealed)).toEqual({ kind: "password", password: "pw" });
    expect(() => openAuth(key, "gw2", sealed)).toThrow(/another gateway/);
  });

  it("need GATEHOUSE_SECRET_KEY, and say how to set it", () => {
    expect(() => secretKeyFor({ secretKeyText: () => undefined }, "store")).toThrow(
      /GATEHOUSE_SECRET_KEY is not set\. Set it to 32 random bytes .*openssl rand -hex 32/,
    );
    expect(() => secretKeyFor({ secretKeyText: () => "too-short" }, "store")).toThrow(/must be 32 bytes/);
    expect(secretKeyFor({ secretKeyText: () => secretHex }, "open").toString("hex")).toBe(secretHex);
  });

  it("check a private key before anything else happens", () => {
    const { private: privateKey } = ed25519KeyPair();
    expect(checkedAuth({ kind: "key", privateKey })).toEqual({ kind: "key", privateKey });
    const locked = ed25519KeyPair({
      passphrase: "pp",
      cipher: "aes256-ctr",
      rounds: 16,
    }).private;
    const refused = (() => {
      try {
        checkedAuth({ kind: "key", privateKey: locked });
      } catch (e) {
        return e as AppError;
      }
    })();
    expect(refused?.issues[0]?.path).toEqual(["auth", "privateKey"]);
    expect(refused?.message).toMatch(/^The private key cannot be used: .*passphrase/i);
    expect(checkedAuth({ kind: "key", privateKey: locked, passphrase: "pp" }).kind).toBe("key");
  });

  it("are stored only after a login works, never shown again, and audited", async () => {
    await expect(setCredentials(deps(null), admin, META, input())).rejects.toThrow(/GATEHOUSE_SECRET_KEY is not set/);
    await expect(
      setCredentials(deps(), admin, META, input({ auth: { kind: "password", password: "wrong" } })),
    ).rejects.toMatchObject({ code: "INVALID", message: expect.stringContaining("refused the SSH login") });
    expect(await getAccess(t.db, gatewayId)).toBeNull();

    const shown = await setCredentials(deps(), admin, META, input());
    expect(shown).toMatchObject({ hasCredentials: true, authKind: "password", serviceMode: "systemd", hostKey: KEY_A });
    expect(JSON.stringify(shown)).not.toContain("s3cret");
    const row = await t.db.gatewaySsh.findUniqueOrThrow({ where: { gatewayId } });
    expect(row.secret).not.toContain("s3cret");
    const event = await t.db.auditEvent.findFirstOrThrow({ where: { action: "gateway.ssh_credentials_set" } });
    expect(`${event.before}${event.after}`).not.toContain("s3cret");

    const session = await openGatewaySession(deps(), gatewayId);
    expect(session.access.username).toBe("root");
    session.remote.close();
    // another console key cannot open them
    await expect(openGatewaySession(deps(randomBytes(32).toString("hex")), gatewayId)).rejects.toThrow(
      /sealed with another GATEHOUSE_SECRET_KEY/,
    );
  });

  it("refuse a changed host key until the new one is confirmed", async () => {
    gw.hostKey.fingerprint = KEY_B.fingerprint;
    try {
      await expect(openGatewaySession(deps(), gatewayId)).rejects.toMatchObject({ code: "CONFLICT" });
      await expect(trustHostKey(deps(), admin, META, { gatewayId, hostKey: KEY_A })).rejects.toThrow(
        /not the key you confirmed/,
      );
      const access = await trustHostKey(deps(), admin, META, { gatewayId, hostKey: KEY_B });
      expect(access.hostKey).toEqual(KEY_B);
      const session = await openGatewaySession(deps(), gatewayId);
      session.remote.close();
    } finally {
      gw.hostKey.fingerprint = KEY_A.fingerprint;
    }
  });

  it("can be deleted, keeping the target and pinned key", async () => {
    await deleteCredentials(deps(), admin, META, { gatewayId });
    expect(await getAccess(t.db, gatewayId)).toMatchObject({
      hasCredentials: false,
      authKind: null,
      host: "192.0.2.7",
    });
    await expect(openGatewaySession(deps(), gatewayId)).rejects.toThrow(/not kept or have been deleted/);
    await expect(deleteCredentials(deps(), admin, META, { gatewayId })).rejects.toBeInstanceOf(AppError);
    expect(await t.db.auditEvent.count({ where: { action: "gateway.ssh_credentials_delete" } })).toBe(1);
  });
});
