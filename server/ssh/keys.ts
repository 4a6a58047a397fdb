import ssh2 from "ssh2";

/**
 * Checks a private key before anything is stored or sent: null when ssh2 can use it, else why
 * not (wrong passphrase, unknown format), in ssh2's words.
 */
export function privateKeyProblem(privateKey: string, passphrase?: string): string | null {
  const parsed = ssh2.utils.parseKey(privateKey, passphrase);
  if (parsed instanceof Error) return parsed.message;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined || !key.isPrivateKey()) return "it is not a private key";
  return null;
}
