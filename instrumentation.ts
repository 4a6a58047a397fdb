/**
 * Runs once when the console's server starts, before it serves requests: stamps every request with its TCP peer
 * (server/http/peer.ts), brings the database schema up to date and creates the first admin account on an empty
 * database.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { stampPeersOnEveryServer } = await import("./server/http/peer");
  stampPeersOnEveryServer();
  const { prepareConsole } = await import("./server/startup");
  await prepareConsole();
}
