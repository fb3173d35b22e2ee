// Property tests of job validation (fast-check): over many generated documents validation
// never throws, a valid document is accepted, and one injected fault is reported at its path
// with a reason that names it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIssues, jobSchemas, mashFieldClouds, parseJob, unsupportedMashFields } from '../../schemas/job/index.js';
import { refusedMashField } from '../../schemas/job/clouds.js';
import { NAMED_IMAGE_TESTS } from '../../schemas/image-tests.js';

const RUNS = { numRuns: 300 };
type Cloud = 'ec2' | 'local';

const cloudFields: Record<Cloud, Record<string, fc.Arbitrary<unknown>>> = {
  ec2: {
    cloud_account: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    root_volume_size: fc.integer({ min: 1, max: 16384 }),
    skip_replication: fc.boolean(),
  },
  local: { region: fc.constantFrom('local-1', 'local-9') },
};

/** A valid document for `cloud`: the required fields and a random choice of optional ones. */
const validDocument = (cloud: Cloud): fc.Arbitrary<Record<string, unknown>> =>
  fc.record<Record<string, unknown>>(
    {
      image: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$/),
      download_url: fc.stringMatching(/^[a-z0-9]{1,20}$/).map((dir) => `https://download.example/${dir}/`),
      cloud_image_name: fc.stringMatching(/^[a-z0-9][a-z0-9-]{2,40}$/).map((name) => `${name}-v{date}`),
      image_description: fc.string({ minLength: 1, maxLength: 255 }),
      ...cloudFields[cloud],
      last_service: fc.constantFrom('download', 'create', 'test', 'test_cleanup', 'publish', 'deprecate'),
      cloud_architecture: fc.constantFrom('x86_64', 'aarch64'),
      conditions_wait_time: fc.integer({ min: 0, max: 100_000 }),
      tests: fc.uniqueArray(fc.constantFrom(...NAMED_IMAGE_TESTS), { maxLength: 3 }),
      notify: fc.boolean(),
      distro: fc.constantFrom('opensuse_leap', 'sles', 'sle_micro', 'rhel'),
      disallow_packages: fc.array(fc.stringMatching(/^[a-z*][a-z0-9*-]{0,20}$/), { maxLength: 3 }),
    },
    { requiredKeys: ['image', 'download_url', 'cloud_image_name', 'image_description', ...(cloud === 'ec2' ? ['cloud_account'] : [])] },
  );

/** Fields and the JSON type they take, for wrong-type faults. */
const TYPED_FIELDS: Record<Cloud, Record<string, 'string' | 'boolean' | 'number' | 'array'>> = {
  ec2: { image: 'string', image_description: 'string', cloud_account: 'string', notify: 'boolean', skip_replication: 'boolean', conditions_wait_time: 'number', tests: 'array', allow_copy: 'string' },
  local: { image: 'string', download_url: 'string', cloud_account: 'string', notify: 'boolean', allow_copy: 'boolean', conditions_wait_time: 'number', disallow_licenses: 'array' },
};

const jsonTypeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** How the reason must describe the given value, by its kind (not by our formatter). */
function givenPattern(value: unknown): RegExp {
  switch (jsonTypeOf(value)) {
    case 'null':
      return /, got null$/;
    case 'array':
      return /, got a list of \d+ items?$/;
    case 'object':
      return /, got an object$/;
    case 'string':
      return /, got (string ".*"|a string of \d+ characters)$/s;
    default:
      return new RegExp(`, got ${jsonTypeOf(value)} ${String(value).replace(/[.+-]/g, '\\$&')}$`);
  }
}

const otherJson = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 80 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), fc.integer(), { maxKeys: 2 }),
);

function refusal(doc: unknown, cloud: Cloud) {
  const result = parseJob(doc, cloud);
  assert.equal(result.ok, false, `expected a refusal of ${JSON.stringify(doc)}`);
  return result.ok ? [] : result.issues;
}

