import { z } from 'zod';
import { jobSchemas } from './parse.js';

export type SchemaMode = 'json' | 'raw' | 'annotated';

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  default?: unknown;
  description?: string;
  examples?: unknown[];
  format?: string;
};

/** JSON Schema of a cloud's job document, generated from the zod schema (the input side). */
export function jobJsonSchema(cloud: keyof typeof jobSchemas, mode: SchemaMode): string {
  const schema = z.toJSONSchema(jobSchemas[cloud], { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  if (mode === 'raw') return JSON.stringify(schema);
  if (mode === 'json') return JSON.stringify(schema, null, 2);
  return annotate(cloud, schema);
}

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((e) => JSON.stringify(e)).join(' | ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' | ');
  if (s.type === 'array') return `array of ${s.items ? typeOf(s.items) : 'any'}`;
  if (s.format) return `${s.type} (${s.format})`;
  return Array.isArray(s.type) ? s.type.join(' | ') : (s.type ?? 'any');
}

/** A listing for people: every field, its type, required or default, and what it means. */
function annotate(cloud: string, schema: JsonSchema): string {
  const required = new Set(schema.required ?? []);
  const lines = [`${cloud} job document fields (mash names; Imagecast additions are marked)`, ''];
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const status = required.has(name) ? 'required' : field.default !== undefined ? `default ${JSON.stringify(field.default)}` : 'optional';
    lines.push(`${name}  (${typeOf(field)}; ${status})`);
    if (field.description) lines.push(`    ${field.description}`);
    if (field.examples?.length) lines.push(`    example: ${JSON.stringify(field.examples[0])}`);
  }
  return lines.join('\n');
}
