import { connect as netConnect } from "node:net";
import type { Duplex } from "node:stream";
import ssh2 from "ssh2";
import type { ClientChannel, ConnectConfig } from "ssh2";
import { fingerprintOf, hostKeyAlgorithmsFor, keyTypeOf } from "./fingerprint";
import { commandLine } from "./quote";
import {
  type ExecOptions,
  type ExecResult,
  type HostKey,
  type SshAuth,
  type SshConnector,
  type SshEndpoint,
  SshError,
  type SshSession,
} from "./types";

/**
 * The SshConnector on top of ssh2. Every connection verifies the server's host key against the
 * pinned one before any credential is sent, and restricts the host key algorithms to the pinned
 * key's type, so a server cannot dodge the check by presenting another of its keys.
 */

export interface Ssh2ConnectorOptions {
  /** the SSH handshake (TCP, key exchange, login) must finish within this long */
  readyTimeoutMs?: number;
  /**
   * Opens the byte stream to the server; plain TCP when absent. Tests use it to reach an sshd
   * inside a network namespace.
   */
  dial?: (endpoint: SshEndpoint) => Duplex | Promise<Duplex>;
}

const DEFAULT_READY_TIMEOUT_MS = 15_000;
const DEFAULT_EXEC_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_OUTPUT = 4 * 1024 * 1024;

