import { describe, expect, it } from "vitest";
import { chooseServiceMode, evaluatePrerequisites, nodeIsSuitable, type ProbeFindings } from "./prerequisites";

const tools = Object.fromEntries(
  ["nft", "ip", "conntrack", "fping", "node", "sha256sum", "systemctl", "journalctl", "setsid"].map((t) => [
    t,
    `/usr/sbin/${t}`,
  ]),
);

const good: ProbeFindings = {
  os: "Linux",
  uid: 0,
  sudo: null,
  pid1: "systemd",
  systemdBooted: true,
  tools,
  nodeVersion: "v20.19.0",
  existing: [],
};
const opts = { requested: "auto" as const, installRoot: "", username: "root" };

describe("host prerequisites", () => {
  it("accept a complete Linux host and pick systemd when it is the init system", () => {
    expect(evaluatePrerequisites(good, opts)).toEqual({
      ok: true,
      plan: { viaSudo: false, mode: "systemd", nodePath: "/usr/sbin/node", nodeVersion: "v20.19.0" },
    });
  });

  it("list every problem at once, each saying what to do", () => {
    const v = evaluatePrerequisites(
      {
        ...good,
        os: "FreeBSD",
        tools: { ...tools, conntrack: null, fping: null },
        nodeVersion: "v18.19.1",
        existing: ["/usr/local/bin/gatehouse-agent"],
      },
      opts,
    );
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.problems).toEqual([
      "the host runs FreeBSD, not Linux",
      "conntrack is not installed (not found in root's PATH; install the conntrack package)",
      "fping is not installed (not found in root's PATH; install the fping package)",
      "/usr/sbin/node is Node v18.19.1; the agent needs Node 20.19 or newer",
      "an agent is already installed here (/usr/local/bin/gatehouse-agent); upgrade it from its gateway's page, or remove it before enrolling this host again",
    ]);
  });

  it("say only that root is missing when the login cannot become root", () => {
    const v = evaluatePrerequisites({ ...good, uid: 1000, sudo: false, tools: {} }, { ...opts, username: "ops" });
    expect(v.ok ? [] : v.problems).toEqual([
      '"ops" is not root and cannot use sudo without a password (sudo -n true failed); log in as root or allow this user passwordless sudo',
    ]);
  });

  it("go through sudo for a user who may use it", () => {
    const v = evaluatePrerequisites({ ...good, uid: 1000, sudo: true }, { ...opts, username: "ops" });
    expect(v.ok && v.plan.viaSudo).toBe(true);
  });

  it("need the service tools only of the mode in use", () => {
    const noSystemd = { ...tools, systemctl: null, journalctl: null };
    expect(evaluatePrerequisites({ ...good, pid1: "init", systemdBooted: false, tools: noSystemd }, opts).ok).toBe(
      true,
    );
    const v = evaluatePrerequisites({ ...good, tools: noSystemd }, opts);
    expect(v.ok ? [] : v.problems).toEqual([
      "systemctl is not installed (not found in root's PATH; install systemd)",
      "journalctl is not installed (not found in root's PATH; install systemd)",
    ]);
  });

  it("refuse a node path a service line cannot hold", () => {
    const v = evaluatePrerequisites({ ...good, tools: { ...tools, node: "/opt/my node/bin/node" } }, opts);
    expect(v.ok ? [] : v.problems).toEqual([
      'node is at "/opt/my node/bin/node"; the service needs a path of letters, digits and . _ - + / only',
    ]);
  });

  it("know which Node versions run the bundle", () => {
    expect(["v20.19.0", "v20.20.2", "v22.1.0", "v24.0.0"].map(nodeIsSuitable)).toEqual([true, true, true, true]);
    expect(["v20.18.3", "v18.20.0", "garbage", ""].map(nodeIsSuitable)).toEqual([false, false, false, false]);
  });
});

describe("the service mode", () => {
  const systemd = { pid1: "systemd", systemdBooted: true };
  const other = { pid1: "tini", systemdBooted: false };
  it("follows PID 1 unless asked", () => {
    expect(chooseServiceMode("auto", systemd, "")).toEqual({ ok: true, mode: "systemd" });
    expect(chooseServiceMode("auto", other, "")).toEqual({ ok: true, mode: "supervised" });
    expect(chooseServiceMode("supervised", systemd, "")).toEqual({ ok: true, mode: "supervised" });
    // systemd's unit knows only the standard paths
    expect(chooseServiceMode("auto", systemd, "/srv/gh")).toEqual({ ok: true, mode: "supervised" });
  });
  it("refuses systemd where it cannot work", () => {
    expect(chooseServiceMode("systemd", other, "")).toMatchObject({
      ok: false,
      problem: expect.stringContaining('PID 1 is "tini"'),
    });
    expect(chooseServiceMode("systemd", systemd, "/srv/gh")).toMatchObject({ ok: false });
    // a container whose PID 1 is called systemd but did not boot it
    expect(chooseServiceMode("auto", { pid1: "systemd", systemdBooted: false }, "")).toEqual({
      ok: true,
      mode: "supervised",
    });
  });
});
