// Job documents: zod schemas are the single source of truth; types and JSON Schema come from them.
export { baseJobShape, UNSUPPORTED_MASH_FIELDS } from './base.js';
export { localJobSchema, type LocalJob } from './local.js';
export { InvalidJobError, formatIssues, jobSchemas, jsonPath, parseJob, type JobIssue, type ReleaseJob } from './parse.js';
export { deterministicReleaseId, expandImageName, imageLine } from './names.js';
export { jobJsonSchema, type SchemaMode } from './json-schema.js';
