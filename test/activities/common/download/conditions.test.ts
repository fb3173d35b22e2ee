import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  disallowedPackages,
  unmetConditions,
  type BuildFacts,
} from '../../../../activities/common/download/conditions.js';
import { parsePackagesManifest } from '../../../../activities/common/download/packages-manifest.js';

const MANIFEST = [
  'kernel-default|(none)|6.4.0|150600.23.1|x86_64|obs://build.suse.de/SUSE:SLE-15-SP6/kernel|GPL-2.0-only',
  'busybox-mini|(none)|1.36.1|1.1|x86_64|obs://build.suse.de/SUSE:SLE-15-SP6/busybox|GPL-2.0-or-later',
  'old-tool|(none)|0.9|3|noarch|obs://build.suse.de/x',
  'not a package line',
].join('\n');

describe('kiwi packages manifest', () => {
  it('reads name, version, release, arch and license, and marks a missing license unknown', () => {
    assert.deepEqual(parsePackagesManifest(MANIFEST), [
      {
        name: 'kernel-default',
        version: '6.4.0',
        release: '150600.23.1',
        arch: 'x86_64',
        license: 'GPL-2.0-only',
      },
      {
        name: 'busybox-mini',
        version: '1.36.1',
        release: '1.1',
        arch: 'x86_64',
        license: 'GPL-2.0-or-later',
      },
      { name: 'old-tool', version: '0.9', release: '3', arch: 'noarch', license: 'unknown' },
    ]);
  });
});

describe('job conditions (mash semantics)', () => {
  const build: BuildFacts = { version: '15.6.0', release: '1.42', packages: parsePackagesManifest(MANIFEST) };

  it('checks the image version/release without package_name, in rpm order, with >= by default', () => {
    const met = [
      { version: '15.6.0' },
      { release: '1.9' },
      { version: '15.6.0', release: '1.42', condition: '==' as const },
      { version: '15.5.9', condition: '>' as const },
    ];
    assert.deepEqual(unmetConditions(met, build), []);
    const [unmet] = unmetConditions([{ release: '1.43' }], build);
    assert.equal(unmet?.wanted, 'image >= release 1.43');
    assert.match(unmet?.found ?? '', /the build is 15\.6\.0-1\.42/);
  });

  it('compares the release only between equal versions', () => {
    assert.deepEqual(unmetConditions([{ version: '15.5', release: '9.9' }], build), []);
    assert.equal(unmetConditions([{ version: '15.6.0', release: '2.1' }], build).length, 1);
  });

  it('requires a package to be present when only package_name is given', () => {
    assert.deepEqual(unmetConditions([{ package_name: 'kernel-default' }], build), []);
    const [unmet] = unmetConditions([{ package_name: 'cloud-init' }], build);
    assert.equal(unmet?.wanted, 'package cloud-init present');
    assert.match(unmet?.found ?? '', /the image does not contain cloud-init/);
  });

  it("compares a package's version and release and says what the image has", () => {
    const conditions = [
      { package_name: 'kernel-default', version: '6.4.0', release: '150600.20', condition: '>=' as const },
      { package_name: 'kernel-default', version: '6.5', condition: '<' as const },
    ];
    assert.deepEqual(unmetConditions(conditions, build), []);
    const [unmet] = unmetConditions([{ package_name: 'kernel-default', version: '6.10' }], build);
    assert.equal(unmet?.wanted, 'package kernel-default >= version 6.10');
    assert.match(unmet?.found ?? '', /the image has kernel-default 6\.4\.0-150600\.23\.1/);
  });

  it('fails package conditions when the build has no packages manifest', () => {
    const [unmet] = unmetConditions([{ package_name: 'kernel-default' }], { ...build, packages: undefined });
    assert.match(unmet?.found ?? '', /no packages manifest/);
  });
});

describe('disallowed packages and licenses', () => {
  const packages = parsePackagesManifest(MANIFEST);

  it('matches package names against globs and licenses exactly but case-insensitively', () => {
    assert.deepEqual(disallowedPackages(packages, ['*-mini', 'kernel-?efault'], ['gpl-2.0-ONLY']), [
      { name: 'kernel-default', reason: 'matches disallow_packages kernel-?efault' },
      { name: 'kernel-default', reason: 'has disallowed license GPL-2.0-only' },
      { name: 'busybox-mini', reason: 'matches disallow_packages *-mini' },
    ]);
  });

  it('does not treat a glob as a substring or a license as a prefix', () => {
    assert.deepEqual(disallowedPackages(packages, ['kernel', 'busybox.mini'], ['GPL-2.0']), []);
  });
});
