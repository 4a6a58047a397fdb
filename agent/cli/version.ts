declare const __GATEHOUSE_AGENT_VERSION__: string | undefined;

/** Set by scripts/build-agent.ts; "dev" when run from source. */
export const AGENT_VERSION: string =
  typeof __GATEHOUSE_AGENT_VERSION__ === "string" ? __GATEHOUSE_AGENT_VERSION__ : "0.0.0-dev";
