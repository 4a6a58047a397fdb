/**
 * The one interface the console uses to reach a gateway over SSH. Commands are argument vectors,
 * never shell text: the implementation quotes them (quote.ts), so a caller cannot run anything
 * but the program it names with the arguments it passes.
 */

export interface SshEndpoint {
  host: string;
  port: number;
}

export interface SshTarget extends SshEndpoint {
  username: string;
}

export type SshAuth = { kind: "key"; privateKey: string; passphrase?: string } | { kind: "password"; password: string };

export interface HostKey {
  /** key type, e.g. ssh-ed25519 */
  algorithm: string;
  /** SHA256:... as OpenSSH prints it */
  fingerprint: string;
}

export interface ExecOptions {
  /** written to the command's stdin, which is then closed */
  stdin?: Buffer | string;
  timeoutMs?: number;
  /** stdout and stderr together beyond this are dropped and `truncated` is set */
  maxOutputBytes?: number;
}

export interface ExecResult {
  /** exit status; null when the command was killed by a signal, timed out or the channel broke */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  truncated: boolean;
  durationMs: number;
}

export interface SshSession {
  /** the key the server proved it holds */
  readonly hostKey: HostKey;
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  close(): void;
}

export interface SshConnector {
  /** Reads the server's host key without logging in, for an admin to confirm. */
  scanHostKey(endpoint: SshEndpoint): Promise<HostKey>;
  /** Logs in, refusing any host key but `pinned`. */
  connect(target: SshTarget, auth: SshAuth, pinned: HostKey): Promise<SshSession>;
}

export type SshErrorKind =
  /** the server showed another key than the pinned one */
  | "host_key_changed"
  /** the server refused the credentials */
  | "auth_failed"
  /** no TCP connection (refused, no route, DNS) */
  | "unreachable"
  | "timeout"
  /** the connection dropped while in use */
  | "closed"
  /** the credentials could not be used (e.g. a key that does not parse) */
  | "bad_credentials"
  | "protocol";

export class SshError extends Error {
  override name = "SshError";
  constructor(
    readonly kind: SshErrorKind,
    message: string,
  ) {
    super(message);
  }
}
