import type { NextConfig } from "next";
import { STATIC_SECURITY_HEADERS } from "./server/http/security-headers";

const config: NextConfig = {
  serverExternalPackages: [
    "better-sqlite3",
    "@prisma/adapter-better-sqlite3",
    "@prisma/adapter-pg",
    "pg",
    "ssh2",
    "pino",
    "@node-rs/argon2",
    "rate-limiter-flexible",
  ],
  async headers() {
    return [
      {
        source: "/:path*",
        headers: Object.entries(STATIC_SECURITY_HEADERS).map(([key, value]) => ({ key, value })),
      },
    ];
  },
  // Prometheus scrapes /metrics by convention; the handler is mounted with the other HTTP handlers
  async rewrites() {
    return [{ source: "/metrics", destination: "/api/metrics" }];
  },
  poweredByHeader: false,
  reactStrictMode: true,
  typedRoutes: false,
};

export default config;
