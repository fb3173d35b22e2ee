import pg from 'pg';

/** A small pool: activities make few, short queries. */
export function createPool(url: string): pg.Pool {
  return new pg.Pool({ connectionString: url, max: 5, application_name: 'imagecast' });
}
