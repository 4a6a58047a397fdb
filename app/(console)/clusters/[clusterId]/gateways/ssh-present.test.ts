import { describe, expect, it } from "vitest";
import { fingerprintCheckCommand, jobIsOver, sshTargetLabel, upgradeAvailable } from "./ssh-present";

describe("SSH words on the gateway pages", () => {
  it("tell an admin where to compare the host key", () => {
    expect(fingerprintCheckCommand("ssh-ed25519")).toBe("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub");
    expect(fingerprintCheckCommand("ecdsa-sha2-nistp256")).toBe("ssh-keygen -lf /etc/ssh/ssh_host_ecdsa_key.pub");
    expect(fingerprintCheckCommand("ssh-rsa")).toBe("ssh-keygen -lf /etc/ssh/ssh_host_rsa_key.pub");
    expect(fingerprintCheckCommand("sk-ssh-ed25519@openssh.com")).toBe("ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub");
  });

  it("write targets the way ssh takes them", () => {
    expect(sshTargetLabel({ username: "root", host: "gw1", port: 22 })).toBe("root@gw1");
    expect(sshTargetLabel({ username: "ops", host: "2001:db8::1", port: 2222 })).toBe("ops@[2001:db8::1]:2222");
  });

  it("offer an upgrade only when both versions are known and differ", () => {
    expect(upgradeAvailable("1.0.0", "1.1.0")).toBe(true);
    expect(upgradeAvailable("1.1.0", "1.1.0")).toBe(false);
    expect(upgradeAvailable("", "1.1.0")).toBe(false);
    expect(upgradeAvailable("1.0.0", "")).toBe(false);
  });

  it("know when a job is over", () => {
    expect(jobIsOver("running")).toBe(false);
    expect(["succeeded", "failed", "interrupted"].every((s) => jobIsOver(s as "failed"))).toBe(true);
  });
});
