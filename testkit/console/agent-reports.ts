import { expect, type Page } from "@playwright/test";
import { AGENT_API_PREFIX, type IpRuleCheck, type StatusReport } from "../../core/protocol/agent-api";
import { api } from "./editing-helpers";

/**
 * A gateway whose agent enrolls and posts one status report through the console's agent API,
 * as a real agent would: `revision` is what it reports running and applied (none: nothing yet),
 * `ipRules` the operator ip rules it found before Gatehouse's, `virtualServices` its real servers' health
 * and traffic. Answers the gateway's id.
 */
export async function reportingGateway(
  page: Page,
  clusterId: string,
  name: string,
  report: { revision?: number; ipRules?: IpRuleCheck; virtualServices?: StatusReport["virtualServices"] } = {},
): Promise<string> {
  const gw = await api<{ id: string; enrollToken: string }>(page, "gateway.create", { clusterId, name });
  const enroll = await page.request.post(`${AGENT_API_PREFIX}/enroll`, {
    headers: { authorization: `Bearer ${gw.enrollToken}` },
    data: { agentVersion: "1.0.0" },
  });
  expect(enroll.ok()).toBe(true);
  const { agentToken } = (await enroll.json()) as { agentToken: string };
  const revision = report.revision;
  const status: StatusReport = {
    agentVersion: "1.0.0",
    running: revision === undefined ? null : { revision, failoverEpoch: 0 },
    lastApply:
      revision === undefined
        ? null
        : { revision, failoverEpoch: 0, ok: true, error: "", at: new Date().toISOString(), durationsMs: {} },
    facts: { hostname: name, kernel: "6.1", nftVersion: "1.0.6", interfaces: [] },
    ...(report.ipRules ? { ipRules: report.ipRules } : {}),
    ...(report.virtualServices ? { virtualServices: report.virtualServices } : {}),
  };
  const posted = await page.request.post(`${AGENT_API_PREFIX}/status`, {
    headers: { authorization: `Bearer ${agentToken}` },
    data: status,
  });
  expect(posted.ok(), await posted.text()).toBe(true);
  return gw.id;
}
