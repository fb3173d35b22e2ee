import { EBSClient } from '@aws-sdk/client-ebs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Ec2Account } from '../../schemas/accounts.js';
import type { AccountDirectory } from '../accounts/account-directory.js';
import { aws } from './aws-errors.js';

/** The credentials the SDK clients take (the shape of @aws-sdk/types' AwsCredentialIdentity). */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export interface AwsSettings {
  /**
   * One endpoint for every AWS service (an emulator such as moto). Without it the SDK
   * uses each partition's real endpoints.
   */
  endpoint?: string;
  /**
   * Imagecast's own credentials, used only to assume customer roles. Without them the
   * SDK's default chain (environment, instance profile) supplies them.
   */
  baseCredentials?: AwsCredentialIdentity;
  /** SDK attempts per call (throttling and 5xx are retried inside the SDK too). */
  maxAttempts?: number;
  /**
   * Assumed-role credentials are renewed this long before they expire (default 5 min). A
   * window close to the session's length makes credentials short-lived in effect: tests use it
   * to renew every few seconds (STS will not issue sessions shorter than 15 minutes).
   */
  renewBeforeMs?: number;
  /** Told each time credentials are obtained from STS (the account's name only, never the credentials): for metrics and tests. */
  onRenewal?: (accountName: string) => void;
}

export interface AwsClients {
  account: Ec2Account;
  region: string;
  ec2: EC2Client;
  ebs: EBSClient;
  s3: S3Client;
}

/** Assumed-role credentials are renewed this long before they expire. */
const DEFAULT_RENEW_BEFORE_MS = 5 * 60_000;
/**
 * The SDK clients keep the credentials a provider gave them until this long before their
 * `expiration` (AWS SDK v3's memoized identity provider: 5 minutes), and only then ask again.
 */
const SDK_REFRESH_WINDOW_MS = 5 * 60_000;

/**
 * Clients per account and region, with credentials resolved at call time from the account
 * directory: keys as stored, a role assumed with its external id, or a role assumed with a
 * web identity token file (keyless; both cached until shortly before expiry). Credentials live only in this object's memory: never returned, logged or
 * put into an error.
 */
export class AwsSessions {
  private readonly clients = new Map<string, AwsClients>();
  private readonly assumed = new Map<string, Promise<AwsCredentialIdentity>>();

  constructor(
    private readonly accounts: AccountDirectory,
    private readonly settings: AwsSettings = {},
  ) {}

  async forRegion(accountName: string, region: string): Promise<AwsClients> {
    const account = await this.accounts.ec2Account(accountName);
    const key = `${accountName}\u0000${region}`;
    const cached = this.clients.get(key);
    if (cached && sameAccount(cached.account, account)) return cached;
    // A provider, not credentials: each client asks it again when what it holds nears the
    // `expiration` it was told, so an upload or copy of hours signs with renewed credentials.
    const credentials = async () => forTheSdk(await this.credentialsOf(account), this.renewBeforeMs);
    const common = {
      region,
      credentials,
      maxAttempts: this.settings.maxAttempts ?? 5,
      ...(this.settings.endpoint && { endpoint: this.settings.endpoint }),
    };
    const made: AwsClients = {
      account,
      region,
      ec2: new EC2Client(common),
      ebs: new EBSClient(common),
      // followRegionRedirects: a raw upload's bucket may be in another region than the account's.
      s3: new S3Client({ ...common, forcePathStyle: Boolean(this.settings.endpoint), followRegionRedirects: true }),
    };
    this.clients.set(key, made);
    return made;
  }

  /** What the account's clients sign with now (renewed when near expiry); for a check or a test, never to log. */
  async credentialsFor(accountName: string): Promise<AwsCredentialIdentity> {
    return this.credentialsOf(await this.accounts.ec2Account(accountName));
  }

