/**
 * A small HTTP proxy in front of moto that makes its EC2 behave like AWS where our release
 * depends on it, and records every EC2 Query action so tests can check what we sent.
 *
 * Shapes follow the Amazon EC2 API Reference (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/):
 * EnableImageDeprecation, DisableImageDeprecation, ImportSnapshot, DescribeImportSnapshotTasks
 * (moto: NotImplemented), RegisterImage and CopyImage (moto ignores TagSpecifications,
 * ClientToken, CopyImageTags and allows duplicate names, which AWS refuses with
 * InvalidAMIName.Duplicate), DescribeImages (adds deprecationTime, and imageState "pending"
 * while a copy is younger than copyDelayMs), GetImageBlockPublicAccessState,
 * EnableImageBlockPublicAccess and DisableImageBlockPublicAccess (moto: NotImplemented; the
 * state is kept per access key and region, `managedBy` is always "account"; sharing is not
 * refused while it is on). Everything else (EBS direct, S3, STS, other EC2
 * actions) is forwarded untouched and streamed.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  CompleteSnapshotCommand,
  EBSClient,
  PutSnapshotBlockCommand,
  StartSnapshotCommand,
} from '@aws-sdk/client-ebs';
import { freePort } from './free-port.js';
import { sendExpiredToken, temporaryCredentials } from './temporary-credentials.js';

export interface RecordedCall {
  action: string;
  region: string;
  params: Record<string, string>;
  at: Date;
  /** The access key the request was signed with; absent for an unsigned one (AssumeRoleWithWebIdentity). */
  accessKeyId?: string;
}

export interface InjectedFault {
  action: string;
  region?: string;
  code: string;
  message: string;
  status?: number;
  /** How many matching calls fail (default 1); Infinity for every one. */
  times?: number;
}

export interface Ec2Shim {
  endpoint: string;
  calls(action?: string): RecordedCall[];
  /** Requests refused because their temporary credentials had expired (see temporaryCredentialsLifetimeMs). */
  expiredRefusals(): RecordedCall[];
  /** `${region}/${imageId}` → DeprecateAt (ISO). */
  deprecations: Map<string, string>;
  /** Makes the next matching EC2 call(s) fail with an AWS error, as AWS would. */
  inject(fault: InjectedFault): void;
  /** Forgets the injected faults not used up yet. */
  clearFaults(): void;
  stop(): Promise<void>;
}

/** Who is calling and where: the shim's own moto calls reuse the caller's access key so moto picks the same account. */
export interface Caller {
  region: string;
  accessKeyId: string;
}

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const STS_VERSION = '2011-06-15';

