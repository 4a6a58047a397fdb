import { handleAgentDownload } from "@/server/http/agent-download";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(_req: Request, ctx: { params: Promise<{ file: string }> }): Promise<Response> {
  const { file } = await ctx.params;
  return handleAgentDownload(file, { projectRoot: /*turbopackIgnore: true*/ process.cwd(), build: true });
}
