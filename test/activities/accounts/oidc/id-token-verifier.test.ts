// The ID-token verifier against a real local OIDC issuer over HTTP (discovery, JWKS, rotation).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, SignJWT } from 'jose';
import { IdTokenRefused, IdTokenVerifier, looksLikeJwt, type TrustedIssuer } from '../../../../activities/accounts/oidc/id-token-verifier.js';
import { startOidcIssuer, type OidcIssuer } from '../../../../infra/fakes/oidc-issuer/issuer.js';

const AUD = 'https://imagecast.example:8443';
const CLAIMS = { repository: 'org/images', ref: 'refs/heads/main' };

describe('OIDC ID-token verifier', () => {
  let rs: OidcIssuer;
  let es: OidcIssuer;
  let liar: Server;
  let liarUrl: string;
  before(async () => {
    rs = await startOidcIssuer();
    es = await startOidcIssuer({ alg: 'ES256' });
    // A discovery document that names another issuer (a mix-up attack, OIDC Discovery §4.3).
    liar = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: rs.issuer, jwks_uri: rs.jwksUrl }));
    });
    await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', resolve));
    liarUrl = `http://127.0.0.1:${(liar.address() as AddressInfo).port}`;
  });
  after(async () => {
    await rs?.stop();
    await es?.stop();
    liar?.close();
  });

  const trusting = (...issuers: TrustedIssuer[]) => async (iss: string) => issuers.find((i) => i.issuer === iss);
  const refusal = async (verifier: IdTokenVerifier, jwt: string, lookup: (iss: string) => Promise<TrustedIssuer | undefined>) => {
    const error = await verifier.verify(jwt, lookup).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof IdTokenRefused, `refused, got ${String(error)}`);
    assert.ok(!error.message.includes(jwt));
    return error.reason;
  };

  it('verifies RS256 and ES256 tokens found by discovery, returning the claims', async () => {
    const verifier = new IdTokenVerifier();
    const lookup = trusting({ issuer: rs.issuer, audiences: ['other', AUD] }, { issuer: es.issuer, audiences: [AUD] });
    for (const issuer of [rs, es]) {
      const verified = await verifier.verify(await issuer.mint(CLAIMS, { audience: AUD }), lookup);
      assert.equal(verified.issuer, issuer.issuer);
      assert.equal(verified.audience, AUD);
      assert.equal(verified.subject, 'repo:org/repo:ref:refs/heads/main');
      assert.equal(verified.claims.repository, 'org/images');
      assert.ok(verified.expiresAt.getTime() > Date.now());
    }
  });

  it('refuses bad tokens with a reason a CI user can act on', async () => {
    const verifier = new IdTokenVerifier({ jwksCooldownMs: 0 });
    const lookup = trusting({ issuer: rs.issuer, audiences: [AUD] });
    const now = Math.floor(Date.now() / 1000);
    assert.match(await refusal(verifier, await rs.mint(CLAIMS, { audience: AUD, expiresInSeconds: -120 }), lookup), /^expired at \d{4}-/);
    // Within the 60 s leeway an expired token still passes: clocks differ.
    await verifier.verify(await rs.mint(CLAIMS, { audience: AUD, expiresInSeconds: -30 }), lookup);
    assert.match(await refusal(verifier, await rs.mint(CLAIMS, { audience: AUD, notBefore: now + 300 }), lookup), /^not valid before /);
    assert.match(await refusal(verifier, await rs.mint(CLAIMS, { audience: AUD, issuedAt: now + 300 }), lookup), /^issued in the future/);
    assert.match(await refusal(verifier, await rs.mint(CLAIMS, { audience: 'someone-else' }), lookup), /^audience "someone-else" is not one of https:\/\/imagecast.example:8443/);
    assert.match(await refusal(verifier, await rs.mint(CLAIMS, { audience: AUD, signWithForeignKey: true }), lookup), /^signature does not verify/);
    assert.match(await refusal(verifier, await rs.mint(CLAIMS, { audience: AUD, algNone: true }), lookup), /^algorithm none is not accepted \(RS256, ES256 only\)/);
    const hs = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(rs.issuer).setAudience(AUD).setExpirationTime('5m').sign(new Uint8Array(32));
    assert.match(await refusal(verifier, hs, lookup), /^algorithm HS256 is not accepted/);
    assert.match(await refusal(verifier, await es.mint(CLAIMS, { audience: AUD }), lookup), new RegExp(`^unknown issuer ${es.issuer}`));
    assert.match(await refusal(verifier, 'a.b.c', lookup), /^not a JWT/);
  });

  it('fetches the JWKS again for a kid it has not seen (key rotation), and not for every token', async () => {
    const verifier = new IdTokenVerifier({ jwksCooldownMs: 0 });
    const lookup = trusting({ issuer: rs.issuer, audiences: [AUD] });
    await verifier.verify(await rs.mint(CLAIMS, { audience: AUD }), lookup);
    const afterFirst = rs.jwksRequests();
    await verifier.verify(await rs.mint(CLAIMS, { audience: AUD }), lookup);
    assert.equal(rs.jwksRequests(), afterFirst, 'a known kid is served from the cache');
    await rs.rotate();
    await verifier.verify(await rs.mint(CLAIMS, { audience: AUD }), lookup);
    assert.equal(rs.jwksRequests(), afterFirst + 1, 'the unknown kid made one refetch');
  });

  it('refuses an issuer whose discovery names another, and plain http off loopback, before fetching keys', async () => {
    const verifier = new IdTokenVerifier();
    const { privateKey } = await generateKeyPair('RS256');
    const jwt = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256' }).setIssuer(liarUrl).setAudience(AUD).setExpirationTime('5m').sign(privateKey);
    const reason = await refusal(verifier, jwt, trusting({ issuer: liarUrl, audiences: [AUD] }));
    assert.match(reason, new RegExp(`^issuer discovery failed: .* names issuer "${rs.issuer}", not ${liarUrl}`));
    const remote = await refusal(verifier, await rs.mint(CLAIMS, { audience: AUD }), async () => ({ issuer: 'http://issuer.example', audiences: [AUD] }));
    assert.match(remote, /^issuer discovery failed: issuer http:\/\/issuer.example is not https \(http only on loopback\)/);
    const strict = new IdTokenVerifier({ allowHttpLoopback: false });
    assert.match(await refusal(strict, await rs.mint(CLAIMS, { audience: AUD }), trusting({ issuer: rs.issuer, audiences: [AUD] })), /is not https$/);
    assert.match(await refusal(verifier, await rs.mint(CLAIMS, { audience: AUD }), async () => ({ issuer: rs.issuer, audiences: [AUD], jwksUrl: 'ftp://x' })), /^the JWKS URL ftp:\/\/x is not https/);
  });

  it('tells a JWT from an icast_ token', () => {
    assert.equal(looksLikeJwt('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'), true);
    assert.equal(looksLikeJwt('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'), true, 'an unsigned JWT is still a JWT (and refused later)');
    assert.equal(looksLikeJwt('icast_0123456789ab_abcdefABCDEF-_0123456789abcdefABCDEF0123456'), false);
    assert.equal(looksLikeJwt('a.b'), false);
  });
});
