// `node dist/infra/fakes/gce-compute/main.js [--port P] [--storage-endpoint URL] [--operation-ms N]`:
// runs the fake until Ctrl-C, for a person trying the SDK or the CLI against it.
import { parseArgs } from 'node:util';
import { startGceComputeFake } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'storage-endpoint': { type: 'string' },
    'operation-ms': { type: 'string' },
    'image-ready-ms': { type: 'string' },
  },
});
const number = (text: string | undefined) => (text === undefined ? undefined : Number(text));

const fake = await startGceComputeFake({
  port: Number(values.port),
  storageEndpoint: values['storage-endpoint'],
  operationMs: number(values['operation-ms']),
  imageReadyMs: number(values['image-ready-ms']),
});
console.log(fake.endpoint);

const stop = () => {
  void fake.stop().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