export async function startEc2Shim(options: {
  upstream: string;
  copyDelayMs?: number;
  /**
   * Refuse requests signed with credentials STS issued longer ago than this, as AWS refuses
   * expired ones (STS sessions last at least 15 minutes; this makes them last seconds).
   */
  temporaryCredentialsLifetimeMs?: number;
}): Promise<Ec2Shim> {
  const upstream = new URL(options.upstream);
  const recorded: RecordedCall[] = [];
  const refusedExpired: RecordedCall[] = [];
  const temporary = temporaryCredentials(options.temporaryCredentialsLifetimeMs);
  const deprecations = new Map<string, string>();
  const faults: Array<InjectedFault & { left: number }> = [];
  const copiesByToken = new Map<string, string>();
  const copiedAt = new Map<string, number>();
  /** `${accessKeyId}/${region}` of the accounts and regions whose image block public access is on. */
  const publicBlocked = new Set<string>();

  /** One EC2 Query call to moto; moto does not check signatures and routes the region by the scope. */
  async function moto(
    caller: Caller,
    params: Record<string, string>,
  ): Promise<{ status: number; body: string }> {
    const response = await fetch(new URL('/', upstream), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        authorization: fakeAuthorization(caller, 'ec2'),
      },
      body: new URLSearchParams({ Version: '2016-11-15', ...params }).toString(),
    });
    return { status: response.status, body: await response.text() };
  }
  const imports = snapshotImports(upstream);

  async function imageNamed(caller: Caller, name: string): Promise<string | undefined> {
    const { body } = await moto(caller, {
      Action: 'DescribeImages',
      'Owner.1': 'self',
      'Filter.1.Name': 'name',
      'Filter.1.Value.1': name,
    });
    return items(body, 'imagesSet')
      .map((item) => tag(item, 'imageId'))
      .find(Boolean);
  }

  async function imageTags(caller: Caller, imageId: string): Promise<Array<[string, string]>> {
    const { body } = await moto(caller, { Action: 'DescribeImages', 'ImageId.1': imageId });
    const [item] = items(body, 'imagesSet');
    return item ? items(item, 'tagSet').map((t) => [tag(t, 'key') ?? '', tag(t, 'value') ?? '']) : [];
  }

  async function createTags(
    caller: Caller,
    resourceId: string,
    tags: Array<[string, string]>,
  ): Promise<void> {
    if (tags.length === 0) return;
    const params: Record<string, string> = { Action: 'CreateTags', 'ResourceId.1': resourceId };
    tags.forEach(([key, value], i) => {
      params[`Tag.${i + 1}.Key`] = key;
      params[`Tag.${i + 1}.Value`] = value;
    });
    await moto(caller, params);
  }

  /** AWS refuses a second AMI of one name in an account and region (moto does not). */
  async function refuseDuplicateName(caller: Caller, name: string, res: ServerResponse): Promise<boolean> {
    const existing = await imageNamed(caller, name);
    if (existing)
      sendError(
        res,
        400,
        'InvalidAMIName.Duplicate',
        `AMI name ${name} is already in use by AMI ${existing}`,
      );
    return existing !== undefined;
  }

  /** Answers an EC2 Query action itself, or returns false to have it forwarded unchanged. */
  async function handleEc2(
    params: Record<string, string>,
    caller: Caller,
    res: ServerResponse,
  ): Promise<boolean> {
    const action = params.Action ?? '';
    const { region } = caller;
    recorded.push({ action, region, params, at: new Date(), accessKeyId: caller.accessKeyId });
    const fault = faults.find((f) => f.left > 0 && f.action === action && (!f.region || f.region === region));
    if (fault) {
      fault.left--;
      sendError(res, fault.status ?? 400, fault.code, fault.message);
      return true;
    }
    switch (action) {
      case 'EnableImageDeprecation': {
        const imageId = params.ImageId ?? '';
        const { body } = await moto(caller, { Action: 'DescribeImages', 'ImageId.1': imageId });
        if (items(body, 'imagesSet').length === 0) {
          sendError(res, 400, 'InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
          return true;
        }
        const at = Date.parse(params.DeprecateAt ?? '');
        // AWS tolerates a little clock skew but refuses a deprecation time in the past.
        if (Number.isNaN(at) || at < Date.now() - 60_000) {
          sendError(res, 400, 'InvalidParameterValue', 'The deprecation time must be in the future.');
          return true;
        }
        deprecations.set(`${region}/${imageId}`, new Date(at).toISOString());
        sendXml(res, 'EnableImageDeprecationResponse', '<return>true</return>');
        return true;
      }
      case 'DisableImageDeprecation':
        deprecations.delete(`${region}/${params.ImageId}`);
        sendXml(res, 'DisableImageDeprecationResponse', '<return>true</return>');
        return true;
      case 'RegisterImage': {
        if (await refuseDuplicateName(caller, params.Name ?? '', res)) return true;
        const answer = await moto(caller, params);
        const imageId = tag(answer.body, 'imageId');
        if (imageId) await createTags(caller, imageId, specifiedTags(params, 'image'));
        sendRaw(res, answer.status, answer.body);
        return true;
      }
      case 'CopyImage': {
        // AWS makes a retried CopyImage (same ClientToken) return the first copy instead of a second one.
        const token = params.ClientToken ? `${region}/${params.ClientToken}` : undefined;
        const earlier = token && copiesByToken.get(token);
        if (earlier) {
          sendXml(res, 'CopyImageResponse', `<imageId>${earlier}</imageId>`);
          return true;
        }
        if (await refuseDuplicateName(caller, params.Name ?? '', res)) return true;
        const answer = await moto(caller, params);
        const imageId = tag(answer.body, 'imageId');
        if (imageId) {
          if (token) copiesByToken.set(token, imageId);
          copiedAt.set(`${region}/${imageId}`, Date.now());
          const source = { ...caller, region: params.SourceRegion ?? region };
          const copied =
            params.CopyImageTags === 'true' ? await imageTags(source, params.SourceImageId ?? '') : [];
          await createTags(caller, imageId, [...copied, ...specifiedTags(params, 'image')]);
        }
        sendRaw(res, answer.status, answer.body);
        return true;
      }
      case 'DescribeImages': {
        // moto does not know the block-device-mapping.snapshot-id filter: apply it here.
        const { rest, values: snapshotIds } = takeFilter(params, 'block-device-mapping.snapshot-id');
        const answer = await moto(caller, rest);
        let body = decorateImages(answer.body, region);
        for (const item of snapshotIds ? items(body, 'imagesSet') : []) {
          if (!snapshotIds!.some((id) => item.includes(`<snapshotId>${id}</snapshotId>`))) {
            body = body.replace(`<item>${item}</item>`, '');
          }
        }
        sendRaw(res, answer.status, body);
        return true;
      }
      case 'GetImageBlockPublicAccessState':
      case 'EnableImageBlockPublicAccess':
      case 'DisableImageBlockPublicAccess': {
        // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetImageBlockPublicAccessState.html
        const key = `${caller.accessKeyId}/${region}`;
        if (action === 'EnableImageBlockPublicAccess') {
          if (params.ImageBlockPublicAccessState !== 'block-new-sharing') {
            sendError(res, 400, 'InvalidParameterValue', 'ImageBlockPublicAccessState must be block-new-sharing');
            return true;
          }
          publicBlocked.add(key);
        }
        if (action === 'DisableImageBlockPublicAccess') publicBlocked.delete(key);
        const state = publicBlocked.has(key) ? 'block-new-sharing' : 'unblocked';
        const managedBy = action === 'GetImageBlockPublicAccessState' ? '<managedBy>account</managedBy>' : '';
        sendXml(res, `${action}Response`, `<imageBlockPublicAccessState>${state}</imageBlockPublicAccessState>${managedBy}`);
        return true;
      }
      case 'ImportSnapshot': {
        const task = imports.start(caller, params, specifiedTags(params, 'import-snapshot-task'));
        if (typeof task === 'string') sendError(res, 400, 'InvalidParameter', task);
        else sendXml(res, 'ImportSnapshotResponse', importTaskXml(task));
        return true;
      }
      case 'DescribeImportSnapshotTasks': {
        const wanted = indexed(params, 'ImportTaskId');
        const tasks = imports.list(region).filter((t) => wanted.length === 0 || wanted.includes(t.id));
        const set = tasks.map((t) => `<item>${importTaskXml(t)}</item>`).join('');
        sendXml(
          res,
          'DescribeImportSnapshotTasksResponse',
          `<importSnapshotTaskSet>${set}</importSnapshotTaskSet>`,
        );
        return true;
      }
      default:
        return false;
    }
  }

  /** Adds deprecationTime, and shows copies younger than copyDelayMs as pending. */
  function decorateImages(body: string, region: string): string {
    let out = body;
    for (const item of items(body, 'imagesSet')) {
      const imageId = tag(item, 'imageId');
      if (!imageId) continue;
      let decorated = item;
      const deprecateAt = deprecations.get(`${region}/${imageId}`);
      if (deprecateAt) decorated += `<deprecationTime>${deprecateAt}</deprecationTime>`;
      const copied = copiedAt.get(`${region}/${imageId}`);
      if (copied !== undefined && Date.now() - copied < (options.copyDelayMs ?? 0)) {
        decorated = decorated.replace(
          '<imageState>available</imageState>',
          '<imageState>pending</imageState>',
        );
      }
      out = out.replace(item, () => decorated);
    }
    return out;
  }

  const server = createServer((req, res) => {
    void route(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'InternalError', (error as Error).message);
      else res.destroy();
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const isQuery =
      req.method === 'POST' &&
      (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    const scope = /Credential=([^/]+)\/\d+\/([^/]+)\/([^/]+)\//.exec(req.headers.authorization ?? '');
    const accessKeyId = scope?.[1];
    if (!isQuery) {
      // EBS direct and S3 are REST: recorded as "METHOD /path" (e.g. "POST /snapshots" is StartSnapshot).
      const path = (req.url ?? '/').split('?')[0]!;
      const call = { action: `${req.method} ${path}`, region: scope?.[2] ?? 'us-east-1', params: {}, at: new Date(), accessKeyId };
      if (accessKeyId && temporary.expired(accessKeyId)) return refuseExpired(req, res, call, scope![3]!);
      recorded.push(call);
      return forward(req, res);
    }
    const caller = { accessKeyId: accessKeyId ?? 'test', region: scope?.[2] ?? 'us-east-1' };
    const body = await readBody(req);
    const params = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
    // STS and other Query services share the form encoding; only EC2's scope is ours. An
    // unsigned call (AssumeRoleWithWebIdentity) is told by STS's API version.
    const service = scope?.[3] ?? (params.Version === STS_VERSION ? 'sts' : 'ec2');
    if (accessKeyId && temporary.expired(accessKeyId)) {
      const call = { action: `${service}:${params.Action}`, region: caller.region, params, at: new Date(), accessKeyId };
      return refuseExpired(req, res, call, service);
    }
    const isEc2 = params.Action !== undefined && service === 'ec2';
    if (isEc2 && (await handleEc2(params, caller, res))) return;
    // Other Query services (STS) pass through, recorded as "service:Action" (e.g. "sts:AssumeRole").
    if (!isEc2 && params.Action) {
      recorded.push({ action: `${service}:${params.Action}`, region: caller.region, params, at: new Date(), accessKeyId });
    }
    // STS's answers name the temporary keys it issued: from now on their lifetime runs.
    const issues = service === 'sts' && params.Action?.startsWith('AssumeRole');
    return forward(req, res, body, issues ? (answer) => temporary.issued(answer) : undefined);
  }

  function refuseExpired(req: IncomingMessage, res: ServerResponse, call: RecordedCall, service: string): void {
    refusedExpired.push(call);
    req.resume();
    sendExpiredToken(res, service);
  }

  /** Passes a request through to moto unchanged; bodies are streamed unless already read. */
  function forward(
    req: IncomingMessage,
    res: ServerResponse,
    body?: Buffer,
    inspect?: (answer: string) => void,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const upstreamRequest = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          const chunks: Buffer[] = [];
          if (inspect) answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.pipe(res);
          answer.on('end', () => {
            inspect?.(Buffer.concat(chunks).toString('utf8'));
            resolve();
          });
          answer.on('error', reject);
        },
      );
      upstreamRequest.on('error', reject);
      if (body) upstreamRequest.end(body);
      else req.pipe(upstreamRequest);
    });
  }

  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls: (action) => recorded.filter((c) => action === undefined || c.action === action),
    expiredRefusals: () => [...refusedExpired],
    deprecations,
    inject: (fault) => faults.push({ ...fault, left: fault.times ?? 1 }),
    clearFaults: () => void faults.splice(0),
    async stop() {
      await imports.settled();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/** An Authorization header moto accepts: it reads the account from the key and the region from the scope. */
export function fakeAuthorization(caller: Caller, service: string): string {
  return `AWS4-HMAC-SHA256 Credential=${caller.accessKeyId}/20260101/${caller.region}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
}

/** The ImportSnapshotTask shape (ImportSnapshot's result and DescribeImportSnapshotTasks' items). */
function importTaskXml(t: ImportTask): string {
  const optional = (name: string, value: string | number | undefined) =>
    value === undefined ? '' : `<${name}>${escapeXml(String(value))}</${name}>`;
  const tags = t.tags
    .map(([k, v]) => `<item><key>${escapeXml(k)}</key><value>${escapeXml(v)}</value></item>`)
    .join('');
  return (
    `${optional('description', t.description)}<importTaskId>${t.id}</importTaskId>` +
    `<snapshotTaskDetail>${optional('description', t.description)}${optional('diskImageSize', t.diskImageSize)}<format>RAW</format>` +
    `${optional('progress', t.progress)}${optional('snapshotId', t.snapshotId)}<status>${t.status}</status>${optional('statusMessage', t.statusMessage)}` +
    `<userBucket><s3Bucket>${escapeXml(t.bucket)}</s3Bucket><s3Key>${escapeXml(t.key)}</s3Key></userBucket></snapshotTaskDetail>` +
    `<tagSet>${tags}</tagSet>`
  );
}

/** Removes filter `name` from Query params (renumbering the others) and returns its values. */
function takeFilter(
  params: Record<string, string>,
  name: string,
): { rest: Record<string, string>; values?: string[] } {
  const filters: Array<{ name: string; values: string[] }> = [];
  for (let n = 1; params[`Filter.${n}.Name`] !== undefined; n++) {
    const values: string[] = [];
    for (let m = 1; params[`Filter.${n}.Value.${m}`] !== undefined; m++)
      values.push(params[`Filter.${n}.Value.${m}`]!);
    filters.push({ name: params[`Filter.${n}.Name`]!, values });
  }
  const taken = filters.find((f) => f.name === name);
  if (!taken) return { rest: params };
  const rest = Object.fromEntries(Object.entries(params).filter(([k]) => !k.startsWith('Filter.')));
  filters
    .filter((f) => f !== taken)
    .forEach((f, i) => {
      rest[`Filter.${i + 1}.Name`] = f.name;
      f.values.forEach((v, j) => (rest[`Filter.${i + 1}.Value.${j + 1}`] = v));
    });
  return { rest, values: taken.values };
}

/** `TagSpecification.N` tags for a resource type, as [key, value] pairs. */
function specifiedTags(params: Record<string, string>, resourceType: string): Array<[string, string]> {
  const tags: Array<[string, string]> = [];
  for (let n = 1; params[`TagSpecification.${n}.ResourceType`] !== undefined; n++) {
    if (params[`TagSpecification.${n}.ResourceType`] !== resourceType) continue;
    for (let m = 1; params[`TagSpecification.${n}.Tag.${m}.Key`] !== undefined; m++) {
      tags.push([
        params[`TagSpecification.${n}.Tag.${m}.Key`]!,
        params[`TagSpecification.${n}.Tag.${m}.Value`] ?? '',
      ]);
    }
  }
  return tags;
}

/** The values of a Query list (`Name.1`, `Name.2`, …). */
function indexed(params: Record<string, string>, name: string): string[] {
  const values: string[] = [];
  for (let n = 1; params[`${name}.${n}`] !== undefined; n++) values.push(params[`${name}.${n}`]!);
  return values;
}

function tag(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

/** The top-level `<item>`s of a `<set>` (moto's responses nest items only inside other sets). */
function items(xml: string, set: string): string[] {
  const inner = new RegExp(`<${set}>([\\s\\S]*)</${set}>`).exec(xml)?.[1] ?? '';
  const found: string[] = [];
  let depth = 0;
  let start = -1;
  for (const m of inner.matchAll(/<(\/?)item>/g)) {
    if (m[1] === '') {
      if (depth++ === 0) start = m.index + m[0].length;
    } else if (--depth === 0) {
      found.push(inner.slice(start, m.index));
    }
  }
  return found;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendXml(res: ServerResponse, root: string, inner: string): void {
  sendRaw(
    res,
    200,
    `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${NS}"><requestId>${randomUUID()}</requestId>${inner}</${root}>`,
  );
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`;
  sendRaw(res, status, xml);
}

function sendRaw(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/xml;charset=UTF-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// ---- ImportSnapshot (RAW from S3), built on moto's S3 and EBS direct API ----

export interface ImportTask {
  id: string;
  region: string;
  description: string | undefined;
  bucket: string;
  key: string;
  tags: Array<[string, string]>;
  status: 'active' | 'completed' | 'deleted';
  statusMessage: string | undefined;
  progress: string | undefined;
  snapshotId: string | undefined;
  /** Bytes, as AWS reports it. */
  diskImageSize: number | undefined;
}

/** EBS direct APIs write 512 KiB blocks. */
const BLOCK = 512 * 1024;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
const GiB = 1024 ** 3;

/**
 * Import tasks run in the background like AWS's (the answer says "active"; DescribeImportSnapshotTasks
 * later says "completed", or "deleted" with a statusMessage), so callers exercise their polling.
 */
function snapshotImports(upstream: URL) {
  const tasks: ImportTask[] = [];
  const byToken = new Map<string, ImportTask>();
  const running = new Set<Promise<void>>();

  /** Reads s3://bucket/key from moto and writes its non-zero blocks into a new snapshot. */
  async function run(task: ImportTask, caller: Caller): Promise<void> {
    const path = `/${task.bucket}/${task.key.split('/').map(encodeURIComponent).join('/')}`;
    const object = await fetch(new URL(path, upstream), {
      headers: { authorization: fakeAuthorization(caller, 's3') },
    });
    if (!object.ok || !object.body) {
      await object.body?.cancel();
      throw new Error(
        `ClientError: Unable to read the disk image s3://${task.bucket}/${task.key} (HTTP ${object.status})`,
      );
    }
    const size = Number(object.headers.get('content-length') ?? 0);
    const ebs = new EBSClient({
      endpoint: upstream.origin,
      region: caller.region,
      credentials: { accessKeyId: caller.accessKeyId, secretAccessKey: 'test' },
    });
    try {
      const { SnapshotId } = await ebs.send(
        new StartSnapshotCommand({
          VolumeSize: Math.max(1, Math.ceil(size / GiB)),
          Description: task.description,
          Tags: task.tags.map(([Key, Value]) => ({ Key, Value })),
        }),
      );
      let index = 0;
      let written = 0;
      const put = async (block: Buffer) => {
        const blockIndex = index++;
        // AWS stores zero blocks as holes; leaving them out is what keeps a sparse image small.
        if (block.equals(ZERO_BLOCK)) return;
        const Checksum = createHash('sha256').update(block).digest('base64');
        await ebs.send(
          new PutSnapshotBlockCommand({
            SnapshotId,
            BlockIndex: blockIndex,
            BlockData: block,
            DataLength: BLOCK,
            Checksum,
            ChecksumAlgorithm: 'SHA256',
          }),
        );
        written++;
      };
      let block = Buffer.alloc(BLOCK);
      let filled = 0;
      for await (const chunk of Readable.fromWeb(object.body as WebReadableStream<Uint8Array>)) {
        const bytes = chunk as Buffer;
        for (let offset = 0; offset < bytes.length;) {
          const n = bytes.copy(block, filled, offset);
          filled += n;
          offset += n;
          if (filled === BLOCK) {
            await put(block);
            block = Buffer.alloc(BLOCK);
            filled = 0;
          }
        }
      }
      if (filled > 0) await put(block); // the tail, zero-padded to a whole block
      await ebs.send(new CompleteSnapshotCommand({ SnapshotId, ChangedBlocksCount: written }));
      Object.assign(task, {
        status: 'completed',
        statusMessage: undefined,
        progress: undefined,
        snapshotId: SnapshotId,
        diskImageSize: size,
      });
    } finally {
      ebs.destroy();
    }
  }

  return {
    /** Starts an import, or returns why the request is invalid. */
    start(
      caller: Caller,
      params: Record<string, string>,
      tags: Array<[string, string]>,
    ): ImportTask | string {
      const token = params.ClientToken ? `${caller.region}/${params.ClientToken}` : undefined;
      const earlier = token && byToken.get(token);
      if (earlier) return earlier;
      const format = (params['DiskContainer.Format'] ?? 'RAW').toUpperCase();
      if (format !== 'RAW') return `The shim imports RAW disk images only, not ${format}`;
      const bucket = params['DiskContainer.UserBucket.S3Bucket'];
      const key = params['DiskContainer.UserBucket.S3Key'];
      if (!bucket || !key) return 'DiskContainer.UserBucket.S3Bucket and S3Key are required';
      const task: ImportTask = {
        id: `import-snap-${randomBytes(9).toString('hex').slice(0, 17)}`,
        region: caller.region,
        description: params.Description,
        bucket,
        key,
        tags,
        status: 'active',
        statusMessage: 'pending',
        progress: '0',
        snapshotId: undefined,
        diskImageSize: undefined,
      };
      tasks.push(task);
      if (token) byToken.set(token, task);
      const job = run(task, caller).catch((error: unknown) => {
        Object.assign(task, {
          status: 'deleted',
          statusMessage: (error as Error).message,
          progress: undefined,
        });
      });
      running.add(job);
      void job.finally(() => running.delete(job));
      return task;
    },
    list: (region: string) => tasks.filter((t) => t.region === region),
    settled: async () => void (await Promise.allSettled([...running])),
  };
}
