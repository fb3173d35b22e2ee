import { readFileSync } from 'node:fs';
import { NO_TRUSTED_PROXIES, parseTrustedProxies, type TrustedProxies } from './client-address.js';

/** How the gateway meets its clients: HTTPS or HTTP, and which proxies it believes. */
export interface ListenConfig {
  tls?: { cert: Buffer; key: Buffer };
  trustedProxies: TrustedProxies;
}

export interface ListenFlags {
  tlsCert?: string;
  tlsKey?: string;
  trustProxy?: string;
}

export const LISTEN_ENV = {
  tlsCert: 'IMAGECAST_GATEWAY_TLS_CERT',
  tlsKey: 'IMAGECAST_GATEWAY_TLS_KEY',
  trustProxy: 'IMAGECAST_GATEWAY_TRUST_PROXY',
} as const;

/**
 * Reads `--tls-cert/--tls-key/--trust-proxy` (flags win over IMAGECAST_GATEWAY_* variables).
 * Throws one error listing every problem, each naming the option; a key file's content is
 * never part of a message.
 */
export function listenConfig(flags: ListenFlags, env: Record<string, string | undefined>): ListenConfig {
  const pick = (flag: string | undefined, variable: string) => (flag ?? env[variable])?.trim() || undefined;
  const certPath = pick(flags.tlsCert, LISTEN_ENV.tlsCert);
  const keyPath = pick(flags.tlsKey, LISTEN_ENV.tlsKey);
  const trust = pick(flags.trustProxy, LISTEN_ENV.trustProxy);
  const problems: string[] = [];
  const read = (path: string, option: string, expected: RegExp, what: string) => {
    try {
      const bytes = readFileSync(path);
      if (!expected.test(bytes.toString('latin1'))) problems.push(`${option}: expected a PEM ${what}, got ${path} without one`);
      return bytes;
    } catch (error) {
      problems.push(`${option}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unknown error'}`);
      return undefined;
    }
  };
  let tls: ListenConfig['tls'];
  if (certPath && keyPath) {
    const cert = read(certPath, '--tls-cert', /-----BEGIN CERTIFICATE-----/, 'certificate');
    const key = read(keyPath, '--tls-key', /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/, 'private key');
    if (cert && key) tls = { cert, key };
  } else if (certPath || keyPath) {
    problems.push(certPath ? '--tls-key: required with --tls-cert' : '--tls-cert: required with --tls-key');
  }
  let trustedProxies = NO_TRUSTED_PROXIES;
  try {
    if (trust) trustedProxies = parseTrustedProxies(trust);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (problems.length) throw new Error(problems.join('; '));
  return { tls, trustedProxies };
}
