import { z } from 'zod';
import type { CloudName } from '../steps.js';
import { MASH_REMOVED_AZURE_FIELDS } from './azure.js';
import { AVAILABLE_CLOUDS, jobSchemas, unsupportedMashFields } from './clouds.js';

export type SchemaMode = 'json' | 'raw' | 'annotated';

/** The subset of JSON Schema our generated schemas use. */
export interface JsonSchema {
  $schema?: string;
  title?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  default?: unknown;
  description?: string;
  examples?: unknown[];
  format?: string;
  pattern?: string;
  minItems?: number;
  minimum?: number;
}

/**
 * JSON Schema of a cloud's job document, generated from its zod schema. It describes the
 * input side: fields with defaults are optional and show their default.
 */
export function jobJsonSchemaObject(cloud: CloudName): JsonSchema {
  const schema = z.toJSONSchema(jobSchemas[cloud], { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const unsupported = unsupportedMashFields(cloud);
  const refused = unsupported.length > 0 ? `mash fields Imagecast refuses by name until it supports them: ${unsupported.join(', ')}.` : undefined;
  // Old Azure documents are the ones that carry the fields mash dropped.
  const removed = cloud === 'azure' ? `Fields mash removed, refused with when and why: ${Object.keys(MASH_REMOVED_AZURE_FIELDS).join(', ')}.` : undefined;
  return { ...schema, description: [schema.description, refused, removed].filter(Boolean).join(' ') };
}

/** `json`: pretty JSON Schema; `raw`: JSON Schema on one line; `annotated`: every field, for people. */
export function jobJsonSchema(cloud: CloudName, mode: SchemaMode): string {
  const schema = jobJsonSchemaObject(cloud);
  if (mode === 'raw') return JSON.stringify(schema);
  if (mode === 'json') return JSON.stringify(schema, null, 2);
  return annotate(cloud, schema);
}

/** A listing for the terminal: every field (nested ones too), its type, required or default, meaning, example. */
function annotate(cloud: CloudName, schema: JsonSchema): string {
  const lines = [
    `${schema.title ?? `${cloud} job`}: fields (mash names and meanings; Imagecast additions are marked)`,
  ];
  if (!(AVAILABLE_CLOUDS as readonly string[]).includes(cloud))
    lines.push(`NOTE: the ${cloud} provider is not available yet; ${cloud} jobs are refused.`);
  lines.push('');
  listFields(schema, '', lines);
  lines.push(
    '',
    ...wrap(
      `Refused: ${unsupportedMashFields(cloud).join(', ')} (mash fields not supported yet), and any unknown field.`,
      '',
    ),
  );
  return lines.join('\n');
}

function listFields(object: JsonSchema, prefix: string, lines: string[]): void {
  const required = new Set(object.required ?? []);
  const entries = Object.entries(object.properties ?? {});
  // Required fields first: they are what a new document needs.
  entries.sort(([a], [b]) => Number(required.has(b)) - Number(required.has(a)));
  for (const [name, field] of entries) {
    const status = required.has(name)
      ? 'required'
      : field.default !== undefined
        ? `default ${JSON.stringify(field.default)}`
        : 'optional';
    lines.push(`${prefix}${name}  (${typeOf(field)}; ${status})`);
    if (field.description) lines.push(...wrap(field.description, '    '));
    for (const example of field.examples ?? []) lines.push(`    example: ${JSON.stringify(example)}`);
    const item = field.items;
    if (item?.properties) {
      if (item.description) lines.push(...wrap(item.description, '    '));
      for (const example of item.examples ?? []) lines.push(`    example item: ${JSON.stringify(example)}`);
      listFields(item, `${prefix}${name}[].`, lines);
    }
  }
}

function typeOf(s: JsonSchema, inherited?: string): string {
  const base = (Array.isArray(s.type) ? s.type.join(' | ') : s.type) ?? inherited;
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((e) => JSON.stringify(e)).join(' | ');
  if (base === 'array') return `array of ${s.items ? typeOf(s.items) : 'any'}`;
  if (s.anyOf?.some((a) => a.type || a.const !== undefined || a.enum || a.format))
    return s.anyOf.map((a) => typeOf(a, base)).join(' | ');
  if (s.format) return `${base ?? 'string'} (${s.format})`;
  return base ?? 'any';
}

function wrap(text: string, indent: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}
