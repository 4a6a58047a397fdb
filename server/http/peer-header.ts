/** Header names under which the console stamps each request's TCP peer (server/http/peer.ts). */
export const PEER_HEADER = "x-gatehouse-peer";
export const PEER_TLS_HEADER = "x-gatehouse-peer-tls";

/** The stamped peer of a fetch Request ("" when no stamp: then nothing forwarded is believed either). */
export function peerOf(headers: Headers): { peer: string; tls: boolean } {
  return { peer: headers.get(PEER_HEADER) ?? "", tls: headers.get(PEER_TLS_HEADER) === "1" };
}
