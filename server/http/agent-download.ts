import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { logger } from "../log";
import { BundleError, bundlePath, ensureAgentBundle, readAgentBundle } from "../services/gateway-ssh/bundle";

/**
 * GET /api/agent/v1/download/<file>: the console's own agent build and its systemd unit, so a
 * gateway installs the agent with two curl lines from the enroll dialog. Neither is secret (no
 * key or token is in them), so no sign-in is asked; the response names the agent's version and
 * sha256 for checking.
 */
export const AGENT_DOWNLOADS = {
  "gatehouse-agent": "the agent, one file run by node",
  "gatehouse-agent.service": "its systemd unit",
} as const;
export type AgentDownload = keyof typeof AGENT_DOWNLOADS;

export interface DownloadOptions {
  projectRoot: string;
  /** build the agent when the checkout has none (the console does; tests hand in a bundle) */
  build?: boolean;
}

const text = (status: number, body: string) =>
  new Response(`${body}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

export async function handleAgentDownload(file: string, opts: DownloadOptions): Promise<Response> {
  if (!Object.hasOwn(AGENT_DOWNLOADS, file)) {
    return text(404, `No such download "${file.slice(0, 80)}"; there are: ${Object.keys(AGENT_DOWNLOADS).join(", ")}`);
  }
  try {
    if (file === "gatehouse-agent.service") {
      const unit = await readFile(join(opts.projectRoot, "agent", "systemd", "gatehouse-agent.service"));
      return new Response(new Uint8Array(unit), {
        headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-cache" },
      });
    }
    const bundle = opts.build
      ? await ensureAgentBundle(opts.projectRoot)
      : await readAgentBundle(bundlePath(opts.projectRoot));
    return new Response(new Uint8Array(bundle.bytes), {
      headers: {
        "content-type": "text/javascript; charset=utf-8",
        "content-disposition": 'attachment; filename="gatehouse-agent"',
        "cache-control": "no-cache",
        "x-gatehouse-agent-version": bundle.version,
        "x-gatehouse-agent-sha256": bundle.sha256,
      },
    });
  } catch (e) {
    if (e instanceof BundleError) return text(503, e.message);
    logger.error({ err: e }, "agent download failed");
    return text(500, "The agent download failed; see the console's log");
  }
}
