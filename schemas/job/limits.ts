/**
 * Limits of a job document (docs/jobs.md lists them). Cloud-specific fields have their cloud's
 * own limits next to them (EC2: schemas/job/ec2.ts); these bound everything else, so a
 * document always fits in a Temporal payload and a refusal stays readable.
 */
export const LIMITS = {
  /**
   * The whole document as UTF-8 JSON. Temporal refuses payloads over 2 MB (and warns from
   * 512 KB); the job travels in the start request and again in the plan, so 256 KiB leaves room.
   */
  documentBytes: 256 * 1024,
  /** How many problems one refusal lists; the rest are counted. */
  reportedProblems: 100,
  /** Names: image, profile, account, template, instance type and the like. */
  name: 255,
  /** Descriptions where the cloud sets no tighter limit. */
  description: 1024,
  /** URLs (browsers and proxies commonly stop at about 2000). */
  url: 2048,
  /** An email address (RFC 5321: 254 characters). */
  email: 254,
  /** A Linux user name (useradd: 32 characters). */
  userName: 32,
  /** Entries of a list: conditions, tests, disallowed packages and licenses, accounts, regions. */
  listItems: 1000,
} as const;
