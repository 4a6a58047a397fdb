import type { SpecKey } from "../../core/protocol/agent-api";
import { type GatewaySpec, SPEC_VERSION, zGatewaySpec } from "../../core/spec/schema";

/**
 * Checks a spec from the console (or a file) before anything is applied. A spec of another
 * specVersion is refused with a message that says which side to upgrade, rather than a list of
 * schema errors.
 */
export type SpecCheck =
  | { ok: true; spec: GatewaySpec }
  /** key: the revision and epoch the spec claims, when it has them, so the agent does not fetch it again */
  | { ok: false; error: string; key: SpecKey | null };

function claimedKey(raw: unknown): SpecKey | null {
  if (typeof raw !== "object" || raw === null) return null;
  const { revision, failoverEpoch } = raw as { revision?: unknown; failoverEpoch?: unknown };
  const good = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 0;
  return good(revision) && good(failoverEpoch) ? { revision, failoverEpoch } : null;
}

export function checkSpec(raw: unknown): SpecCheck {
  const key = claimedKey(raw);
  const version = typeof raw === "object" && raw !== null ? (raw as { specVersion?: unknown }).specVersion : undefined;
  if (version !== SPEC_VERSION) {
    const what = typeof version === "number" ? `spec version ${version}` : "a spec without a valid specVersion";
    const advice =
      typeof version === "number" && version > SPEC_VERSION
        ? "upgrade this agent to one that knows it"
        : "the console and agent do not match";
    return {
      ok: false,
      key,
      error: `refused ${what}: this agent understands spec version ${SPEC_VERSION} only; ${advice}`,
    };
  }
  const parsed = zGatewaySpec.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join(".") || "spec"}: ${i.message}`)
      .join("; ");
    return { ok: false, key, error: `refused an invalid spec: ${issues}` };
  }
  return { ok: true, spec: parsed.data };
}

export const keyOf = (spec: GatewaySpec): SpecKey => ({ revision: spec.revision, failoverEpoch: spec.failoverEpoch });
