#!/usr/bin/env node
// An example CI step: release the image a build job produced, and fail the CI job if the
// release fails. Two ways in, chosen by the environment:
//  - IMAGECAST_GATEWAY_URL + IMAGECAST_TOKEN: through the release gateway with a scoped,
//    short-lived token (the CI runner holds no cloud credentials and no Temporal access);
//  - otherwise straight to Temporal (IMAGECAST_TEMPORAL_ADDRESS, IMAGECAST_PAYLOAD_KEY…).
//
//   node examples/ci-release.mjs examples/jobs/local-demo.json
import { readFileSync } from 'node:fs';
// In your project: npm install the imagecast package; here the repository imports itself by name.
import { ImagecastClient, ImagecastGateway, InvalidJobError, GatewayError, payloadKeysFromEnv } from 'imagecast/sdk';

const file = process.argv[2];
if (!file) {
  console.error('usage: ci-release.mjs JOB.json');
  process.exit(2);
}
const job = JSON.parse(readFileSync(file, 'utf8'));
const env = process.env;
const imagecast = env.IMAGECAST_GATEWAY_URL
  ? new ImagecastGateway({ url: env.IMAGECAST_GATEWAY_URL, token: env.IMAGECAST_TOKEN ?? '' })
  : await ImagecastClient.connect({
      address: env.IMAGECAST_TEMPORAL_ADDRESS,
      queuePrefix: env.IMAGECAST_QUEUE_PREFIX,
      payloadKeys: payloadKeysFromEnv(env),
    });

try {
  const { releaseId } = await imagecast.startRelease(job);
  console.log(`release ${releaseId} started`);
  const status = await imagecast.waitForRelease(releaseId, {
    onProgress: (s) => console.log(`  ${s.currentStep ?? s.state}`),
  });
  for (const image of status.images) console.log(`  ${image.region}: ${image.imageId}`);
  if (status.state !== 'succeeded') console.error(`release ${status.state}: ${status.error}`);
  process.exitCode = status.state === 'succeeded' ? 0 : 1;
} catch (error) {
  if (error instanceof InvalidJobError) {
    console.error(error.message);
    process.exitCode = 2;
  } else if (error instanceof GatewayError) {
    console.error(`gateway: ${error.message}`);
    process.exitCode = error.status === 400 ? 2 : 1;
  } else throw error;
} finally {
  if ('close' in imagecast) await imagecast.close();
}
