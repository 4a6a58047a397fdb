import { z } from "zod";
import { zId } from "../policy/model";

/**
 * Alert channels: where a cluster's alerts go. A webhook posts JSON (Gatehouse's own schema, or
 * Slack-compatible `text` + `blocks`); email goes through an SMTP server. The webhook URL (which
 * usually carries a token) and the SMTP password are secrets: the console keeps them sealed and
 * shows the browser only a hint. On update, an omitted secret keeps the stored one.
 */

export const CHANNEL_KINDS = ["webhook", "email"] as const;
export const WEBHOOK_FORMATS = ["json", "slack"] as const;
export const SMTP_SECURITY = ["none", "starttls", "tls"] as const;

const zChannelName = z
  .string()
  .trim()
  .min(1, "Name is required")
  .max(64, "Name must be at most 64 characters")
  .regex(/^[^\p{Cc}]*$/u, "Name must not contain control characters");

export const zWebhookUrl = z
  .string()
  .trim()
  .min(1, "URL is required")
  .max(2000, "URL must be at most 2000 characters")
  .refine((u) => {
    try {
      const url = new URL(u);
      return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
    } catch {
      return false;
    }
  }, "URL must be an http:// or https:// address, e.g. https://hooks.example.com/T000/B000/XXXX");

const EMAIL_RE = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$|^[^\s@<>(),;:"]+@localhost$/;
const zEmail = (label: string) =>
  z
    .string()
    .trim()
    .max(254, `${label} must be at most 254 characters`)
    .refine((a) => EMAIL_RE.test(a), `${label} must be an email address like ops@example.com`);

/** "a@x.org, b@x.org" or one per line, as people type a list of recipients. */
const zRecipients = z
  .string()
  .max(2000, "Recipients must be at most 2000 characters")
  .transform((text) =>
    text
      .split(/[\s,;]+/)
      .map((s) => s.trim())
      .filter((s) => s !== ""),
  )
  .superRefine((list, ctx) => {
    if (list.length === 0) ctx.addIssue({ code: "custom", message: "Recipients: give at least one email address" });
    if (list.length > 20) ctx.addIssue({ code: "custom", message: "Recipients: at most 20 addresses" });
    list.forEach((a, n) => {
      if (!EMAIL_RE.test(a) || a.length > 254) {
        ctx.addIssue({ code: "custom", message: `Recipient ${n + 1} ("${a.slice(0, 60)}") is not an email address` });
      }
    });
  });

const zHost = z
  .string()
  .trim()
  .min(1, "SMTP server is required")
  .max(253, "SMTP server must be at most 253 characters")
  .regex(/^[A-Za-z0-9.:[\]-]+$/, "SMTP server must be a host name or an IP address");

export const zWebhookSettings = z.object({
  kind: z.literal("webhook"),
  format: z.enum(WEBHOOK_FORMATS, "Format must be json or slack"),
  /** omitted on update: keep the stored URL */
  url: zWebhookUrl.optional(),
});

export const zEmailSettings = z.object({
  kind: z.literal("email"),
  host: zHost,
  port: z.coerce
    .number("Port must be a number")
    .int("Port must be a whole number")
    .min(1, "Port must be 1-65535")
    .max(65535, "Port must be 1-65535"),
  security: z.enum(SMTP_SECURITY, "Security must be none, starttls or tls"),
  username: z.string().trim().max(256, "User name must be at most 256 characters").default(""),
  /** omitted on update: keep the stored password; "" with a user name is refused */
  password: z.string().max(256, "Password must be at most 256 characters").optional(),
  from: zEmail("From"),
  to: zRecipients,
});

export const zChannelSettings = z.discriminatedUnion("kind", [zWebhookSettings, zEmailSettings], {
  error: "Kind must be webhook or email",
});
export type ChannelSettings = z.infer<typeof zChannelSettings>;
export type ChannelSettingsInput = z.input<typeof zChannelSettings>;

export const zChannelCreate = z.object({
  clusterId: zId,
  name: zChannelName,
  enabled: z.boolean().default(true),
  settings: zChannelSettings,
});
export type ChannelCreate = z.infer<typeof zChannelCreate>;

export const zChannelUpdate = z.object({
  id: zId,
  version: z.number().int().min(1),
  name: zChannelName,
  enabled: z.boolean(),
  settings: zChannelSettings,
});
export type ChannelUpdate = z.infer<typeof zChannelUpdate>;

/** What the console keeps sealed for a channel. */
export const zChannelSecret = z.object({ url: z.string().optional(), password: z.string().optional() });
export type ChannelSecret = z.infer<typeof zChannelSecret>;

/** The part of a webhook URL an operator may see again: its origin and the last 4 characters. */
export function webhookUrlHint(url: string): string {
  try {
    const u = new URL(url);
    const rest = url.slice(u.origin.length);
    return rest.length <= 1 ? u.origin : `${u.origin}/…${rest.slice(-4)}`;
  } catch {
    return "…";
  }
}
