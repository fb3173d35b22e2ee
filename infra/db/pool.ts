import pg from 'pg';

/**
 * A small pool: activities make few, short queries, and every worker has its own pool.
 * An idle connection the server drops (restart, failover) makes the pool emit 'error';
 * unhandled, that would kill the worker, while the pool simply replaces the connection on
 * the next query. `onIdleError` lets the caller log it.
 */
export function createPool(url: string, onIdleError: (error: Error) => void = () => undefined): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 5, application_name: 'imagecast' });
  pool.on('error', onIdleError);
  return pool;
}
