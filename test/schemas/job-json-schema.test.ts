import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jobJsonSchema, jobJsonSchemaObject, jobSchemas, type JsonSchema } from '../../schemas/job/index.js';
import { CLOUDS } from '../../schemas/steps.js';

describe('generated JSON Schema', () => {
  const local = JSON.parse(jobJsonSchema('local', 'json')) as JsonSchema;

  it('describes every field, nested ones too', () => {
    const conditionFields = local.properties!.conditions!.items!.properties!;
    for (const [name, field] of Object.entries({ ...local.properties, ...conditionFields })) {
      assert.ok(field.description && field.description.length > 10, `${name} has a description`);
    }
  });

  it('lists the required fields; fields with defaults are optional and show the default', () => {
    assert.deepEqual([...local.required!].sort(), [
      'cloud_image_name',
      'download_url',
      'image',
      'image_description',
    ]);
    assert.equal(local.properties!.conditions_wait_time!.default, 900);
    assert.equal(local.properties!.cloud!.default, 'local');
    assert.equal(local.additionalProperties, false);
    assert.match(local.description!, /raw_image_upload_type/);
    assert.match(local.properties!.cloud_image_name!.description!, /Imagecast addition/);
  });

  it('prints compact and annotated forms', () => {
    assert.deepEqual(JSON.parse(jobJsonSchema('local', 'raw')), local);
    assert.equal(jobJsonSchema('local', 'raw').includes('\n'), false);
    const annotated = jobJsonSchema('local', 'annotated');
    assert.match(annotated, /^conditions_wait_time {2}\(integer; default 900\)$/m);
    assert.match(annotated, /^image {2}\(string; required\)$/m);
    assert.match(
      annotated,
      /^conditions\[\]\.condition {2}\(">=" \| "==" \| "<=" \| ">" \| "<"; optional\)$/m,
    );
    assert.match(annotated, /example: \["local-2","local-3"\]/);
  });

  it('exists for every cloud, saying when its provider is not available yet', () => {
    assert.deepEqual(Object.keys(jobSchemas).sort(), [...CLOUDS].sort());
    for (const cloud of ['gce', 'azure'] as const) {
      assert.match(
        jobJsonSchemaObject(cloud).description!,
        new RegExp(`${cloud} provider is not available yet`),
      );
      assert.match(jobJsonSchema(cloud, 'annotated'), /provider is not available yet/);
    }
    assert.match(jobJsonSchemaObject('ec2').description!, /publish_in_marketplace/);
    assert.ok(jobJsonSchemaObject('ec2').properties?.billing_codes, 'ec2 documents billing_codes');
  });
});
