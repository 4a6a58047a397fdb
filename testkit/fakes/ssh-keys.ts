import ssh2 from "ssh2";

type KeyOptions = Parameters<typeof ssh2.utils.generateKeyPairSync>[1];

/**
 * An ed25519 key pair in OpenSSH format that ssh2 can read back. ssh2's generator strips leading
 * zero bytes from the public key, so about one pair in 256 comes out unreadable; such a pair is
 * generated again (a test that met one would fail for no reason of its own).
 */
export function ed25519KeyPair(options: KeyOptions = {}): { private: string; public: string } {
  for (let attempt = 0; attempt < 16; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync("ed25519", options);
    if (!(ssh2.utils.parseKey(pair.public) instanceof Error)) return pair;
  }
  throw new Error("no readable ed25519 key pair in 16 attempts");
}
