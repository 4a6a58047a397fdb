import microdiff from "microdiff";
import type { VirtualService } from "./virtual-service";
import { virtualServiceFieldLabel } from "./virtual-service-validate";

/**
 * What changed in the virtual services between two policies: each service added, removed or
 * changed, with its changed top-level fields (a list, such as the real servers, as a whole).
 */

export interface VirtualServiceChange {
  kind: "virtualService";
  id: string;
  name: string;
  change: "added" | "removed" | "changed";
  fields: Array<{ path: string; label: string; before: unknown; after: unknown }>;
}

export function diffVirtualServices(
  before: readonly VirtualService[] = [],
  after: readonly VirtualService[] = [],
): VirtualServiceChange[] {
  const old = new Map(before.map((s) => [s.id, s]));
  const now = new Map(after.map((s) => [s.id, s]));
  const out: VirtualServiceChange[] = [];
  const whole = (s: VirtualService, side: "before" | "after") =>
    Object.entries(s)
      .filter(([k]) => k !== "id")
      .map(([k, v]) => ({
        path: k,
        label: virtualServiceFieldLabel([k]),
        before: side === "before" ? v : undefined,
        after: side === "after" ? v : undefined,
      }));
  for (const [id, s] of now) {
    const prev = old.get(id);
    const name = `virtual service "${s.name}"`;
    if (prev === undefined) {
      out.push({ kind: "virtualService", id, name, change: "added", fields: whole(s, "after") });
      continue;
    }
    const paths = new Set(microdiff(prev, s).map((d) => String(d.path[0])));
    if (paths.size === 0) continue;
    const fields = [...paths].map((p) => ({
      path: p,
      label: virtualServiceFieldLabel([p]),
      before: (prev as Record<string, unknown>)[p],
      after: (s as Record<string, unknown>)[p],
    }));
    out.push({ kind: "virtualService", id, name, change: "changed", fields });
  }
  for (const [id, s] of old) {
    if (!now.has(id)) {
      out.push({
        kind: "virtualService",
        id,
        name: `virtual service "${s.name}"`,
        change: "removed",
        fields: whole(s, "before"),
      });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
