import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/**
 * Real alert receivers on 127.0.0.1 for tests: an HTTP server that keeps every JSON body posted
 * to it (and can answer the first N with an error, to exercise retries), and an SMTP server that
 * keeps every message with its envelope and headers.
 */

export interface WebhookReceiver {
  url: string;
  /** bodies received, in order (parsed JSON) */
  bodies: unknown[];
  /** requests answered with an error so far */
  refused: number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startWebhookReceiver(
  opts: { failFirst?: number; status?: number } = {},
): Promise<WebhookReceiver> {
  const r: WebhookReceiver = { url: "", bodies: [], refused: 0, close: async () => {} };
  let toFail = opts.failFirst ?? 0;
  const server: Server = createServer((req, res) => {
    void readBody(req).then((text) => {
      if (toFail > 0 || opts.status !== undefined) {
        toFail--;
        r.refused++;
        res.writeHead(opts.status ?? 503, { "content-type": "text/plain" }).end("receiver says no");
        return;
      }
      try {
        r.bodies.push(JSON.parse(text));
      } catch {
        r.bodies.push({ unparsable: text });
      }
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  // a path with a token in it, as real webhook URLs have
  r.url = `http://127.0.0.1:${port}/hooks/T0001/B0002/s3cr3t-token-XYZW`;
  r.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return r;
}

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  /** header lines unfolded, then the body */
  text: string;
}

/** A header value with RFC 2047 encoded words (=?UTF-8?Q?...?= / ?B?) decoded, as mail clients show it. */
export function decodeHeader(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_all, _charset: string, enc: string, text: string) => {
      if (enc.toUpperCase() === "B") return Buffer.from(text, "base64").toString("utf8");
      const bytes = text.replace(/_/g, " ").replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => `%${h}`);
      try {
        return decodeURIComponent(bytes.replace(/%(?![0-9A-Fa-f]{2})/g, "%25"));
      } catch {
        return text;
      }
    });
}

export interface SmtpReceiver {
  port: number;
  mails: ReceivedMail[];
  /** the user names that signed in */
  logins: string[];
  close(): Promise<void>;
}

/** An SMTP server without TLS on 127.0.0.1 that accepts `user`/`password` (or anyone when not given). */
export async function startSmtpReceiver(auth?: { user: string; password: string }): Promise<SmtpReceiver> {
  const r: SmtpReceiver = { port: 0, mails: [], logins: [], close: async () => {} };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ["STARTTLS"],
    authOptional: auth === undefined,
    allowInsecureAuth: true,
    logger: false,
    onAuth(a, _session, cb) {
      if (auth !== undefined && a.username === auth.user && a.password === auth.password) {
        r.logins.push(a.username ?? "");
        cb(null, { user: a.username });
      } else {
        cb(new Error("Invalid user name or password"));
      }
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const unfolded = raw.replace(/\r?\n[ \t]+/g, " ");
        r.mails.push({
          from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((t) => t.address),
          subject: decodeHeader(/^Subject: (.*)$/m.exec(unfolded)?.[1]?.trim() ?? ""),
          text: unfolded,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  r.port = (server.server.address() as AddressInfo).port;
  r.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return r;
}
