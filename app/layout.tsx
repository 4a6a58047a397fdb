import type { Metadata } from "next";
import { connection } from "next/server";
import type { ReactNode } from "react";
import "./globals.css";
import { Providers } from "./providers";

export const metadata: Metadata = {
  title: "Gatehouse",
  description: "Egress SNAT gateway clusters: rules, failover and audit history",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // every page is rendered per request, so that each carries the script nonce of its own CSP (proxy.ts)
  await connection();
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
