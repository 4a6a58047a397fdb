import { z } from "zod";
import type { Severity } from "./incidents";

/**
 * What an alert says, in each channel's form. `AlertEvent` is the generic webhook's body (its
 * schema is documented in docs/alerts.md); Slack-compatible webhooks get `text` plus `blocks`;
 * email gets a subject and a plain-text body. All three are built from the same event.
 */

export const ALERT_PHASES = ["open", "resolved", "test"] as const;
export type AlertPhase = (typeof ALERT_PHASES)[number];

export const zAlertEvent = z.object({
  /** the schema's version; a change that breaks receivers gets a new number */
  version: z.literal(1),
  /** unique per message: a receiver that sees an id twice (a retry after a lost answer) can drop it */
  id: z.string(),
  phase: z.enum(ALERT_PHASES),
  /** the incident's kind, e.g. isp_down; "test" for a test message */
  kind: z.string(),
  /** stable while the incident lasts: the open and the resolved message carry the same key */
  key: z.string(),
  severity: z.enum(["warning", "critical"]),
  cluster: z.object({ id: z.string(), name: z.string() }),
  subject: z.string(),
  detail: z.string(),
  openedAt: z.iso.datetime(),
  resolvedAt: z.iso.datetime().nullable(),
});
export type AlertEvent = z.infer<typeof zAlertEvent>;

export interface IncidentRecord {
  id: string;
  key: string;
  kind: string;
  severity: Severity;
  subject: string;
  detail: string;
  openedAt: Date;
  resolvedAt: Date | null;
}

export function alertEvent(
  cluster: { id: string; name: string },
  incident: IncidentRecord,
  phase: AlertPhase,
): AlertEvent {
  return {
    version: 1,
    id: `${incident.id}:${phase}`,
    phase,
    kind: incident.kind,
    key: incident.key,
    severity: incident.severity,
    cluster: { id: cluster.id, name: cluster.name },
    subject: incident.subject,
    detail: incident.detail,
    openedAt: incident.openedAt.toISOString(),
    resolvedAt: incident.resolvedAt?.toISOString() ?? null,
  };
}

/** A message that only checks the channel works. */
export function testEvent(cluster: { id: string; name: string }, channelName: string, at: Date): AlertEvent {
  return alertEvent(
    cluster,
    {
      id: `test-${at.getTime().toString(36)}`,
      key: "test",
      kind: "test",
      severity: "warning",
      subject: `Test message from Gatehouse`,
      detail: `Channel "${channelName}" of cluster "${cluster.name}" works: this message was sent with "Send test".`,
      openedAt: at,
      resolvedAt: null,
    },
    "test",
  );
}

/** "[cluster] RESOLVED: subject", the line every channel leads with. */
export function headline(e: AlertEvent): string {
  const tag = e.phase === "open" ? e.severity.toUpperCase() : e.phase === "resolved" ? "RESOLVED" : "TEST";
  return `[${e.cluster.name}] ${tag}: ${e.subject}`;
}

function bodyText(e: AlertEvent): string {
  const lines = [e.detail, "", `Opened: ${e.openedAt}`];
  if (e.resolvedAt !== null) lines.push(`Resolved: ${e.resolvedAt}`);
  lines.push(`Incident: ${e.key}`);
  return lines.join("\n");
}

/** Slack's incoming-webhook body: `text` for notifications and clients without blocks, `blocks` for the rest. */
export function slackPayload(e: AlertEvent) {
  const icon = e.phase === "resolved" ? ":white_check_mark:" : e.phase === "test" ? ":bell:" : ":rotating_light:";
  const text = `${icon} ${headline(e)}`;
  const context = [`cluster *${e.cluster.name}*`, `opened ${e.openedAt}`];
  if (e.resolvedAt !== null) context.push(`resolved ${e.resolvedAt}`);
  return {
    text,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*${text}*\n${e.detail}` } },
      { type: "context", elements: [{ type: "mrkdwn", text: context.join(" · ") }] },
    ],
  };
}

export function emailMessage(e: AlertEvent): { subject: string; text: string } {
  return { subject: headline(e), text: `${bodyText(e)}\n\n-- \nGatehouse` };
}
