// Endorsers of the lists Imagecast publishes: who signs (hv:endorser) and with what. The
// certificate and its private key are sealed together as account credentials are
// (secrets/envelope.ts); only `open`, for signing, unseals them.
import type pg from 'pg';
import { AuditLog } from '../../accounts/audit-log.js';
import {
  openSecret,
  rewrapSecret,
  sealSecret,
  type MasterKeyProvider,
  type SealedSecret,
} from '../../../secrets/envelope.js';
import { certificateProblems, readCertificate, readMatchingKey } from './endorser-certificate.js';
import { formatHepixDate } from './hepix-date.js';
import { ImageListInputError, ImageListNotFoundError } from './store-errors.js';
import { certificateEmail, subjectValue } from './template.js';

/** What may be shown of an endorser: the names, never the key. */
export interface EndorserSummary {
  dn: string;
  ca: string;
  email: string;
  creator: string;
  /** When the certificate expires: no list it signs may expire later. */
  notAfter: string;
  keyId: string;
  /** Identifiers of the lists this endorser signs. */
  lists: string[];
}

export interface EndorserInput {
  certificatePem: string;
  keyPem: string;
  email?: string;
  creator?: string;
  /** Replace the certificate and key of an endorser with the same DN (a renewed certificate). */
  replace?: boolean;
}

/** The certificate and key, opened for signing. Never print or log it. */
export interface EndorserSecret {
  dn: string;
  ca: string;
  email: string;
  creator: string;
  certificatePem: string;
  keyPem: string;
}

interface EndorserRow {
  dn: string;
  ca: string;
  email: string;
  creator: string;
  not_after: Date;
  secret_ciphertext: Buffer;
  wrapped_data_key: Buffer;
  key_id: string;
  lists: string[] | null;
}

const SELECT = `SELECT e.*, (SELECT array_agg(l.identifier::text ORDER BY l.identifier) FROM imagelists l WHERE l.endorser_dn = e.dn) AS lists
                  FROM imagelist_endorsers e`;

export class EndorserStore {
  private readonly audit: AuditLog;

  /** `master` is asked for only when a secret is sealed or opened, so reading needs no master key. */
  constructor(
    private readonly pool: pg.Pool,
    private readonly master: () => MasterKeyProvider,
    private readonly actor = 'imagecast',
    private readonly now: () => Date = () => new Date(),
  ) {
    this.audit = new AuditLog(pool);
  }

