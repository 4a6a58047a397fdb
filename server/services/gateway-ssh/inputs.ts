import { z } from "zod";
import { zConsoleUrl } from "../../../core/protocol/agent-api";
import { zId, zName } from "../../../core/policy/model";
import { FINGERPRINT_RE } from "../../ssh/fingerprint";

/**
 * What an admin types to reach a gateway over SSH. Every value that ends up in a remote command
 * passes one of these first; the shapes are narrow on purpose (no leading "-", no spaces, no
 * shell characters), and the commands quote them anyway.
 */

export const zSshHost = z
  .string()
  .trim()
  .min(1, "is required")
  .max(253, "must be at most 253 characters")
  .regex(/^[A-Za-z0-9]([A-Za-z0-9.:_-]*[A-Za-z0-9])?$/, "must be a host name or an IP address");

export const zSshPort = z.coerce
  .number()
  .int("must be a whole number")
  .min(1, "must be 1 to 65535")
  .max(65535, "must be 1 to 65535");

export const zSshUsername = z
  .string()
  .trim()
  .min(1, "is required")
  .max(32, "must be at most 32 characters")
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, "must be a user name (letters, digits, _ . -)");

export const zPrivateKey = z
  .string()
  .max(16_384, "is too long for a private key")
  .refine((k) => /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(k), "must be a private key in PEM or OpenSSH format");

export const zSshAuthInput = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("key"),
    privateKey: zPrivateKey,
    passphrase: z.string().max(1024).optional(),
  }),
  z.object({ kind: z.literal("password"), password: z.string().min(1, "is required").max(1024) }),
]);
export type SshAuthInput = z.infer<typeof zSshAuthInput>;

export const zFingerprint = z
  .string()
  .trim()
  .regex(FINGERPRINT_RE, "must be a SHA256 fingerprint as OpenSSH shows it (SHA256:...)");

export const zHostKeyAlgorithm = z.string().regex(/^[a-z0-9@._-]{1,64}$/, "must be an SSH key type");

export const zConfirmedHostKey = z.object({ algorithm: zHostKeyAlgorithm, fingerprint: zFingerprint });

export const SERVICE_MODES = ["auto", "systemd", "supervised"] as const;
export const zServiceModeRequest = z.enum(SERVICE_MODES);
export type ServiceModeRequest = z.infer<typeof zServiceModeRequest>;
export type ServiceMode = Exclude<ServiceModeRequest, "auto">;

/** "" (the standard paths) or an absolute directory the agent's files go under, e.g. on a test host. */
export const zInstallRoot = z
  .string()
  .trim()
  .max(200, "must be at most 200 characters")
  .refine(
    (p) => p === "" || (/^(\/[A-Za-z0-9._-]+)+$/.test(p) && !p.split("/").some((s) => s === "." || s === "..")),
    "must be empty or an absolute directory (letters, digits, . _ -), without . or ..",
  );

export const zSshEndpointInput = z.object({ host: zSshHost, port: zSshPort.default(22) });

export const zSshAccessInput = zSshEndpointInput.extend({
  username: zSshUsername,
  auth: zSshAuthInput,
  /** the key the admin confirmed after scanning */
  hostKey: zConfirmedHostKey,
});

export const zEnrollInput = zSshAccessInput.extend({
  clusterId: zId,
  name: zName,
  /** the console URL the agent will use; must be reachable from the gateway */
  consoleUrl: zConsoleUrl,
  /** keep the credentials (sealed) for diagnostics and upgrades; otherwise they live only for this job */
  keepCredentials: z.boolean().default(true),
  serviceMode: zServiceModeRequest.default("auto"),
  installRoot: zInstallRoot.default(""),
});
export type EnrollInput = z.infer<typeof zEnrollInput>;

export const zSetCredentialsInput = zSshAccessInput.extend({
  gatewayId: zId,
  serviceMode: zServiceModeRequest.default("auto"),
  installRoot: zInstallRoot.default(""),
});
export type SetCredentialsInput = z.infer<typeof zSetCredentialsInput>;
