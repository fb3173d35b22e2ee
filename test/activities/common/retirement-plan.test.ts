import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { retirementPlan } from '../../../activities/common/retirement-plan.js';
import type { CatalogImage } from '../../../activities/common/catalog/catalog.js';
import { retirementPolicySchema } from '../../../schemas/retirement-policy.js';

const DAY = 24 * 3600 * 1000;
const now = new Date('2026-11-25T12:00:00Z');

/** Release n went out n days ago, in two regions. */
function release(n: number, state: CatalogImage['state'] = 'active', deprecatedDaysAgo?: number): CatalogImage[] {
  return ['r-1', 'r-2'].map((region) => ({
    cloud: 'local',
    account: 'a',
    region,
    imageId: `img-${n}-${region}`,
    imageName: `line-${n}`,
    imageLine: 'line-{release}',
    releaseId: `release-${n}`,
    releaseToken: `token-${n}`,
    checksum: 'sha256:x',
    state,
    createdAt: new Date(now.getTime() - n * DAY),
    activatedAt: new Date(now.getTime() - n * DAY),
    ...(deprecatedDaysAgo !== undefined && { deprecatedAt: new Date(now.getTime() - deprecatedDaysAgo * DAY) }),
  }));
}

const policy = (p: Record<string, unknown>) => retirementPolicySchema.parse({ cloud: 'local', account: 'a', image_line: 'line-{release}', ...p });

describe('retirement plan', () => {
  it('keeps the newest N releases and deprecates the rest, each image replaced by the newest in its region', () => {
    const plan = retirementPlan([...release(30), ...release(1), ...release(10)], policy({ keep: 2 }), now);
    assert.deepEqual(plan.kept, ['release-1', 'release-10']);
    assert.deepEqual(
      plan.deprecate.map((r) => `${r.image.imageId}->${r.replacement.imageId}`),
      ['img-30-r-1->img-1-r-1', 'img-30-r-2->img-1-r-2'],
    );
    assert.deepEqual(plan.delete, []);
  });

  it('deprecates only releases old enough, deletes only long-deprecated images, and never touches the newest', () => {
    const images = [...release(1), ...release(5), ...release(40), ...release(100, 'deprecated', 95), ...release(60, 'deprecated', 3)];
    const plan = retirementPlan(images, policy({ keep: 1, older_than_days: 30, delete_after_days: 90 }), now);
    assert.deepEqual(plan.deprecate.map((r) => r.image.imageName), ['line-40', 'line-40']);
    assert.deepEqual(plan.delete.map((i) => i.imageId), ['img-100-r-1', 'img-100-r-2']);
    assert.deepEqual(retirementPlan(release(1), policy({ keep: 1 }), now).deprecate, []);
    assert.deepEqual(retirementPlan([], policy({ keep: 1 }), now), { kept: [], deprecate: [], delete: [] });
  });

  it("deletes deprecated images past the deletion date their cloud records (GCE's months_to_deletion), with or without delete_after_days", () => {
    const due = release(200, 'deprecated', 190).map((i) => ({ ...i, deleteAfter: new Date(now.getTime() - DAY) }));
    const notYet = release(100, 'deprecated', 95).map((i) => ({ ...i, deleteAfter: new Date(now.getTime() + DAY) }));
    const plan = retirementPlan([...release(1), ...due, ...notYet], policy({ keep: 1 }), now);
    assert.deepEqual(plan.delete.map((i) => i.imageId), ['img-200-r-1', 'img-200-r-2']);
    const both = retirementPlan([...release(1), ...due, ...notYet], policy({ keep: 1, delete_after_days: 90 }), now);
    assert.deepEqual(both.delete.map((i) => i.imageId).sort(), ['img-100-r-1', 'img-100-r-2', 'img-200-r-1', 'img-200-r-2']);
  });

  it('refuses a policy that would retire everything, naming the field', () => {
    const parsed = retirementPolicySchema.safeParse({ cloud: 'local', account: 'a', image_line: 'x', keep: 0 });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues[0]?.path, ['keep']);
  });
});
