import { describe, expect, it } from "vitest";
import { parseCommand } from "@/agent/cli/args";
import {
  applyErrorGist,
  attemptedRevision,
  describeSync,
  ENROLL_TOKEN_FILE,
  enrollCommands,
  installCommands,
  relativeTime,
} from "./present";

describe("gateway presentation", () => {
  it("says what runs against what was published", () => {
    const published = { revision: 5, failoverEpoch: 2 };
    expect(describeSync({ sync: "behind", appliedRevision: 4, appliedEpoch: 0 }, published)).toEqual({
      label: "behind",
      tone: "warn",
      detail: "runs #4; published #5 (failover epoch 2)",
    });
    expect(describeSync({ sync: "not_applied", appliedRevision: null, appliedEpoch: null }, published).detail).toBe(
      "runs nothing from Gatehouse yet; published #5 (failover epoch 2)",
    );
    expect(describeSync({ sync: "apply_failed", appliedRevision: 4, appliedEpoch: 0 }, published).tone).toBe("danger");
  });

  it("gives enroll commands the agent accepts, with the token in a root-only file rather than on a command line", () => {
    const token = `ghe_${"x".repeat(43)}`;
    const [write, enroll, start] = enrollCommands("https://gh.example/", token).split("\n");
    expect(write).toBe(`(umask 077 && printf '%s\\n' '${token}' > ${ENROLL_TOKEN_FILE})`);
    const [run] = (enroll ?? "").split(" && ");
    expect(run).not.toContain(token);
    const argv = (run ?? "").split(" ").slice(1);
    expect(parseCommand(argv)).toMatchObject({
      name: "enroll",
      consoleUrl: "https://gh.example",
      token: null,
      tokenFile: ENROLL_TOKEN_FILE,
    });
    expect(enroll).toMatch(/ && rm -f \/root\/gatehouse-enroll\.token$/);
    expect(start).toBe("systemctl enable --now gatehouse-agent");
  });

  it("installs the agent from the console: its one file, executable, and its unit, reloaded", () => {
    const [agent, unit] = installCommands("https://gh.example/").split("\n");
    expect(agent).toBe(
      "curl -fsS -o /usr/local/bin/gatehouse-agent https://gh.example/api/agent/v1/download/gatehouse-agent && chmod 0755 /usr/local/bin/gatehouse-agent",
    );
    expect(unit).toBe(
      "curl -fsS -o /etc/systemd/system/gatehouse-agent.service https://gh.example/api/agent/v1/download/gatehouse-agent.service && systemctl daemon-reload",
    );
  });

  it("tells time relative to now", () => {
    const now = new Date("2030-01-01T12:00:00Z");
    expect(relativeTime(new Date("2030-01-01T11:59:50Z"), now)).toBe("10 s ago");
    expect(relativeTime(new Date("2030-01-01T11:50:00Z"), now)).toBe("10 min ago");
    expect(relativeTime(new Date("2030-01-01T12:00:05Z"), now)).toBe("just now");
  });
});

describe("apply errors in words", () => {
  it("picks nft's message out of its output", () => {
    const nft =
      "check: /tmp/gatehouse-nft-x/gatehouse.nft:12:3-9: Error: Could not process rule: No such file or directory\nadd rule inet gatehouse x\n  ^^^^^";
    expect(applyErrorGist(nft)).toBe("Could not process rule: No such file or directory");
    expect(applyErrorGist("\nroutes: ip -4 route replace default via 198.51.100.1 dev eth9: exit 2")).toBe(
      "routes: ip -4 route replace default via 198.51.100.1 dev eth9: exit 2",
    );
    expect(applyErrorGist("x".repeat(500))).toHaveLength(160);
  });

  it("reads the attempted revision from the reported facts", () => {
    expect(attemptedRevision({ lastApply: { revision: 7, failoverEpoch: 0 } })).toBe(7);
    expect(attemptedRevision({ lastApply: null })).toBeNull();
    expect(attemptedRevision({})).toBeNull();
  });
});
