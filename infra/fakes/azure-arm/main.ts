// `node dist/infra/fakes/azure-arm/main.js [--port P] [--operation-ms N] [--replication-ms N] [--copy-ms N] [--ca-file F]`:
// runs the fake until Ctrl-C (SIGINT/SIGTERM), for a person trying the SDK or the CLI against
// it. Prints the endpoint; with --ca-file writes the certificate to trust there (e.g. for
// NODE_EXTRA_CA_CERTS of a process started afterwards).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startArmFake } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'operation-ms': { type: 'string' },
    'replication-ms': { type: 'string' },
    'copy-ms': { type: 'string' },
    'ca-file': { type: 'string' },
  },
});
const number = (text: string | undefined) => (text === undefined ? undefined : Number(text));

const fake = await startArmFake({
  port: Number(values.port),
  operationMs: number(values['operation-ms']),
  replicationMs: number(values['replication-ms']),
  copyMs: number(values['copy-ms']),
});
if (values['ca-file']) writeFileSync(values['ca-file'], fake.caPem);
console.log(fake.endpoint);

const stop = () => {
  void fake.stop().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
