import { handleHealthz } from "@/server/http/probes";

export const dynamic = "force-dynamic";

export function GET(): Response {
  return handleHealthz();
}
