import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Connection } from '@temporalio/client';
import { freshDatabaseUrl, testTemporalAddress } from '../support/stack.js';
import { SEARCH_ATTRIBUTE_TYPES } from '../../schemas/search-attributes.js';

describe('dev stack', () => {
  it('serves PostgreSQL databases made on demand', async () => {
    const client = new pg.Client({ connectionString: await freshDatabaseUrl('devstack') });
    await client.connect();
    const { rows } = await client.query<{ version: string }>(
      "SELECT current_setting('server_version') AS version",
    );
    await client.end();
    assert.match(rows[0]!.version, /^\d+/);
  });

  it('serves Temporal with our search attributes registered', async () => {
    const connection = await Connection.connect({ address: await testTemporalAddress() });
    const response = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    await connection.close();
    for (const name of Object.keys(SEARCH_ATTRIBUTE_TYPES)) {
      assert.ok(name in (response.customAttributes ?? {}), `${name} is registered`);
    }
  });
});
