// The imagelist_publish mappings (vmcaster's uriMatch/uriReplace) from the config file the
// CLI reads too (IMAGECAST_CONFIG, else ~/.config/imagecast/config.json), for the worker,
// which publishes the lists releases change: one file says where lists go for both.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { imageListPublishSchema, type ImageListPublishMapping } from '../../../schemas/imagelist-publish.js';

/** The mappings and the file they came from; none when no file is named and the default one does not exist. */
export function publishMappingsFromEnv(env: NodeJS.ProcessEnv): {
  mappings: ImageListPublishMapping[];
  origin: string;
} {
  const explicit = env.IMAGECAST_CONFIG;
  const origin = explicit || join(env.HOME ?? homedir(), '.config', 'imagecast', 'config.json');
  if (!explicit && !existsSync(origin)) return { mappings: [], origin };
  let json: { imagelist_publish?: unknown };
  try {
    json = JSON.parse(readFileSync(origin, 'utf8')) as { imagelist_publish?: unknown };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`config file ${origin}: ${code ? `cannot read it (${code})` : 'not valid JSON'}`);
  }
  const parsed = imageListPublishSchema.safeParse(json.imagelist_publish ?? []);
  if (!parsed.success)
    throw new Error(
      `config file ${origin}: ${parsed.error.issues.map((i) => `imagelist_publish.${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return { mappings: parsed.data, origin };
}
