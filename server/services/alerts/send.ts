import { createTransport } from "nodemailer";
import type { AlertEvent } from "../../../core/alerts/message";
import { emailMessage, slackPayload } from "../../../core/alerts/message";
import { ATTEMPT_TIMEOUT_MS } from "../../../core/alerts/retry";
import type { ChannelSecret } from "../../../core/alerts/channel";
import type { StoredSettings } from "./channels";

/**
 * Sends one alert message through one channel, once, within the attempt timeout. Throws an Error
 * whose message an operator can act on ("HTTP 404 from hooks.example.com", "connection refused").
 * Retries are the caller's (deliver.ts).
 */

const MAX_ERROR_CHARS = 300;

function short(text: string): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > MAX_ERROR_CHARS ? `${one.slice(0, MAX_ERROR_CHARS - 1)}…` : one;
}

/** A fetch or socket failure in words, with the network error's code when there is one. */
function networkError(e: unknown, timeoutMs: number): Error {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === "TimeoutError" || err.name === "AbortError")
    return new Error(`no answer within ${timeoutMs / 1000} s`);
  const cause = err.cause?.code ?? err.cause?.message;
  return new Error(short(cause ? `${err.message} (${cause})` : err.message));
}

async function postWebhook(url: string, body: unknown, timeoutMs: number): Promise<void> {
  const host = new URL(url).host;
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "Gatehouse-Alerts/1" },
      body: JSON.stringify(body),
      // a redirect could move a sealed URL's token elsewhere: receivers answer, they do not redirect
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw networkError(e, timeoutMs);
  }
  if (res.status >= 200 && res.status < 300) {
    await res.body?.cancel();
    return;
  }
  const text = await res.text().catch(() => "");
  throw new Error(short(`HTTP ${res.status} from ${host}${text ? `: ${text}` : ""}`));
}

async function sendEmail(
  settings: Extract<StoredSettings, { kind: "email" }>,
  password: string | undefined,
  event: AlertEvent,
  timeoutMs: number,
): Promise<void> {
  const transport = createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.security === "tls",
    requireTLS: settings.security === "starttls",
    ignoreTLS: settings.security === "none",
    ...(settings.username === "" ? {} : { auth: { user: settings.username, pass: password ?? "" } }),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  const message = emailMessage(event);
  try {
    await transport.sendMail({
      from: settings.from,
      to: settings.to,
      subject: message.subject,
      text: message.text,
      headers: { "X-Gatehouse-Alert": event.id },
    });
  } catch (e) {
    throw new Error(short(`SMTP ${settings.host}:${settings.port}: ${(e as Error).message}`));
  } finally {
    transport.close();
  }
}

export async function sendThroughChannel(
  settings: StoredSettings,
  secret: ChannelSecret,
  event: AlertEvent,
  timeoutMs = ATTEMPT_TIMEOUT_MS,
): Promise<void> {
  if (settings.kind === "webhook") {
    if (secret.url === undefined) throw new Error("the channel has no URL");
    await postWebhook(secret.url, settings.format === "slack" ? slackPayload(event) : event, timeoutMs);
    return;
  }
  await sendEmail(settings, secret.password, event, timeoutMs);
}
