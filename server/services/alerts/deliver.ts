import { alertEvent, testEvent } from "../../../core/alerts/message";
import { ATTEMPT_TIMEOUT_MS, retryDelayMs } from "../../../core/alerts/retry";
import type { Db } from "../../db";
import { type Actor, type RequestMeta, recordAudit, SYSTEM_ACTOR, SYSTEM_META } from "../audit/record";
import { getChannelOrThrow, storedSettings } from "./channels";
import { alertDeps } from "./deps";
import { openChannelSecret } from "./secret";
import { sendThroughChannel } from "./send";

/**
 * Sends the messages that are due. Each is claimed first (pending -> sending, with its attempt
 * count as the condition), so of several replicas only one sends it. A send that fails is retried
 * with backoff up to MAX_ATTEMPTS and then marked failed; the channel shows the last outcome, and
 * every message sent or given up is an audit event. A claim left by a replica that died while
 * sending expires and the message is sent again: at least once, and exactly once when nothing
 * crashes mid-send (a receiver can drop repeats by the event id).
 */

/** How long a claim holds: longer than one attempt can take. */
const CLAIM_MS = ATTEMPT_TIMEOUT_MS + 30_000;
const BATCH = 50;

const DELIVERY_SELECT = {
  id: true,
  phase: true,
  state: true,
  attempts: true,
  incidentId: true,
  channelId: true,
  incident: {
    select: {
      id: true,
      key: true,
      kind: true,
      severity: true,
      subject: true,
      detail: true,
      openedAt: true,
      resolvedAt: true,
      cluster: { select: { id: true, name: true } },
    },
  },
  channel: {
    select: { id: true, name: true, settings: true, secret: true, enabled: true, clusterId: true },
  },
} as const;

/** Claims one delivery for this process; false when another sender has it. */
export async function claimDelivery(
  db: Db,
  d: { id: string; state: string; attempts: number },
  now: Date,
): Promise<boolean> {
  const { count } = await db.alertDelivery.updateMany({
    where: { id: d.id, state: d.state, attempts: d.attempts },
    data: { state: "sending", attempts: d.attempts + 1, claimedUntil: new Date(now.getTime() + CLAIM_MS) },
  });
  return count === 1;
}

/** Sends every message that is due now; resolves with how many went out. */
export async function deliverDue(db: Db, now = new Date()): Promise<number> {
  const due = await db.alertDelivery.findMany({
    where: {
      OR: [
        { state: "pending", nextAttemptAt: { lte: now } },
        { state: "sending", claimedUntil: { lt: now } },
      ],
    },
    select: DELIVERY_SELECT,
    orderBy: { createdAt: "asc" },
    take: BATCH,
  });
  let sent = 0;
  for (const d of due) {
    if (d.phase === "resolved") {
      // the resolution waits for the opening to be sent or given up, so a channel never gets them out of order
      const first = await db.alertDelivery.findFirst({
        where: {
          incidentId: d.incidentId,
          channelId: d.channelId,
          phase: "open",
          state: { in: ["pending", "sending"] },
        },
        select: { id: true },
      });
      if (first !== null) continue;
    }
    if (!d.channel.enabled) {
      await db.alertDelivery.updateMany({ where: { id: d.id, state: d.state }, data: { state: "skipped" } });
      continue;
    }
    if (!(await claimDelivery(db, d, now))) continue;
    if (await attempt(db, d, d.attempts + 1)) sent++;
  }
  return sent;
}

type DueDelivery = Awaited<ReturnType<typeof findDue>>[number];
const findDue = (db: Db) => db.alertDelivery.findMany({ select: DELIVERY_SELECT });

async function attempt(db: Db, d: DueDelivery, attemptNo: number): Promise<boolean> {
  const event = alertEvent(d.incident.cluster, { ...d.incident, severity: sev(d.incident.severity) }, phaseOf(d.phase));
  let error = "";
  try {
    const secret = openChannelSecret(d.channel.id, d.channel.secret);
    await sendThroughChannel(storedSettings(d.channel), secret, event);
  } catch (e) {
    error = (e as Error).message || String(e);
  }
  const at = new Date();
  const deps = alertDeps();
  const wait = error === "" ? null : retryDelayMs(attemptNo, deps.firstRetryMs, deps.maxRetryMs);
  const state = error === "" ? "sent" : wait === null ? "failed" : "pending";
  await db.$transaction(async (tx) => {
    await tx.alertDelivery.update({
      where: { id: d.id },
      data: {
        state,
        lastError: error,
        claimedUntil: null,
        ...(state === "sent" ? { sentAt: at } : {}),
        ...(wait !== null ? { nextAttemptAt: new Date(at.getTime() + wait) } : {}),
      },
      select: { id: true },
    });
    await tx.alertChannel.updateMany({
      where: { id: d.channel.id },
      data: { lastAt: at, lastOk: error === "", lastError: error },
    });
    if (state !== "pending") {
      await recordAudit(tx, {
        actor: SYSTEM_ACTOR,
        meta: SYSTEM_META,
        action: state === "sent" ? "alert.sent" : "alert.failed",
        clusterId: d.channel.clusterId,
        targetType: "alert_channel",
        targetId: d.channel.id,
        after: {
          channel: d.channel.name,
          phase: d.phase,
          key: d.incident.key,
          kind: d.incident.kind,
          subject: d.incident.subject,
          attempts: attemptNo,
          ...(error === "" ? {} : { error }),
        },
      });
    }
  });
  return state === "sent";
}

const sev = (s: string) => (s === "warning" ? ("warning" as const) : ("critical" as const));
const phaseOf = (p: string) => (p === "resolved" ? ("resolved" as const) : ("open" as const));

/** "Send test": one attempt now, its outcome on the channel and in the audit log. */
export async function sendTestMessage(db: Db, actor: Actor, meta: RequestMeta, channelId: string) {
  const channel = await getChannelOrThrow(db, channelId);
  const cluster = await db.cluster.findUniqueOrThrow({
    where: { id: channel.clusterId },
    select: { id: true, name: true },
  });
  const at = new Date();
  let error = "";
  try {
    const secret = openChannelSecret(channel.id, channel.secret);
    await sendThroughChannel(storedSettings(channel), secret, testEvent(cluster, channel.name, at));
  } catch (e) {
    error = (e as Error).message || String(e);
  }
  await db.$transaction(async (tx) => {
    await tx.alertChannel.updateMany({
      where: { id: channel.id },
      data: { lastAt: new Date(), lastOk: error === "", lastError: error },
    });
    await recordAudit(tx, {
      actor,
      meta,
      action: error === "" ? "alert.test_sent" : "alert.test_failed",
      clusterId: channel.clusterId,
      targetType: "alert_channel",
      targetId: channel.id,
      after: { channel: channel.name, ...(error === "" ? {} : { error }) },
    });
  });
  return { ok: error === "", error };
}
