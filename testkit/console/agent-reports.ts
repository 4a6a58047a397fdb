import { expect, type Page } from "@playwright/test";
import {
  AGENT_API_PREFIX,
  type HaStatus,
  type IpRuleCheck,
  type StatusReport,
  type VrrpState,
} from "../../core/protocol/agent-api";
import { api } from "./editing-helpers";

/** A gateway whose agent has enrolled: its id, and the token its status reports carry. */
export interface EnrolledAgent {
  id: string;
  name: string;
  agentToken: string;
}

/** Adds a gateway to the cluster and enrolls its agent through the console's agent API. */
export async function enrolledAgent(page: Page, clusterId: string, name: string): Promise<EnrolledAgent> {
  const gw = await api<{ id: string; enrollToken: string }>(page, "gateway.create", { clusterId, name });
  const enroll = await page.request.post(`${AGENT_API_PREFIX}/enroll`, {
    headers: { authorization: `Bearer ${gw.enrollToken}` },
    data: { agentVersion: "1.0.0" },
  });
  expect(enroll.ok()).toBe(true);
  const { agentToken } = (await enroll.json()) as { agentToken: string };
  return { id: gw.id, name, agentToken };
}

/** What a test's agent reports beyond its version and facts. */
export interface AgentReport {
  revision?: number;
  ipRules?: IpRuleCheck;
  ha?: HaStatus;
  virtualServices?: StatusReport["virtualServices"];
  /** rule counter deltas since the agent's last acknowledged report */
  ruleCounters?: StatusReport["ruleCounters"];
}

/**
 * Posts one status report of the agent, as a real agent would: `revision` is what it reports
 * running and applied (none: nothing yet), `ipRules` the operator ip rules it found before
 * Gatehouse's, `ha` its VRRP and connection sync state, `virtualServices` its real servers' health
 * and traffic.
 */
export async function postStatus(page: Page, agent: EnrolledAgent, report: AgentReport = {}): Promise<void> {
  const revision = report.revision;
  const status: StatusReport = {
    agentVersion: "1.0.0",
    running: revision === undefined ? null : { revision, failoverEpoch: 0 },
    lastApply:
      revision === undefined
        ? null
        : { revision, failoverEpoch: 0, ok: true, error: "", at: new Date().toISOString(), durationsMs: {} },
    facts: { hostname: agent.name, kernel: "6.1", nftVersion: "1.0.6", interfaces: [] },
    ...(report.ipRules ? { ipRules: report.ipRules } : {}),
    ...(report.ha ? { ha: report.ha } : {}),
    ...(report.virtualServices ? { virtualServices: report.virtualServices } : {}),
    ...(report.ruleCounters ? { ruleCounters: report.ruleCounters } : {}),
  };
  const posted = await page.request.post(`${AGENT_API_PREFIX}/status`, {
    headers: { authorization: `Bearer ${agent.agentToken}` },
    data: status,
  });
  expect(posted.ok(), await posted.text()).toBe(true);
}

/**
 * The VRRP part of a report: each group's state, keepalived and conntrackd running, and the
 * transitions the agent has seen so far (it resends them all; the console records new ones).
 */
export function haReport(
  states: Record<string, VrrpState>,
  transitions: HaStatus["transitions"] = [],
  priority = 100,
): HaStatus {
  const now = new Date().toISOString();
  return {
    checkedAt: now,
    groups: Object.entries(states).map(([name, state]) => ({ name, state, since: now, effectivePriority: priority })),
    keepalived: "running",
    conntrackd: "running",
    transitions,
    error: "",
  };
}

/**
 * A gateway whose agent enrolls and posts one status report through the console's agent API.
 * Answers the gateway's id.
 */
export async function reportingGateway(
  page: Page,
  clusterId: string,
  name: string,
  report: AgentReport = {},
): Promise<string> {
  const agent = await enrolledAgent(page, clusterId, name);
  await postStatus(page, agent, report);
  return agent.id;
}
