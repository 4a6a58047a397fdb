import { describe, expect, it } from "vitest";
import { zChannelCreate, webhookUrlHint } from "./channel";
import { alertEvent, emailMessage, slackPayload, zAlertEvent } from "./message";
import { retryDelayMs } from "./retry";

const incident = {
  id: "inc1",
  key: "isp_down:i1",
  kind: "isp_down",
  severity: "critical" as const,
  subject: 'ISP "telia" is down',
  detail: "gw-a measures it down",
  openedAt: new Date("2026-01-02T03:04:05.000Z"),
  resolvedAt: null,
};
const cluster = { id: "c1", name: "edge" };

describe("alert messages", () => {
  it("the generic event follows its schema; open and resolved share the key, not the id", () => {
    const open = alertEvent(cluster, incident, "open");
    const resolved = alertEvent(cluster, { ...incident, resolvedAt: new Date("2026-01-02T03:05:00.000Z") }, "resolved");
    expect(zAlertEvent.parse(open)).toEqual(open);
    expect(zAlertEvent.parse(resolved).resolvedAt).toBe("2026-01-02T03:05:00.000Z");
    expect(open.key).toBe(resolved.key);
    expect(open.id).not.toBe(resolved.id);
  });

  it("Slack gets text and blocks; email a subject that says which phase", () => {
    const s = slackPayload(alertEvent(cluster, incident, "open"));
    expect(s.text).toBe(':rotating_light: [edge] CRITICAL: ISP "telia" is down');
    expect(s.blocks[0]).toMatchObject({ type: "section", text: { type: "mrkdwn" } });
    const m = emailMessage(alertEvent(cluster, { ...incident, resolvedAt: new Date() }, "resolved"));
    expect(m.subject).toBe('[edge] RESOLVED: ISP "telia" is down');
    expect(m.text).toContain("Incident: isp_down:i1");
  });

  it("retries back off, capped, and stop after the last attempt", () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, 1000, 5000))).toEqual([1000, 2000, 4000, 5000]);
    expect(retryDelayMs(5)).toBeNull();
  });

  it("webhook URLs show only their origin and last characters", () => {
    expect(webhookUrlHint("https://hooks.slack.com/services/T000/B000/abcdWXYZ")).toBe("https://hooks.slack.com/…WXYZ");
    expect(webhookUrlHint("http://127.0.0.1:9000")).toBe("http://127.0.0.1:9000");
  });

  it("channel input names the field that is wrong", () => {
    const bad = zChannelCreate.safeParse({
      clusterId: "c1",
      name: "",
      settings: { kind: "email", host: "smtp example", port: 70000, security: "tls", from: "ops", to: "a@x.org, nope" },
    });
    expect(bad.success).toBe(false);
    const issues = bad.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(issues).toEqual([
      "name: Name is required",
      "settings.host: SMTP server must be a host name or an IP address",
      "settings.port: Port must be 1-65535",
      "settings.from: From must be an email address like ops@example.com",
      'settings.to: Recipient 2 ("nope") is not an email address',
    ]);
    const webhook = zChannelCreate.safeParse({
      clusterId: "c1",
      name: "x",
      settings: { kind: "webhook", format: "json", url: "ftp://x" },
    });
    expect(webhook.error?.issues[0]?.path).toEqual(["settings", "url"]);
  });
});
