// The openssl command-line tool, which signs and verifies our lists: its `smime -sign` output
// is what vmcaster and the EGI tooling produce byte for byte, and its verify is what
// subscribers run (vmcatcher through M2Crypto, atrope through this very CLI). Node 20 has no
// CMS API of its own.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface OpensslRun {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs `openssl ARGS`; never throws for a non-zero exit (a failed verify is an answer). */
export function openssl(args: string[], input?: Buffer | string): Promise<OpensslRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.IMAGECAST_OPENSSL ?? 'openssl', args, {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', (error) =>
      reject(
        new Error(
          `cannot run openssl (${error.message}); it must be installed and on PATH, or named by IMAGECAST_OPENSSL`,
        ),
      ),
    );
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr }));
    child.stdin.on('error', () => undefined); // openssl may exit before reading all of stdin
    child.stdin.end(input ?? '');
  });
}

/** The reason in openssl's error output (`…:digest failure:…` → `digest failure`), for a person. */
export function opensslReason(stderr: string): string {
  const reasons = [...stderr.matchAll(/^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:\n]+)/gm)].map((m) =>
    m[1]!.trim(),
  );
  const unique = [...new Set(reasons)];
  if (unique.length > 0) return unique.join('; ');
  return stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? 'openssl failed';
}

/** A private temporary directory for keys and messages handed to openssl, removed afterwards. */
export async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'imagecast-imagelist-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
