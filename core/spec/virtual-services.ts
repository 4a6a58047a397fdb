import { z } from "zod";
import { zId, zIPv4, zName, zPort } from "../policy/fields";
import { zFwmark } from "../policy/match-criteria";
import {
  MAX_REAL_SERVERS,
  zHealthCheck,
  zRealServerMode,
  zSorryServer,
  zVsProtocol,
  zVsScheduler,
} from "../policy/virtual-service";

/**
 * The virtual services a gateway serves, as its spec carries them: enabled services only, each
 * with its real servers in the policy's order (the order hash buckets and the Maglev table
 * follow, so every gateway of a cluster sends a client to the same server).
 */

export const zSpecRealServer = z.object({
  address: zIPv4,
  /** null: the port the client connected to */
  port: zPort.nullable(),
  weight: z.number().int().min(0).max(65_535),
  state: z.enum(["enabled", "draining"]),
});
export type SpecRealServer = z.infer<typeof zSpecRealServer>;

export const zSpecVirtualService = z.object({
  id: zId,
  name: zName,
  /** null: the service is chosen by fwmark */
  address: zIPv4.nullable(),
  /** the operator's mark that chooses the service instead of an address (protocol any, port null); older specs: none */
  fwmark: zFwmark.nullable().default(null),
  protocol: zVsProtocol,
  /** null: every port (and for an fwmark service) */
  port: zPort.nullable(),
  scheduler: zVsScheduler,
  /** 0: no persistence */
  persistenceSeconds: z.number().int().min(0).max(86_400),
  sorryServer: zSorryServer.nullable(),
  fullNat: z.boolean(),
  /** one mode per service: NAT rewrites the destination, DR forwards the packet unchanged */
  mode: zRealServerMode,
  realServers: z.array(zSpecRealServer).min(1).max(MAX_REAL_SERVERS),
  healthCheck: zHealthCheck,
});
export type SpecVirtualService = z.infer<typeof zSpecVirtualService>;
