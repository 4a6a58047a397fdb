import { shellQuote } from "../../ssh/quote";
import { AGENT_NODE_FLAGS, agentEnvAssignments } from "../../../core/protocol/agent-runtime";
import type { AgentLayout } from "./layout";

/**
 * The files that make the agent a service: the systemd unit (the shipped one, with the host's own
 * node), or, where systemd is not the init system, a small supervisor script that restarts the
 * agent like the unit's Restart=always and keeps its pid and log where diagnostics find them.
 */

/** Exit status for "not enrolled": the unit's RestartPreventExitStatus, the supervisor's stop condition. */
const NOT_CONFIGURED = 78;
const LOG_LIMIT_BYTES = 10 * 1024 * 1024;

export class UnitTemplateError extends Error {
  override name = "UnitTemplateError";
}

/** The shipped unit with ExecStart pointing at this host's node and the layout's paths. */
export function renderUnit(template: string, layout: AgentLayout, nodePath: string): string {
  const lines = template.split("\n");
  const i = lines.findIndex((l) => l.startsWith("ExecStart="));
  if (i < 0) throw new UnitTemplateError("the systemd unit template has no ExecStart line");
  lines[i] = `ExecStart=${[nodePath, ...AGENT_NODE_FLAGS, layout.bin].join(" ")} run --state-dir ${layout.stateDir}`;
  return lines.join("\n");
}

export function renderSupervisor(layout: AgentLayout, nodePath: string): string {
  const q = shellQuote;
  return `#!/bin/sh
# Gatehouse agent supervisor for hosts whose init is not systemd: runs the agent and starts it
# again when it exits (as the systemd unit's Restart=always does). Written by the Gatehouse
# console at enrollment; upgrades replace the agent, not this script.
NODE=${q(nodePath)}
AGENT=${q(layout.bin)}
STATE_DIR=${q(layout.stateDir)}
LOG=${q(layout.logFile)}
PID_FILE=${q(layout.supervisorPidFile)}
AGENT_PID_FILE=${q(layout.agentPidFile)}
export NODE_ENV=production
${agentEnvAssignments()
  .map((a) => `export ${a}`)
  .join("\n")}
umask 077
child=
stop() {
  if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; wait "$child"; fi
  rm -f -- "$PID_FILE" "$AGENT_PID_FILE"
  exit 0
}
trap stop TERM INT
trap '' HUP
echo $$ > "$PID_FILE"
while :; do
  # one previous log is kept, so a crash loop cannot fill the disk
  if [ -f "$LOG" ] && [ "$(wc -c < "$LOG")" -gt ${LOG_LIMIT_BYTES} ]; then mv -f -- "$LOG" "$LOG.1"; fi
  "$NODE" ${AGENT_NODE_FLAGS.map(q).join(" ")} "$AGENT" run --state-dir "$STATE_DIR" >>"$LOG" 2>&1 &
  child=$!
  echo "$child" > "$AGENT_PID_FILE"
  wait "$child"
  code=$?
  child=
  if [ "$code" -eq ${NOT_CONFIGURED} ]; then
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) gatehouse-agent is not enrolled (exit ${NOT_CONFIGURED}); not restarting" >>"$LOG"
    rm -f -- "$PID_FILE" "$AGENT_PID_FILE"
    exit ${NOT_CONFIGURED}
  fi
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) gatehouse-agent exited with status $code; restarting in 2 s" >>"$LOG"
  sleep 2
done
`;
}
