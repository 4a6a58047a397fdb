import { describe, expect, it } from "vitest";
import { type ExecResult, SshError, type SshSession } from "../../ssh/types";
import { RemoteCommandError, RemoteHost } from "./remote";

const result = (over: Partial<ExecResult> = {}): ExecResult => ({
  code: 0,
  signal: null,
  stdout: "",
  stderr: "",
  timedOut: false,
  truncated: false,
  durationMs: 1,
  ...over,
});

function session(exec: SshSession["exec"]): SshSession & { closed: boolean } {
  const s = {
    hostKey: { algorithm: "ssh-ed25519", fingerprint: "SHA256:x" },
    closed: false,
    exec,
    close() {
      s.closed = true;
    },
  };
  return s;
}

describe("a logged-in gateway", () => {
  it("logs in again once when the connection dropped, and runs the command there", async () => {
    const dropped = session(async () => {
      throw new SshError("closed", "The SSH connection is closed");
    });
    const fresh = session(async (argv) => result({ stdout: argv.join(" ") }));
    const remote = new RemoteHost(dropped);
    remote.reconnect = async () => fresh;
    expect((await remote.run(["echo", "hi"])).stdout).toBe("echo hi");
    expect(dropped.closed).toBe(true);
    expect(remote.session).toBe(fresh);
  });

  it("does not retry other failures", async () => {
    let logins = 0;
    const remote = new RemoteHost(
      session(async () => {
        throw new SshError("protocol", "broken");
      }),
    );
    remote.reconnect = async () => {
      logins++;
      return session(async () => result());
    };
    await expect(remote.run(["true"])).rejects.toThrow("broken");
    expect(logins).toBe(0);
  });

  it("names the operation, not the command line, when a command fails", async () => {
    const remote = new RemoteHost(
      session(async () => result({ code: 1, stderr: "enroll: 401 unauthorized\n" })),
      true,
    );
    const err = await remote.must("gatehouse-agent enroll", ["node", "agent", "--token", "ghe_secret"]).catch((e) => e);
    expect(err).toBeInstanceOf(RemoteCommandError);
    expect(err.message).toBe("gatehouse-agent enroll failed: exit status 1: enroll: 401 unauthorized");
    expect(err.message).not.toContain("ghe_secret");
  });

  it("shows the agent's JSON log lines on stderr as text", async () => {
    const stderr =
      '{"level":40,"time":"2026-11-23T18:35:38.952Z","service":"gatehouse-agent","msg":"the console URL is http"}\n' +
      "gatehouse-agent enroll: cannot reach the console: connection refused\n";
    const remote = new RemoteHost(session(async () => result({ code: 1, stderr })));
    await expect(remote.must("gatehouse-agent enroll", ["x"])).rejects.toThrow(
      "gatehouse-agent enroll failed: exit status 1: 18:35:38 warn the console URL is http\ngatehouse-agent enroll: cannot reach the console: connection refused",
    );
  });
});
