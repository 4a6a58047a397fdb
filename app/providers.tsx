"use client";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  httpSubscriptionLink,
  isTRPCClientError,
  splitLink,
} from "@trpc/client";
import { type ReactNode, useState } from "react";
import superjson from "superjson";
import type { AppRouter } from "@/server/trpc/root";
import { TRPCProvider } from "./lib/trpc";

function readCookie(name: string): string | undefined {
  const match = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return match ? decodeURIComponent(match.slice(name.length + 1)) : undefined;
}

export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: {
            staleTime: 5_000,
            retry: (count, err) =>
              count < 2 && !(isTRPCClientError(err) && err.data?.httpStatus && err.data.httpStatus < 500),
          },
        },
      }),
  );
  const [trpcClient] = useState(() => {
    const headers = () => {
      const csrf = readCookie("gh_csrf");
      return csrf ? { "x-csrf-token": csrf } : {};
    };
    return createTRPCClient<AppRouter>({
      links: [
        // live views (subscriptions) stream over server-sent events; sign-in goes alone (the server refuses it
        // in a batch); everything else is batched, within the server's limit of 50 calls a batch
        splitLink({
          condition: (op) => op.type === "subscription",
          true: httpSubscriptionLink({ url: "/api/trpc", transformer: superjson }),
          false: splitLink({
            condition: (op) => op.path === "auth.login",
            true: httpLink({ url: "/api/trpc", transformer: superjson, headers }),
            false: httpBatchLink({ url: "/api/trpc", transformer: superjson, headers, maxItems: 50 }),
          }),
        }),
      ],
    });
  });
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
