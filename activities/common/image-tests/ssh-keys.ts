import ssh2 from 'ssh2';

const { utils } = ssh2;

/** A key pair made for one release's test instance: in memory only, never stored or put in history. */
export interface EphemeralKeyPair {
  /** OpenSSH private key (what ssh2 connects with). */
  privateKey: string;
  /** `ssh-ed25519 AAAA… comment`: what goes into authorized_keys, a cloud key pair, cloud-init. */
  publicKey: string;
}

export function ephemeralKeyPair(comment = 'imagecast-test'): EphemeralKeyPair {
  const pair = utils.generateKeyPairSync('ed25519', { comment });
  return { privateKey: pair.private, publicKey: pair.public.trim() };
}
