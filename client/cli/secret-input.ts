import { readFile } from 'node:fs/promises';
import { UsageError } from './store-connection.js';

/** Reads a secret from a file, or from stdin for "-". Never from argv: argv shows in `ps` and shell history. */
export async function readSecretText(flag: string, source: string): Promise<string> {
  try {
    const text = source === '-' ? await readStdin() : await readFile(source, 'utf8');
    return text.replace(/\r?\n$/, '');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`${flag}: cannot read ${source === '-' ? 'stdin' : source}: ${reason}`);
  }
}

/** A JSON credentials file (a service account key, an SDK auth file); its content is never echoed. */
export async function readSecretJson(flag: string, source: string): Promise<unknown> {
  const text = await readSecretText(flag, source);
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${flag}: ${source === '-' ? 'stdin' : source} is not valid JSON`);
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new Error('stdin is a terminal; pipe the secret in');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
