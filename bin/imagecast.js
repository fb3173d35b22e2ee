#!/usr/bin/env node
// `imagecast` on PATH (npm link, npx): the CLI. A committed, executable entry point, because
// `npm run build` recreates dist/ and drops the executable bit npm link had set there.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = fileURLToPath(new URL('../dist/client/cli/main.js', import.meta.url));
if (!existsSync(entry)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  console.error(`imagecast: ${entry} is missing: run \`npm run build\` in ${root}`);
  process.exit(1);
}
await import(pathToFileURL(entry).href);
