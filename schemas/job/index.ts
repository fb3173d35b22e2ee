// Job documents: zod schemas are the single source of truth; types and JSON Schema come from them.
export { baseJobShape, UNSUPPORTED_MASH_FIELDS } from './base.js';
export { NAME_PLACEHOLDERS, type ImageCondition, type NamePlaceholder } from './fields.js';
export { localJobSchema, type LocalJob } from './local.js';
export { ec2JobSchema, EC2_UNSUPPORTED_MASH_FIELDS, type Ec2Job } from './ec2.js';
export { gceJobSchema, GCE_UNSUPPORTED_MASH_FIELDS, type GceJob } from './gce.js';
export { azureJobSchema, AZURE_UNSUPPORTED_MASH_FIELDS, MASH_REMOVED_AZURE_FIELDS, type AzureJob } from './azure.js';
export {
  AVAILABLE_CLOUDS,
  jobSchemas,
  mashFieldClouds,
  unsupportedMashFields,
  type AvailableCloud,
  type CloudJob,
  type ReleaseJob,
} from './clouds.js';
export { InvalidJobError, formatIssues, jsonPath, type JobIssue } from './issues.js';
export { checkJobDocument, parseJob, type ParseJobResult } from './parse.js';
export { LIMITS } from './limits.js';
export { deterministicReleaseId, expandImageName, imageLine, imageNameDate } from './names.js';
export { jobJsonSchema, jobJsonSchemaObject, type JsonSchema, type SchemaMode } from './json-schema.js';
