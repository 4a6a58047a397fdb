import { z } from "zod";
import { parseTrustedProxies } from "./http/forwarded";
import { zUsername } from "./services/auth/username";

/** The only place that reads process.env. Everything else imports `env`. */
const zEnv = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  /** file:./data/gatehouse.db (SQLite, default) or postgresql://user:pass@host:5432/db */
  DATABASE_URL: z
    .string()
    .default("file:./data/gatehouse.db")
    .refine((u) => u.startsWith("file:") || /^postgres(ql)?:\/\//.test(u), "must start with file: or postgresql://"),
  /** password for the first admin; generated and printed once when unset */
  GATEHOUSE_ADMIN_USER: zUsername.default("admin"),
  GATEHOUSE_ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
  /** the console's own URL as browsers reach it; https turns on Secure cookies */
  GATEHOUSE_PUBLIC_URL: z.string().url().optional(),
  GATEHOUSE_SESSION_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(12),
  /** 32-byte key (hex or base64) that encrypts stored SSH credentials */
  GATEHOUSE_SECRET_KEY: z.string().optional(),
  /**
   * addresses or CIDRs of reverse proxies in front of the console, comma-separated: only requests from these
   * may set the client address (X-Forwarded-For), host (X-Forwarded-Host) and protocol (X-Forwarded-Proto)
   */
  GATEHOUSE_TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((text, ctx) => {
      try {
        return parseTrustedProxies(text);
      } catch (e) {
        ctx.addIssue({ code: "custom", message: (e as Error).message });
        return z.NEVER;
      }
    }),
  /** 32-byte key (hex or base64) that keys the audit hash chain; wins over GATEHOUSE_AUDIT_KEY_FILE */
  GATEHOUSE_AUDIT_KEY: z.string().min(1).optional(),
  /** where the audit chain key is kept (created with mode 0600 on first start when missing) */
  GATEHOUSE_AUDIT_KEY_FILE: z.string().min(1).optional(),
  /** when set, GET /metrics needs `Authorization: Bearer <this>`; unset: /metrics is open */
  GATEHOUSE_METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
});

export type Env = z.infer<typeof zEnv>;

function load(): Env {
  const parsed = zEnv.safeParse(process.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid environment:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

export const env: Env = load();
