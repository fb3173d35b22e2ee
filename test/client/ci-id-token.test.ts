// Where CI's ID token comes from: GitHub's token endpoint (a loopback server playing it, as
// actions/toolkit's core.getIDToken calls it) and GitLab's id_tokens variable; caching until
// near exp; one retry with a fresh token when the gateway refuses.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ciIdTokenSource, expiryOf } from '../../client/sdk/ci-id-token.js';
import { ImagecastGateway } from '../../client/sdk/index.js';

const jwtWith = (payload: Record<string, unknown>) =>
  ['{"alg":"RS256"}', JSON.stringify(payload), 'sig'].map((p, i) => (i < 2 ? Buffer.from(p).toString('base64url') : p)).join('.');

async function listen(handler: (req: IncomingMessage) => [number, unknown]): Promise<{ url: string; server: Server; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    const [status, body] = handler(req);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen };
}

describe('CI ID tokens (SDK)', () => {
  let github: Awaited<ReturnType<typeof listen>>;
  let issued = 0;
  const lifetime = 300;
  before(async () => {
    github = await listen((req) => {
      if (req.headers.authorization !== 'bearer request-token-123') return [401, { message: 'bad credentials' }];
      issued += 1;
      const audience = new URL(req.url!, 'http://x').searchParams.get('audience');
      return [200, { value: jwtWith({ aud: audience, n: issued, exp: Math.floor(Date.now() / 1000) + lifetime }) }];
    });
  });
  after(() => github?.server.close());
  const env = () => ({ ACTIONS_ID_TOKEN_REQUEST_URL: `${github.url}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token-123' });

  it('asks GitHub for a token with the audience, keeping its query, and caches it until 60 s before exp', async () => {
    const before = issued;
    let clock = Date.now();
    const source = ciIdTokenSource('github', 'https://imagecast.example:8443', env(), () => clock);
    const first = await source.get();
    const request = new URL(github.seen.at(-1)!.url!, 'http://x');
    assert.equal(request.searchParams.get('api-version'), '2.0');
    assert.equal(request.searchParams.get('audience'), 'https://imagecast.example:8443');
    assert.equal(await source.get(), first, 'cached');
    assert.equal(issued, before + 1);
    clock += 241_000; // 59 s before a 300 s token expires
    assert.notEqual(await source.get(), first, 'renewed near exp');
    assert.equal(issued, before + 2);
  });

  it('says what is missing or wrong, never the request token', async () => {
    await assert.rejects(ciIdTokenSource('github', 'a', {}).get(), /ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set; .*permissions: id-token: write/);
    const wrong = { ...env(), ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'nope' };
    await assert.rejects(ciIdTokenSource('github', 'a', wrong).get(), (e: Error) => /answered HTTP 401/.test(e.message) && !e.message.includes('nope') && !e.message.includes('api-version'));
    await assert.rejects(ciIdTokenSource('gitlab', 'https://gw', {}).get(), /IMAGECAST_ID_TOKEN is not set; declare it in the job: id_tokens: \{ IMAGECAST_ID_TOKEN: \{ aud: "https:\/\/gw" \} \}/);
    assert.equal(await ciIdTokenSource('gitlab', 'a', { IMAGECAST_ID_TOKEN: ' gl.jwt.x \n' }).get(), 'gl.jwt.x');
    assert.equal(expiryOf(jwtWith({ exp: 42 })), 42);
    assert.equal(expiryOf('garbage'), undefined);
  });

  it('ImagecastGateway sends the ID token as the bearer, audience defaulting to the gateway origin, and retries a refusal once with a fresh token', async () => {
    let refuseNext = 1;
    const gateway = await listen((req) => {
      if (refuseNext > 0) {
        refuseNext -= 1;
        return [403, { error: 'token refused: expired at …' }];
      }
      return [201, { releaseId: 'r-1', bearer: req.headers.authorization }];
    });
    try {
      const saved = { ...process.env };
      Object.assign(process.env, env());
      try {
        const before = issued;
        const ci = new ImagecastGateway({ url: `${gateway.url}/ignored/path`, oidc: 'github' });
        const started = (await ci.startRelease({})) as unknown as { releaseId: string; bearer: string };
        assert.equal(started.releaseId, 'r-1');
        assert.equal(issued, before + 2, 'the refused token was replaced by a fresh one');
        const payload = JSON.parse(Buffer.from(started.bearer.replace(/^Bearer /, '').split('.')[1]!, 'base64url').toString()) as { aud: string };
        assert.equal(payload.aud, gateway.url, 'audience: the gateway origin');
        assert.equal(gateway.seen.length, 2);
        // A token that is refused again is the gateway's answer: no loop.
        refuseNext = 5;
        await assert.rejects(ci.getRelease('r-1'), /token refused/);
        assert.equal(gateway.seen.length, 4);
      } finally {
        process.env = saved;
      }
    } finally {
      gateway.server.close();
    }
  });
});
