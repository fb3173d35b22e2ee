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
  /** Assumed-role credentials are renewed this long before they expire (default 5 min; tests shorten lives by raising it). */
  renewBeforeMs?: number;
}

export interface AwsClients {
  account: Ec2Account;
  region: string;
  ec2: EC2Client;
  ebs: EBSClient;
  s3: S3Client;
}

/** Assumed-role credentials are renewed this long before they expire. */
const RENEW_BEFORE_MS = 5 * 60_000;

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
    if (cached && cached.account === account) return cached;
    const credentials = () => this.credentialsOf(account);
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
      s3: new S3Client({ ...common, forcePathStyle: Boolean(this.settings.endpoint) }),
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
    const pending = this.assumed.get(key);
    const renewBefore = this.settings.renewBeforeMs ?? RENEW_BEFORE_MS;
    if (pending) {
      const current = await pending.catch(() => undefined);
      if (current && (!current.expiration || current.expiration.getTime() - Date.now() > renewBefore))
        return current;
    }
    const renewing = federated
      ? this.assumeRoleWithWebIdentity(account, creds.role_arn, creds.web_identity_token_file, creds.session_duration_seconds ?? 3600)
      : this.assumeRole(account, creds.role_arn, creds.external_id);
    this.assumed.set(key, renewing);
    renewing.catch(() => this.assumed.delete(key));
    return renewing;
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
