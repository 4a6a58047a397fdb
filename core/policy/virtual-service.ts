import { z } from "zod";
import { zComment, zId, zIPv4, zName, zPort } from "./fields";
import { type Fwmark, zFwmark } from "./match-criteria";

/**
 * Inbound virtual services, as `ipvsadm -A/-a` and keepalived's `virtual_server`: connections to
 * an address, protocol and port (or every port) of the gateway are spread over real servers.
 * Field-level checks live here; checks against the rest of the policy in
 * virtual-service-validate.ts.
 */

/**
 * rr: round robin; wrr: weighted round robin; sh: hash of the client address; dh: hash of the
 * destination address; mh: consistent hash of the client address (Maglev lookup table: a server
 * that leaves moves only its own clients); random. Least-connection schedulers are not offered:
 * nftables has no per-server connection count at lookup time.
 */
export const VS_SCHEDULERS = ["rr", "wrr", "sh", "dh", "mh", "random"] as const;
export const zVsScheduler = z.enum(VS_SCHEDULERS);
export type VsScheduler = z.infer<typeof zVsScheduler>;
export const VS_SCHEDULER_LABELS: Record<VsScheduler, string> = {
  rr: "round robin",
  wrr: "weighted round robin",
  sh: "source hash",
  dh: "destination hash",
  mh: "consistent hash (Maglev)",
  random: "random",
};

/**
 * tcp, udp: a service on an address takes one of them. any: TCP and UDP, what a service chosen by
 * fwmark takes (as IPVS's fwmark services do): the operator's rule that sets the mark picks them.
 */
export const VS_PROTOCOLS = ["tcp", "udp", "any"] as const;
export const zVsProtocol = z.enum(VS_PROTOCOLS);
export type VsProtocol = z.infer<typeof zVsProtocol>;
/** The protocols a packet of a virtual service has. */
export type VsPacketProtocol = Exclude<VsProtocol, "any">;
export const VS_PROTOCOL_LABELS: Record<VsProtocol, string> = { tcp: "TCP", udp: "UDP", any: "TCP and UDP" };
/** The packet protocols a service takes. */
export const vsProtocols = (p: VsProtocol): VsPacketProtocol[] => (p === "any" ? ["tcp", "udp"] : [p]);

/** nat: the gateway rewrites the destination (replies must come back through it); dr: direct routing. */
export const REAL_SERVER_MODES = ["nat", "dr"] as const;
export const zRealServerMode = z.enum(REAL_SERVER_MODES);
export type RealServerMode = z.infer<typeof zRealServerMode>;

export const MAX_WEIGHT = 65_535;

export const zRealServer = z.object({
  address: zIPv4,
  /** null: the port the client connected to (the only choice in DR mode) */
  port: zPort.nullable().default(null),
  weight: z
    .number()
    .int("must be a whole number")
    .min(0, "must be 0 or more")
    .max(MAX_WEIGHT, `must be at most ${MAX_WEIGHT}`)
    .default(1),
  mode: zRealServerMode.default("nat"),
  /** draining: established connections finish, no new ones (ipvsadm weight 0) */
  state: z.enum(["enabled", "draining"]).default("enabled"),
});
export type RealServer = z.infer<typeof zRealServer>;

export const HEALTH_CHECK_KINDS = ["none", "tcp", "http", "https"] as const;
export const zHealthCheckKind = z.enum(HEALTH_CHECK_KINDS);

export const zHealthCheck = z
  .object({
    kind: zHealthCheckKind.default("none"),
    intervalMs: z
      .number()
      .int()
      .min(100, "must be at least 100 ms")
      .max(600_000, "must be at most 10 minutes")
      .default(2000),
    timeoutMs: z.number().int().min(50, "must be at least 50 ms").max(60_000, "must be at most 60 s").default(1000),
    /** good checks in a row before a failed server is used again */
    rise: z.number().int().min(1, "must be at least 1").max(100, "must be at most 100").default(2),
    /** failed checks in a row before a server is taken out */
    fall: z.number().int().min(1, "must be at least 1").max(100, "must be at most 100").default(3),
    /** http(s): the path requested with GET */
    path: z
      .string()
      .max(512, "must be at most 512 characters")
      .regex(/^\/[\x21-\x7e]*$/, "must start with '/' and contain no spaces or control characters")
      .default("/"),
    /** http(s): the status the answer must have */
    expectStatus: z.number().int().min(100, "must be at least 100").max(599, "must be at most 599").default(200),
    /** http(s): text the body must contain; empty: any body */
    bodyText: z.string().max(256, "must be at most 256 characters").default(""),
  })
  .refine((h) => h.timeoutMs <= h.intervalMs, {
    message: "must not be longer than the interval",
    path: ["timeoutMs"],
  })
  .prefault({});
export type HealthCheck = z.infer<typeof zHealthCheck>;

export const zSorryServer = z.object({ address: zIPv4, port: zPort.nullable().default(null) });
export type SorryServer = z.infer<typeof zSorryServer>;

export const MAX_REAL_SERVERS = 64;
export const MAX_PERSISTENCE_SECONDS = 86_400;

export const zVirtualServiceFields = z.object({
  name: zName,
  /** the virtual address; null for a service chosen by fwmark */
  address: zIPv4.nullable(),
  /**
   * the operator's firewall mark that chooses the service's connections instead of an address,
   * protocol and port (ipvsadm -A -f, keepalived `virtual_server fwmark`): `mark & mask == value`,
   * in the bits the operator's own rules may set (OPERATOR_MARK_BITS), as rules read it
   */
  fwmark: zFwmark.nullable().default(null),
  protocol: zVsProtocol.default("tcp"),
  /** null: every port of the address (ipvsadm's port 0 with persistence), and for an fwmark service */
  port: zPort.nullable(),
  scheduler: zVsScheduler.default("rr"),
  /** a client keeps its real server this many seconds after its last new connection; 0: off */
  persistenceSeconds: z
    .number()
    .int("must be a whole number")
    .min(0, "must be 0 or more")
    .max(MAX_PERSISTENCE_SECONDS, "must be at most one day")
    .default(0),
  /** used when no real server is healthy; null: new connections are refused */
  sorryServer: zSorryServer.nullable().default(null),
  /** also rewrite the client's address to the gateway's (FULLNAT), for servers not routed through it */
  fullNat: z.boolean().default(false),
  realServers: z
    .array(zRealServer)
    .min(1, "needs at least one real server")
    .max(MAX_REAL_SERVERS, `may have at most ${MAX_REAL_SERVERS} real servers`),
  healthCheck: zHealthCheck,
  enabled: z.boolean().default(true),
  comment: zComment,
});
/** The fields as a form or an API caller sends them (defaults may be left out). */
export type VirtualServiceFields = z.input<typeof zVirtualServiceFields>;
export const zVirtualService = zVirtualServiceFields.extend({ id: zId });
export type VirtualService = z.infer<typeof zVirtualService>;

/**
 * Whether the service's DNAT targets carry a port: a service on one port always does (a real
 * server without one takes the service's); a service on every port never does (each connection
 * keeps its own); an fwmark service does when every real server gives one, as IPVS sends a
 * connection to the real server's port, or to the one it came to when the real server has none.
 */
export function dnatsPorts(s: {
  port: number | null;
  fwmark?: Fwmark | null;
  realServers: ReadonlyArray<{ port: number | null }>;
}): boolean {
  if (s.port !== null) return true;
  return s.fwmark != null && s.realServers.length > 0 && s.realServers.every((r) => r.port !== null);
}