for (const cloud of ['ec2', 'local'] as const) {
  describe(`${cloud} job validation, property-tested`, () => {
    it('accepts every generated valid document', () => {
      fc.assert(
        fc.property(validDocument(cloud), (doc) => {
          const result = parseJob(doc, cloud);
          assert.ok(result.ok, result.ok ? '' : formatIssues(result.issues));
        }),
        RUNS,
      );
    });

    it('reports a value of the wrong type at its field, saying what was expected and what was given', () => {
      const fields = Object.entries(TYPED_FIELDS[cloud]);
      fc.assert(
        fc.property(
          validDocument(cloud),
          fc.constantFrom(...fields),
          otherJson,
          (doc, [field, type], value) => {
            fc.pre(jsonTypeOf(value) !== type && !(type === 'number' && typeof value === 'number'));
            const issues = refusal({ ...doc, [field]: value }, cloud);
            assert.equal(issues.length, 1, formatIssues(issues));
            assert.equal(issues[0]!.path, `$.${field}`);
            assert.match(issues[0]!.message, /^expected /);
            assert.match(issues[0]!.message, givenPattern(value));
          },
        ),
        RUNS,
      );
    });

    it('names an unknown field, and no field of mash is called unknown', () => {
      const known = Object.keys(jobSchemas[cloud].shape);
      fc.assert(
        fc.property(validDocument(cloud), fc.stringMatching(/^[a-z][a-z_]{1,24}$/), otherJson, (doc, field, value) => {
          fc.pre(!known.includes(field));
          const issues = refusal({ ...doc, [field]: value }, cloud);
          assert.deepEqual(issues.map((i) => i.path), [`$.${field}`]);
          const mash = unsupportedMashFields(cloud).includes(field) || mashFieldClouds(field).length > 0 || refusedMashField(cloud, field);
          assert.match(issues[0]!.message, mash ? new RegExp(`^mash field "${field}" `) : new RegExp(`^unknown field "${field}"`));
        }),
        RUNS,
      );
    });

    it('reports a number out of range with the bound and the number given', () => {
      fc.assert(
        fc.property(validDocument(cloud), fc.integer({ min: -1_000_000, max: -1 }), (doc, n) => {
          const issues = refusal({ ...doc, conditions_wait_time: n }, cloud);
          assert.deepEqual(issues, [{ path: '$.conditions_wait_time', message: `must be at least 0, got ${n}` }]);
        }),
        RUNS,
      );
    });

    it('reports a value outside an enumeration with the allowed values and the value given', () => {
      const enums = { cloud_architecture: ['x86_64', 'aarch64'], distro: ['opensuse_leap', 'sles', 'sle_micro', 'rhel'] };
      fc.assert(
        fc.property(
          validDocument(cloud),
          fc.constantFrom(...Object.entries(enums)),
          fc.string({ maxLength: 40 }),
          (doc, [field, allowed], value) => {
            fc.pre(!allowed.includes(value));
            const issues = refusal({ ...doc, [field]: value }, cloud);
            assert.equal(issues.length, 1, formatIssues(issues));
            assert.equal(issues[0]!.path, `$.${field}`);
            assert.ok(issues[0]!.message.startsWith(`expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got string ${JSON.stringify(value)}`), issues[0]!.message);
          },
        ),
        RUNS,
      );
    });

    it('never throws, and every problem of any JSON has a path and a reason', () => {
      const known = Object.keys(jobSchemas[cloud].shape);
      const anyDocument = fc.oneof(
        fc.jsonValue(),
        fc.dictionary(fc.constantFrom(...known), fc.jsonValue({ maxDepth: 3 })),
        validDocument(cloud).chain((doc) =>
          fc.record({ field: fc.constantFrom(...known), value: fc.jsonValue({ maxDepth: 3 }) }).map(({ field, value }) => ({ ...doc, [field]: value })),
        ),
      );
      fc.assert(
        fc.property(anyDocument, (doc) => {
          const result = parseJob(doc, cloud);
          if (result.ok) return;
          assert.ok(result.issues.length > 0);
          for (const issue of result.issues) {
            assert.match(issue.path, /^\$/);
            assert.ok(issue.message.length > 0 && issue.message !== 'Invalid input', `${issue.path}: ${issue.message}`);
          }
        }),
        { numRuns: 1000 },
      );
    });
  });
}
