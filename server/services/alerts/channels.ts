import { randomUUID } from "node:crypto";
import { z } from "zod";
import {
  type ChannelCreate,
  type ChannelSecret,
  type ChannelSettings,
  type ChannelUpdate,
  webhookUrlHint,
} from "../../../core/alerts/channel";
import type { Db, Tx } from "../../db";
import { invalid, isUniqueViolation, notFound, staleVersion, conflict } from "../../errors";
import { type Actor, type RequestMeta, recordAudit } from "../audit/record";
import { openChannelSecret, sealChannelSecret } from "./secret";

/**
 * A cluster's alert channels: admins add, change and delete them; everyone who can see the
 * cluster sees them, without their secrets (a hint of the webhook URL, whether a password is kept).
 */

/** The settings a channel keeps in the clear. */
const zStoredSettings = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("webhook"), format: z.enum(["json", "slack"]) }),
  z.object({
    kind: z.literal("email"),
    host: z.string(),
    port: z.number(),
    security: z.enum(["none", "starttls", "tls"]),
    username: z.string(),
    from: z.string(),
    to: z.array(z.string()),
  }),
]);
export type StoredSettings = z.infer<typeof zStoredSettings>;

export const CHANNEL_SELECT = {
  id: true,
  clusterId: true,
  name: true,
  kind: true,
  settings: true,
  secret: true,
  secretHint: true,
  enabled: true,
  lastAt: true,
  lastOk: true,
  lastError: true,
  version: true,
} as const;

export interface ChannelRow {
  id: string;
  clusterId: string;
  name: string;
  kind: string;
  settings: string;
  secret: string;
  secretHint: string;
  enabled: boolean;
  lastAt: Date | null;
  lastOk: boolean | null;
  lastError: string;
  version: number;
}

export function storedSettings(row: Pick<ChannelRow, "settings">): StoredSettings {
  return zStoredSettings.parse(JSON.parse(row.settings));
}

/** A channel as the browser sees it: never its secrets. */
export function channelView(row: ChannelRow) {
  const settings = storedSettings(row);
  return {
    id: row.id,
    clusterId: row.clusterId,
    name: row.name,
    kind: settings.kind,
    enabled: row.enabled,
    settings,
    /** webhook: the URL's origin and last characters; email: "password kept" or "" */
    secretHint: row.secretHint,
    lastAt: row.lastAt,
    lastOk: row.lastOk,
    lastError: row.lastError,
    version: row.version,
  };
}
export type ChannelView = ReturnType<typeof channelView>;

/** Splits input settings into what is kept in the clear, the secret and its hint. */
function splitSettings(
  settings: ChannelSettings,
  stored: { kind: string; secret: ChannelSecret } | null,
): { clear: StoredSettings; secret: ChannelSecret; hint: string } {
  const sameKind = stored !== null && stored.kind === settings.kind;
  if (settings.kind === "webhook") {
    const url = settings.url ?? (sameKind ? stored.secret.url : undefined);
    if (url === undefined) {
      throw invalid("URL is required", [{ path: ["settings", "url"], message: "URL is required" }]);
    }
    return { clear: { kind: "webhook", format: settings.format }, secret: { url }, hint: webhookUrlHint(url) };
  }
  const password = settings.password ?? (sameKind ? stored.secret.password : undefined) ?? "";
  if (settings.username !== "" && password === "") {
    const message = "Password is required when a user name is given";
    throw invalid(message, [{ path: ["settings", "password"], message }]);
  }
  const { password: _omit, ...clear } = settings;
  return { clear, secret: password === "" ? {} : { password }, hint: password === "" ? "" : "password kept" };
}

async function clusterOrThrow(db: Db | Tx, clusterId: string) {
  const c = await db.cluster.findUnique({ where: { id: clusterId }, select: { id: true, name: true } });
  if (c === null) throw notFound("The cluster");
  return c;
}

export async function getChannelOrThrow(db: Db | Tx, id: string): Promise<ChannelRow> {
  const row = await db.alertChannel.findUnique({ where: { id }, select: CHANNEL_SELECT });
  if (row === null) throw notFound("The alert channel");
  return row;
}

