import { describe, expect, it } from "vitest";
import { zInstallRoot } from "./inputs";
import { agentLayout, directoriesFor } from "./layout";

describe("the agent's layout", () => {
  it("matches the shipped systemd unit by default", () => {
    const l = agentLayout("");
    expect(l.bin).toBe("/usr/local/bin/gatehouse-agent");
    expect(l.stateDir).toBe("/var/lib/gatehouse-agent");
    expect(l.unitPath).toBe("/etc/systemd/system/gatehouse-agent.service");
    // node refuses unknown extensions, so temporary names have none
    expect(l.binNew).toBe("/usr/local/bin/gatehouse-agent-new");
    expect(l.binPrev).toBe("/usr/local/bin/gatehouse-agent-prev");
  });

  it("moves every file under an install root", () => {
    const l = agentLayout("/srv/lab/");
    for (const p of [l.bin, l.binNew, l.stateDir, l.supervisor, l.supervisorPidFile, l.logFile]) {
      expect(p.startsWith("/srv/lab/")).toBe(true);
    }
  });

  it("lists the directories to create, parents first", () => {
    expect(directoriesFor(agentLayout("/srv/x"), "systemd")).toEqual([
      "/srv",
      "/srv/x",
      "/srv/x/usr",
      "/srv/x/var",
      "/srv/x/usr/local",
      "/srv/x/var/lib",
      "/srv/x/usr/local/bin",
    ]);
    const supervised = directoriesFor(agentLayout(""), "supervised");
    expect(supervised).toContain("/run/gatehouse-agent");
    expect(supervised.indexOf("/usr/local")).toBeLessThan(supervised.indexOf("/usr/local/lib/gatehouse-agent"));
  });

  it("accepts only plain absolute install roots", () => {
    for (const ok of ["", "/srv/gatehouse", "/tmp/a-b_c.d"]) expect(zInstallRoot.safeParse(ok).success).toBe(true);
    for (const bad of ["relative", "/srv/../etc", "/srv/./x", "/a b", "/x;rm", "/x/$(id)", "/"]) {
      expect(zInstallRoot.safeParse(bad).success, bad).toBe(false);
    }
  });
});
