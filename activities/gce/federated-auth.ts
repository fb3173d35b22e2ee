import { readFile } from 'node:fs/promises';
import { IdentityPoolClient, type SubjectTokenSupplier } from 'google-auth-library';
import type { GceAccount, GceExternalAccount } from '../../schemas/accounts.js';

/**
 * Reads the subject token from the configured file at every token exchange: the platform (a
 * Kubernetes projected token, a CI job's OIDC token) replaces the file before the token in it
 * expires, so what was there when the account was added is long gone by the time a release
 * of hours refreshes. Errors name the account, the field and the path, never the content.
 */
export class TokenFileSupplier implements SubjectTokenSupplier {
  constructor(
    private readonly accountName: string,
    private readonly source: GceExternalAccount['credential_source'],
  ) {}

  async getSubjectToken(): Promise<string> {
    const { file, format } = this.source;
    const where = `account ${this.accountName}: credentials.credential_source.file ${file}`;
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new Error(`${where} cannot be read (${error.code ?? error.message})`);
    });
    const token =
      format?.type === 'json' ? fieldOf(text, format.subject_token_field_name, where) : text.trim();
    if (token === '') throw new Error(`${where} is empty`);
    return token;
  }
}

function fieldOf(text: string, field: string, where: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not JSON (credential_source.format.type is "json")`);
  }
  const value = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>)[field] : undefined;
  if (typeof value !== 'string')
    throw new Error(
      `${where} has no string field "${field}" (credential_source.format.subject_token_field_name)`,
    );
  return value.trim();
}

export interface FederatedAuthOptions {
  scopes: string[];
  /** Refresh this long before the access token expires (google-auth-library's default: 5 min). */
  refreshBeforeMs?: number;
}

/**
 * The auth client of a keyless account: google-auth-library's IdentityPoolClient (what
 * `GoogleAuth({ credentials })` makes of an external_account configuration), exchanging the
 * file's token at Google's STS (and, with service_account_impersonation_url, for a service
 * account's token), caching the result until shortly before it expires. Built from the
 * validated fields (schemas/accounts.ts checks the URLs), with our own file reader for
 * errors that name the file.
 */
export function federatedAuthClient(
  account: GceAccount,
  config: GceExternalAccount,
  options: FederatedAuthOptions,
): IdentityPoolClient {
  return new IdentityPoolClient({
    type: config.type,
    audience: config.audience,
    subject_token_type: config.subject_token_type,
    ...(config.token_url && { token_url: config.token_url }),
    ...(config.service_account_impersonation_url && {
      service_account_impersonation_url: config.service_account_impersonation_url,
    }),
    ...(config.service_account_impersonation && {
      service_account_impersonation: config.service_account_impersonation,
    }),
    ...(config.universe_domain && { universe_domain: config.universe_domain }),
    subject_token_supplier: new TokenFileSupplier(account.name, config.credential_source),
    scopes: options.scopes,
    ...(options.refreshBeforeMs !== undefined && { eagerRefreshThresholdMillis: options.refreshBeforeMs }),
  });
}