const nameTaken = (name: string) => {
  const message = `This cluster already has an alert channel named "${name}"`;
  return invalid(message, [{ path: ["name"], message }]);
};

export async function listChannels(db: Db, clusterId: string) {
  await clusterOrThrow(db, clusterId);
  const rows = await db.alertChannel.findMany({
    where: { clusterId },
    select: CHANNEL_SELECT,
    orderBy: { name: "asc" },
  });
  return rows.map(channelView);
}

export async function createChannel(db: Db, actor: Actor, meta: RequestMeta, input: ChannelCreate) {
  const id = randomUUID();
  const split = splitSettings(input.settings, null);
  const secret = sealChannelSecret(id, split.secret);
  try {
    return await db.$transaction(async (tx) => {
      await clusterOrThrow(tx, input.clusterId);
      const row = await tx.alertChannel.create({
        data: {
          id,
          clusterId: input.clusterId,
          name: input.name,
          kind: split.clear.kind,
          settings: JSON.stringify(split.clear),
          secret,
          secretHint: split.hint,
          enabled: input.enabled,
        },
        select: CHANNEL_SELECT,
      });
      const view = channelView(row);
      await recordAudit(tx, {
        actor,
        meta,
        action: "alert_channel.create",
        clusterId: input.clusterId,
        targetType: "alert_channel",
        targetId: id,
        after: auditView(view),
      });
      return view;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw nameTaken(input.name);
    throw e;
  }
}

/** What the audit log keeps of a channel: its settings and the hint, never a secret. */
function auditView(v: ChannelView) {
  return { name: v.name, kind: v.kind, enabled: v.enabled, settings: v.settings, secretHint: v.secretHint };
}

export async function updateChannel(db: Db, actor: Actor, meta: RequestMeta, input: ChannelUpdate) {
  const before = await getChannelOrThrow(db, input.id);
  let stored: ChannelSecret = {};
  const needsStored =
    input.settings.kind === before.kind &&
    (input.settings.kind === "webhook" ? input.settings.url === undefined : input.settings.password === undefined);
  if (needsStored) {
    try {
      stored = openChannelSecret(before.id, before.secret);
    } catch (e) {
      throw invalid(`The stored secret cannot be opened (${(e as Error).message}); enter it again`);
    }
  }
  const split = splitSettings(input.settings, { kind: before.kind, secret: stored });
  const secret = sealChannelSecret(before.id, split.secret);
  try {
    return await db.$transaction(async (tx) => {
      const { count } = await tx.alertChannel.updateMany({
        where: { id: input.id, version: input.version },
        data: {
          name: input.name,
          kind: split.clear.kind,
          settings: JSON.stringify(split.clear),
          secret,
          secretHint: split.hint,
          enabled: input.enabled,
          version: { increment: 1 },
        },
      });
      if (count === 0) throw staleVersion(`Alert channel "${before.name}"`);
      const view = channelView(await getChannelOrThrow(tx, input.id));
      await recordAudit(tx, {
        actor,
        meta,
        action: "alert_channel.update",
        clusterId: before.clusterId,
        targetType: "alert_channel",
        targetId: before.id,
        before: auditView(channelView(before)),
        after: auditView(view),
      });
      return view;
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw nameTaken(input.name);
    throw e;
  }
}

export async function deleteChannel(db: Db, actor: Actor, meta: RequestMeta, input: { id: string; version: number }) {
  await db.$transaction(async (tx) => {
    const before = await getChannelOrThrow(tx, input.id);
    if (before.version !== input.version) throw staleVersion(`Alert channel "${before.name}"`);
    const { count } = await tx.alertChannel.deleteMany({ where: { id: input.id, version: input.version } });
    if (count === 0) throw conflict(`Alert channel "${before.name}" was changed or deleted a moment ago`);
    await recordAudit(tx, {
      actor,
      meta,
      action: "alert_channel.delete",
      clusterId: before.clusterId,
      targetType: "alert_channel",
      targetId: before.id,
      before: auditView(channelView(before)),
    });
  });
  return { ok: true as const };
}
