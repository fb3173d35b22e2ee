import { readFile } from 'node:fs/promises';
import { jsonErrorPosition } from './json-error-position.js';

export type ReadJobDocumentResult = { ok: true; doc: unknown } | { ok: false; error: string };

/**
 * Reads a JSON job document from a file or from stdin (`-`). Errors name the file and, for
 * malformed JSON, the line and column where it stops being JSON.
 */
export async function readJobDocument(file: string): Promise<ReadJobDocumentResult> {
  const name = file === '-' ? '<stdin>' : file;
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    return { ok: false, error: `${name}: cannot read: ${readFailure(error as NodeJS.ErrnoException)}` };
  }
  text = text.replace(/^\uFEFF/, ''); // editors on some systems write a byte-order mark
  try {
    return { ok: true, doc: JSON.parse(text) };
  } catch (error) {
    const at = jsonErrorPosition(text);
    const where = at ? ` at line ${at.line}, column ${at.column}` : '';
    return { ok: false, error: `${name}: not valid JSON${where}: ${parseFailure(error as Error)}` };
  }
}

/** V8's reason without the position (given as line and column) or its multi-line quote of the text. */
function parseFailure(error: Error): string {
  return error.message
    .replace(/, (\.\.\.)?".*" is not valid JSON$/s, '')
    .replace(/( in JSON)? at position \d+.*$/s, '');
}

function readFailure(error: NodeJS.ErrnoException): string {
  if (error.code === 'ENOENT') return 'no such file';
  if (error.code === 'EISDIR') return 'it is a directory';
  if (error.code === 'EACCES') return 'permission denied';
  return error.message;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