  /** Checks the certificate as `sign` does (digitalSignature, valid now, the key its own) and stores it sealed. */
  async add(input: EndorserInput): Promise<EndorserSummary> {
    let cert;
    try {
      cert = readCertificate(input.certificatePem);
    } catch (error) {
      throw new ImageListInputError([
        `--cert: expected a PEM certificate, cannot read it (${(error as Error).message})`,
      ]);
    }
    const problems = await certificateProblems(cert, this.now());
    const key = readMatchingKey(cert, input.keyPem);
    if ('problem' in key) problems.push(`--key: ${key.problem.replace(/^private key: /, '')}`);
    const email = input.email ?? certificateEmail(cert);
    if (!email)
      problems.push('--email: required, because the certificate names no e-mail address (hv:email)');
    if (problems.length > 0 || 'problem' in key) throw new ImageListInputError(problems);
    const creator = input.creator ?? subjectValue(cert, 'CN') ?? cert.dn;
    // The key is stored as PKCS#8 PEM whatever form it came in, as `sign` hands it to openssl.
    const secret: EndorserSecret = {
      dn: cert.dn,
      ca: cert.ca,
      email: email!,
      creator,
      certificatePem: cert.x509.toString(),
      keyPem: key.key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    const sealed = await this.seal(secret);
    const { rowCount } = await this.pool.query(
      `INSERT INTO imagelist_endorsers (dn, ca, email, creator, not_after, secret_ciphertext, wrapped_data_key, key_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (dn) DO UPDATE SET ca = $2, email = $3, creator = $4, not_after = $5, secret_ciphertext = $6,
              wrapped_data_key = $7, key_id = $8, updated_at = now()
        WHERE $9`,
      [
        cert.dn,
        cert.ca,
        secret.email,
        creator,
        cert.notAfter,
        sealed.ciphertext,
        sealed.wrappedDataKey,
        sealed.keyId,
        Boolean(input.replace),
      ],
    );
    if (rowCount === 0)
      throw new ImageListInputError([
        `--cert: an endorser ${cert.dn} exists already; give --replace to store this (renewed) certificate in its place`,
      ]);
    await this.audit.record(
      this.actor,
      input.replace ? 'imagelist.endorser.replace' : 'imagelist.endorser.add',
      subject(cert.dn),
      'ok',
      {
        not_after: formatHepixDate(cert.notAfter),
      },
    );
    return this.describe(cert.dn);
  }

  async list(): Promise<EndorserSummary[]> {
    const { rows } = await this.pool.query<EndorserRow>(`${SELECT} ORDER BY e.dn`);
    return rows.map(summaryOf);
  }

  async describe(dn: string): Promise<EndorserSummary> {
    return summaryOf(await this.row(dn));
  }

  /** Refused while a list names the endorser: the list could not be published any more. */
  async remove(dn: string): Promise<void> {
    const endorser = await this.describe(dn);
    if (endorser.lists.length > 0)
      throw new ImageListInputError([
        `endorser ${dn}: signs the list(s) ${endorser.lists.join(', ')}; delete them or give them another endorser (imagecast imagelist set ID endorser DN) first`,
      ]);
    await this.pool.query('DELETE FROM imagelist_endorsers WHERE dn = $1', [dn]);
    await this.audit.record(this.actor, 'imagelist.endorser.delete', subject(dn), 'ok');
  }

  /** The certificate and key, for signing. */
  async open(dn: string): Promise<EndorserSecret> {
    const row = await this.row(dn);
    const plaintext = await openSecret(this.master(), sealedOf(row), subject(dn));
    try {
      return JSON.parse(plaintext.toString('utf8')) as EndorserSecret;
    } finally {
      plaintext.fill(0);
    }
  }

  /** Re-wraps every endorser's data key with the current master key, as AccountStore.rotate does. */
  async rotate(): Promise<number> {
    const master = this.master();
    const { rows } = await this.pool.query<EndorserRow>(
      'SELECT * FROM imagelist_endorsers WHERE key_id <> $1',
      [master.currentKeyId],
    );
    let rewrapped = 0;
    for (const row of rows) {
      const sealed = await rewrapSecret(master, sealedOf(row), subject(row.dn));
      const { rowCount } = await this.pool.query(
        `UPDATE imagelist_endorsers SET wrapped_data_key = $2, key_id = $3 WHERE dn = $1 AND key_id = $4 AND wrapped_data_key = $5`,
        [row.dn, sealed.wrappedDataKey, sealed.keyId, row.key_id, row.wrapped_data_key],
      );
      rewrapped += rowCount ?? 0;
    }
    return rewrapped;
  }

  /** The DNs stored, for "no endorser X (stored: …)". */
  async dns(): Promise<string[]> {
    const { rows } = await this.pool.query<{ dn: string }>('SELECT dn FROM imagelist_endorsers ORDER BY dn');
    return rows.map((r) => r.dn);
  }

  private async seal(secret: EndorserSecret): Promise<SealedSecret> {
    const plaintext = Buffer.from(JSON.stringify(secret), 'utf8');
    try {
      return await sealSecret(this.master(), plaintext, subject(secret.dn));
    } finally {
      plaintext.fill(0);
    }
  }

  private async row(dn: string): Promise<EndorserRow> {
    const { rows } = await this.pool.query<EndorserRow>(`${SELECT} WHERE e.dn = $1`, [dn]);
    if (!rows[0]) throw new ImageListNotFoundError('endorser', dn, await this.dns());
    return rows[0];
  }
}

function subject(dn: string): string {
  return `imagelist-endorser:${dn}`;
}

function summaryOf(row: EndorserRow): EndorserSummary {
  return {
    dn: row.dn,
    ca: row.ca,
    email: row.email,
    creator: row.creator,
    notAfter: formatHepixDate(row.not_after),
    keyId: row.key_id,
    lists: row.lists ?? [],
  };
}

function sealedOf(row: EndorserRow): SealedSecret {
  return { ciphertext: row.secret_ciphertext, wrappedDataKey: row.wrapped_data_key, keyId: row.key_id };
}
