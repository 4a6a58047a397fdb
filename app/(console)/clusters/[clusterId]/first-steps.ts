/**
 * The steps from an empty cluster to gateways enforcing its policy, in the order they depend on
 * each other, and which of them are done: what a cluster's overview offers a newcomer.
 */

export interface ClusterProgress {
  isps: number;
  pools: number;
  rules: number;
  gateways: number;
  publishedRevision: number;
}

export interface FirstStep {
  key: "isps" | "pools" | "rules" | "publish" | "gateways";
  title: string;
  /** what the step is for, in one sentence */
  why: string;
  /** the page (under the cluster) where it is done */
  page: string;
  done: boolean;
}

export function firstSteps(p: ClusterProgress): FirstStep[] {
  return [
    {
      key: "isps",
      title: "Add the ISPs",
      why: "each uplink: its interface and next hop, its SNAT addresses, how its health is probed, and which ISP backs it up",
      page: "isps",
      done: p.isps > 0,
    },
    {
      key: "pools",
      title: "Give the ISPs their SNAT pools",
      why: "the public addresses connections leaving through each ISP get (typed with the ISP, or added here)",
      page: "pools",
      done: p.pools > 0,
    },
    {
      key: "rules",
      title: "Add rules",
      why: "which LAN sources (and destinations) get which pool, or are excluded or dropped",
      page: "rules",
      done: p.rules > 0,
    },
    {
      key: "publish",
      title: "Publish the draft",
      why: "edits stay in the draft until published; gateways apply published revisions only",
      page: "changes",
      done: p.publishedRevision > 0,
    },
    {
      key: "gateways",
      title: "Add a gateway and enroll its agent",
      why: "the agent on each gateway applies the published policy and reports link health",
      page: "gateways",
      done: p.gateways > 0,
    },
  ];
}

/** The first step not done yet, or null when the cluster is set up. */
export function nextStep(p: ClusterProgress): FirstStep | null {
  return firstSteps(p).find((s) => !s.done) ?? null;
}