  private async credentialsOf(account: Ec2Account): Promise<AwsCredentialIdentity> {
    const creds = account.credentials;
    if ('access_key_id' in creds) {
      return { accessKeyId: creds.access_key_id, secretAccessKey: creds.secret_access_key };
    }
    const federated = 'web_identity_token_file' in creds;
    const key = `${account.name}\u0000${creds.role_arn}\u0000${federated ? creds.web_identity_token_file : creds.external_id}`;
    for (let pending = this.assumed.get(key); pending; ) {
      const current = await pending.catch(() => undefined);
      // Parallel calls (16 block uploads, several clients) that all found them stale renew once:
      // whoever comes second takes the renewal the first one started.
      const latest = this.assumed.get(key);
      if (latest !== pending) {
        pending = latest;
        continue;
      }
      if (current && (!current.expiration || current.expiration.getTime() - Date.now() > this.renewBeforeMs))
        return current;
      break;
    }
    const renewing = federated
      ? this.assumeRoleWithWebIdentity(account, creds.role_arn, creds.web_identity_token_file, creds.session_duration_seconds ?? 3600)
      : this.assumeRole(account, creds.role_arn, creds.external_id);
    this.assumed.set(key, renewing);
    renewing.then(
      () => this.settings.onRenewal?.(account.name),
      () => {
        if (this.assumed.get(key) === renewing) this.assumed.delete(key);
      },
    );
    return renewing;
  }

  private get renewBeforeMs(): number {
    return this.settings.renewBeforeMs ?? DEFAULT_RENEW_BEFORE_MS;
  }

  private async assumeRole(
    account: Ec2Account,
    roleArn: string,
    externalId: string,
  ): Promise<AwsCredentialIdentity> {
    const sts = new STSClient({
      region: account.region,
      ...(this.settings.baseCredentials && { credentials: this.settings.baseCredentials }),
      ...(this.settings.endpoint && { endpoint: this.settings.endpoint }),
    });
    try {
      const { Credentials: c } = await aws(`AssumeRole for account ${account.name}`, () =>
        sts.send(
          new AssumeRoleCommand({
            RoleArn: roleArn,
            ExternalId: externalId,
            RoleSessionName: `imagecast-${account.name}`.slice(0, 64),
            DurationSeconds: 3600,
          }),
        ),
      );
      if (!c?.AccessKeyId || !c.SecretAccessKey)
        throw new Error(`AssumeRole for account ${account.name} returned no credentials`);
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      };
    } finally {
      sts.destroy();
    }
  }

  /**
   * Keyless: the token file is read now, not when the account was added, because the
   * platform (a Kubernetes projected token, a CI's OIDC token) replaces it before it expires.
   * The call is unsigned: the token is the credential.
   */
  private async assumeRoleWithWebIdentity(
    account: Ec2Account,
    roleArn: string,
    tokenFile: string,
    durationSeconds: number,
  ): Promise<AwsCredentialIdentity> {
    const token = await readFile(tokenFile, 'utf8').then(
      (text) => text.trim(),
      (error: NodeJS.ErrnoException) => {
        throw new Error(`account ${account.name}: credentials.web_identity_token_file ${tokenFile} cannot be read (${error.code ?? error.message})`);
      },
    );
    if (token === '') throw new Error(`account ${account.name}: credentials.web_identity_token_file ${tokenFile} is empty`);
    const sts = new STSClient({
      region: account.region,
      ...(this.settings.endpoint && { endpoint: this.settings.endpoint }),
    });
    try {
      const { Credentials: c } = await aws(`AssumeRoleWithWebIdentity for account ${account.name}`, () =>
        sts.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: roleArn,
            WebIdentityToken: token,
            RoleSessionName: `imagecast-${account.name}`.slice(0, 64),
            DurationSeconds: durationSeconds,
          }),
        ),
      );
      if (!c?.AccessKeyId || !c.SecretAccessKey)
        throw new Error(`AssumeRoleWithWebIdentity for account ${account.name} returned no credentials`);
      return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
    } finally {
      sts.destroy();
    }
  }

  destroy(): void {
    for (const c of this.clients.values()) {
      c.ec2.destroy();
      c.ebs.destroy();
      c.s3.destroy();
    }
    this.clients.clear();
  }
}

/**
 * The credentials as the SDK clients are to see them: expiring, for the SDK's purposes, when
 * we renew them. The SDK asks again SDK_REFRESH_WINDOW_MS before the `expiration` it holds;
 * with a renewal window wider than that (short lives in effect), the real expiration would
 * keep it signing with old credentials long after we renewed them.
 */
function forTheSdk(credentials: AwsCredentialIdentity, renewBeforeMs: number): AwsCredentialIdentity {
  const { expiration } = credentials;
  if (!expiration) return credentials;
  const askAgainAt = expiration.getTime() - renewBeforeMs + SDK_REFRESH_WINDOW_MS;
  return { ...credentials, expiration: new Date(Math.min(expiration.getTime(), askAgainAt)) };
}

/** The same account settings, even if read again (the stored directory re-reads every 30 s): the clients can stay. */
function sameAccount(a: Ec2Account, b: Ec2Account): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