const where = (e: SshEndpoint) => (e.host.includes(":") ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`);

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: "connection refused (is sshd running on that port?)",
  EHOSTUNREACH: "no route to the host",
  ENETUNREACH: "the network is unreachable",
  ENOTFOUND: "the host name does not resolve",
  EAI_AGAIN: "the host name does not resolve (temporary DNS failure)",
  ETIMEDOUT: "the connection timed out",
  ECONNRESET: "the connection was reset",
  EPIPE: "the connection was closed",
};

/** Turns an ssh2 connection error into an SshError whose message an admin can act on. */
export function describeConnectError(
  err: Error & { level?: string; code?: string },
  endpoint: SshEndpoint,
  ctx: { username?: string; authKind?: SshAuth["kind"]; pinned?: HostKey; seen?: HostKey; readyTimeoutMs: number },
): SshError {
  const at = where(endpoint);
  if (ctx.pinned && ctx.seen && ctx.seen.fingerprint !== ctx.pinned.fingerprint) {
    return new SshError(
      "host_key_changed",
      `The host key of ${at} has changed: the server now shows ${ctx.seen.algorithm} ${ctx.seen.fingerprint}, ` +
        `but ${ctx.pinned.algorithm} ${ctx.pinned.fingerprint} was confirmed for it. Nothing was sent to the server. ` +
        "The gateway may have been reinstalled, or someone may be intercepting the connection; if the change is expected, " +
        "confirm the new key on the gateway's page.",
    );
  }
  if (ctx.pinned && err.level === "handshake" && /host key|no matching/i.test(err.message)) {
    return new SshError(
      "host_key_changed",
      `The server at ${at} no longer offers a ${ctx.pinned.algorithm} host key, the type of the confirmed key ` +
        `${ctx.pinned.fingerprint}. Nothing was sent to the server; if its keys were changed on purpose, confirm the new key.`,
    );
  }
  if (err.level === "client-authentication") {
    const how = ctx.authKind === "password" ? "password" : "private key";
    return new SshError(
      "auth_failed",
      `${at} refused the SSH login as "${ctx.username ?? "?"}" with the ${how}: the ${how} is wrong, ` +
        "or the account may not log in that way.",
    );
  }
  if (err.level === "client-timeout") {
    return new SshError(
      "timeout",
      `No SSH handshake with ${at} within ${Math.round(ctx.readyTimeoutMs / 1000)} s (is it an SSH server?)`,
    );
  }
  const reason = err.code === undefined ? undefined : UNREACHABLE[err.code];
  if (reason !== undefined) return new SshError("unreachable", `Cannot reach ${at}: ${reason}`);
  return new SshError("protocol", `SSH connection to ${at} failed: ${err.message}`);
}

async function openSocket(opts: Ssh2ConnectorOptions, endpoint: SshEndpoint): Promise<Duplex> {
  if (opts.dial) return await opts.dial(endpoint);
  return netConnect({ host: endpoint.host, port: endpoint.port });
}

function hostKeyOf(blob: Buffer): HostKey {
  return { algorithm: keyTypeOf(blob), fingerprint: fingerprintOf(blob) };
}

function authConfig(auth: SshAuth): Pick<ConnectConfig, "privateKey" | "passphrase" | "password"> {
  if (auth.kind === "password") return { password: auth.password };
  const parsed = ssh2.utils.parseKey(auth.privateKey, auth.passphrase);
  if (parsed instanceof Error) {
    throw new SshError("bad_credentials", `The private key cannot be used: ${parsed.message}`);
  }
  return { privateKey: auth.privateKey, ...(auth.passphrase ? { passphrase: auth.passphrase } : {}) };
}

class Ssh2Session implements SshSession {
  private readonly pending = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly client: ssh2.Client,
    readonly hostKey: HostKey,
  ) {
    client.on("close", () => {
      this.closed = true;
      for (const abort of [...this.pending]) abort();
    });
  }

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const command = commandLine(argv);
    const started = performance.now();
    const limit = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    return new Promise<ExecResult>((resolve, reject) => {
      if (this.closed) {
        reject(new SshError("closed", "The SSH connection is closed"));
        return;
      }
      this.client.exec(command, (err, channel: ClientChannel) => {
        if (err) {
          reject(new SshError("closed", `Cannot start a command over SSH: ${err.message}`));
          return;
        }
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let size = 0;
        let truncated = false;
        let code: number | null = null;
        let signal: string | null = null;
        let timedOut = false;
        let settled = false;
        const collect = (into: Buffer[]) => (chunk: Buffer) => {
          if (size + chunk.length > limit) {
            truncated = true;
            const room = limit - size;
            if (room > 0) into.push(chunk.subarray(0, room));
            size = limit;
            return;
          }
          size += chunk.length;
          into.push(chunk);
        };
        const finish = (extra = "") => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.pending.delete(onConnectionClosed);
          resolve({
            code: timedOut ? null : code,
            signal,
            stdout: Buffer.concat(out).toString("utf8"),
            stderr: Buffer.concat(errOut).toString("utf8") + extra,
            timedOut,
            truncated,
            durationMs: performance.now() - started,
          });
        };
        const onConnectionClosed = () => finish(code === null ? "\n(the SSH connection closed)" : "");
        this.pending.add(onConnectionClosed);
        const timer = setTimeout(() => {
          timedOut = true;
          // OpenSSH delivers the signal to the command; closing the channel also hangs it up
          try {
            channel.signal("KILL");
          } catch {}
          channel.close();
          setTimeout(() => finish(), 1000).unref();
        }, opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS);
        channel.on("data", collect(out));
        channel.stderr.on("data", collect(errOut));
        channel.on("exit", (exitCode: number | null, signalName?: string) => {
          code = typeof exitCode === "number" ? exitCode : null;
          signal = signalName ?? null;
        });
        channel.on("close", () => finish());
        channel.on("error", () => {});
        if (opts.stdin !== undefined) channel.end(opts.stdin);
        else channel.end();
      });
    });
  }

  close(): void {
    this.client.end();
  }
}

export function createSsh2Connector(options: Ssh2ConnectorOptions = {}): SshConnector {
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;

  return {
    async scanHostKey(endpoint) {
      const sock = await openSocket(options, endpoint);
      return new Promise<HostKey>((resolve, reject) => {
        const client = new ssh2.Client();
        let seen: HostKey | undefined;
        client.on("error", (err) => {
          client.end();
          if (seen) resolve(seen);
          else reject(describeConnectError(err, endpoint, { readyTimeoutMs }));
        });
        client.on("ready", () => {
          // cannot happen: the verifier refuses every key; never stay logged in
          client.end();
          if (seen) resolve(seen);
          else reject(new SshError("protocol", "The server accepted the connection without showing a host key"));
        });
        try {
          client.connect({
            host: endpoint.host,
            port: endpoint.port,
            sock,
            // ssh2 wants a user name, but refusing the key ends the handshake before it is sent
            username: "gatehouse-host-key-scan",
            readyTimeout: readyTimeoutMs,
            hostVerifier: (key: Buffer) => {
              seen = hostKeyOf(key);
              return false;
            },
          });
        } catch (e) {
          sock.destroy();
          reject(new SshError("protocol", `Cannot start an SSH connection: ${(e as Error).message}`));
        }
      });
    },

    async connect(target, auth, pinned) {
      const credentials = authConfig(auth);
      const sock = await openSocket(options, target);
      return new Promise<SshSession>((resolve, reject) => {
        const client = new ssh2.Client();
        let seen: HostKey | undefined;
        let ready = false;
        client.on("error", (err) => {
          if (ready) return;
          client.end();
          reject(
            describeConnectError(err, target, {
              username: target.username,
              authKind: auth.kind,
              pinned,
              seen,
              readyTimeoutMs,
            }),
          );
        });
        client.on("ready", () => {
          ready = true;
          resolve(new Ssh2Session(client, seen ?? pinned));
        });
        const config: ConnectConfig = {
          host: target.host,
          port: target.port,
          username: target.username,
          sock,
          readyTimeout: readyTimeoutMs,
          keepaliveInterval: 10_000,
          keepaliveCountMax: 3,
          tryKeyboard: false,
          algorithms: { serverHostKey: hostKeyAlgorithmsFor(pinned.algorithm) as never },
          hostVerifier: (key: Buffer) => {
            seen = hostKeyOf(key);
            return seen.fingerprint === pinned.fingerprint;
          },
          ...credentials,
        };
        try {
          client.connect(config);
        } catch (e) {
          sock.destroy();
          reject(new SshError("protocol", `Cannot start an SSH connection: ${(e as Error).message}`));
        }
      });
    },
  };
}
