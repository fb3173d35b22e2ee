import ssh2 from 'ssh2';

const { utils } = ssh2;

/** A key pair made for one release's test instance: in memory only, never stored or put in history. */
export interface EphemeralKeyPair {
  /** OpenSSH private key (what ssh2 connects with). */
  privateKey: string;
  /** `ssh-ed25519 AAAA… comment`: what goes into authorized_keys, a cloud key pair, cloud-init. */
  publicKey: string;
}

const ED25519_KEY_BYTES = 32;

export function ephemeralKeyPair(comment = 'imagecast-test'): EphemeralKeyPair {
  // ssh2's keygen strips every leading zero byte of the ed25519 public key, so about one key
  // in 256 comes out 31 bytes long and every consumer (EC2 ImportKeyPair, sshd) refuses it.
  // Such a key is simply drawn again: the next one is good with the same odds.
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519', { comment });
    const publicKey = pair.public.trim();
    if (ed25519KeyLength(publicKey) === ED25519_KEY_BYTES) return { privateKey: pair.private, publicKey };
  }
}

/** The length of the raw key inside an `ssh-ed25519 <base64 blob>` line (RFC 8709 §4). */
export function ed25519KeyLength(publicKeyLine: string): number {
  const blob = Buffer.from(publicKeyLine.split(' ')[1] ?? '', 'base64');
  const nameLength = blob.readUInt32BE(0);
  return blob.readUInt32BE(4 + nameLength);
}
