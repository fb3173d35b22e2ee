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
    // Every mash field a local job may carry is implemented now (download_account came last).
    assert.doesNotMatch(local.description!, /refuses by name/);
    assert.match(local.properties!.download_type!.description!, /"S3", one object s3:\/\/BUCKET\/OBJECT_KEY/);
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

  it('exists for every cloud, saying what is not available yet', () => {
    assert.deepEqual(Object.keys(jobSchemas).sort(), [...CLOUDS].sort());
    assert.match(jobJsonSchemaObject('azure').description!, /publishing to a Partner Center offer draft \(mash's publish\) is not available yet/);
    assert.match(jobJsonSchema('azure', 'annotated'), /Partner\s+Center/);
    assert.match(jobJsonSchemaObject('ec2').description!, /publish_in_marketplace/);
    assert.ok(jobJsonSchemaObject('ec2').properties?.billing_codes, 'ec2 documents billing_codes');
  });

  it('agrees with validation: the same fields, the limits and the mash names', () => {
    for (const cloud of CLOUDS) {
      const schema = jobJsonSchemaObject(cloud) as JsonSchema & { properties: Record<string, JsonSchema & { maxLength?: number }> };
      assert.deepEqual(Object.keys(schema.properties).sort(), Object.keys(jobSchemas[cloud].shape).sort(), cloud);
    }
    const ec2 = jobJsonSchemaObject('ec2') as JsonSchema & { properties: Record<string, JsonSchema & { maxLength?: number; maxItems?: number }> };
    assert.equal(ec2.properties.image_description!.maxLength, 255);
    assert.equal(ec2.properties.image_tags!.maxItems, 45);
    assert.deepEqual(ec2.properties.imds_version!.enum, ['v2.0', '2.0']);
    assert.ok(ec2.properties.last_service!.enum!.includes('test_cleanup'));
    assert.equal(ec2.properties.last_service!.default, 'deprecate');
    assert.match(ec2.description!, /upload_wait_count/);
    const local = jobJsonSchemaObject('local') as JsonSchema & { properties: Record<string, { maxLength?: number }> };
    assert.equal(local.properties.image_description!.maxLength, 1024);
  });
});
