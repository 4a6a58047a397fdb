import type {
  ExecOptions,
  ExecResult,
  HostKey,
  SshAuth,
  SshConnector,
  SshEndpoint,
  SshSession,
  SshTarget,
} from "../../server/ssh/types";
import { SshError } from "../../server/ssh/types";

/**
 * An SshConnector for unit tests: hosts are handler functions, and every login and command is
 * recorded. It enforces the same contract as the real one: a pinned key that differs is refused
 * before the handler sees anything.
 */

export interface FakeReply {
  code?: number;
  stdout?: string;
  stderr?: string;
}

export interface FakeHost {
  hostKey: HostKey;
  /** which credentials log in */
  accepts(username: string, auth: SshAuth): boolean;
  run(argv: readonly string[], stdin: Buffer | undefined): FakeReply | Promise<FakeReply>;
}

export interface FakeConnector extends SshConnector {
  hosts: Map<string, FakeHost>;
  /** every command run, in order, with the host it ran on */
  calls: Array<{ host: string; argv: readonly string[] }>;
  logins: Array<{ host: string; username: string }>;
}

const keyOf = (e: SshEndpoint) => `${e.host}:${e.port}`;

export function fakeConnector(hosts: Record<string, FakeHost> = {}): FakeConnector {
  const connector: FakeConnector = {
    hosts: new Map(Object.entries(hosts)),
    calls: [],
    logins: [],
    async scanHostKey(endpoint) {
      const host = connector.hosts.get(keyOf(endpoint));
      if (!host) throw new SshError("unreachable", `Cannot reach ${keyOf(endpoint)}: connection refused`);
      return host.hostKey;
    },
    async connect(target: SshTarget, auth: SshAuth, pinned: HostKey): Promise<SshSession> {
      const where = keyOf(target);
      const host = connector.hosts.get(where);
      if (!host) throw new SshError("unreachable", `Cannot reach ${where}: connection refused`);
      if (host.hostKey.fingerprint !== pinned.fingerprint) {
        throw new SshError("host_key_changed", `The host key of ${where} has changed`);
      }
      if (!host.accepts(target.username, auth)) {
        throw new SshError("auth_failed", `${where} refused the SSH login as "${target.username}"`);
      }
      connector.logins.push({ host: where, username: target.username });
      let closed = false;
      return {
        hostKey: host.hostKey,
        async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
          if (closed) throw new SshError("closed", "The SSH connection is closed");
          connector.calls.push({ host: where, argv });
          const stdin = typeof opts.stdin === "string" ? Buffer.from(opts.stdin) : opts.stdin;
          const reply = await host.run(argv, stdin);
          return {
            code: reply.code ?? 0,
            signal: null,
            stdout: reply.stdout ?? "",
            stderr: reply.stderr ?? "",
            timedOut: false,
            truncated: false,
            durationMs: 1,
          };
        },
        close() {
          closed = true;
        },
      };
    },
  };
  return connector;
}
