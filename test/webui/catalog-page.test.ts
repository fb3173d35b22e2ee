/**
 * A person browses the public catalog page in a real (headless) Chromium driven by
 * playwright-core: the gateway serves it from a real PostgreSQL catalog written as releases
 * write it, search narrows it, and a deprecated image reads as deprecated with its replacement.
 *
 * Needs the Debian package `chromium` (/usr/bin/chromium; `npm run setup` installs it).
 * Without it the test is skipped locally and fails in CI. IMAGECAST_UPDATE_SCREENSHOT=1
 * also saves the page to docs/catalog-page.png (run from the project root).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ImageCatalog } from '../../activities/common/catalog/catalog.js';
import { migrate } from '../../infra/db/migrate.js';
import { createPool } from '../../infra/db/pool.js';
import { ImagecastClient } from '../../client/sdk/index.js';
import { startReleaseGateway, type ReleaseGateway } from '../../gateway/release-gateway.js';
import { freshDatabaseUrl, testTemporalAddress } from '../support/stack.js';
import { DEMO, seedDemoCatalog, seedImageId } from '../support/public-catalog-seed.js';

const CHROMIUM = '/usr/bin/chromium';
const skip =
  !existsSync(CHROMIUM) && !process.env.CI
    ? `${CHROMIUM} is missing: install the Debian package "chromium" (npm run setup) to run the catalog page test`
    : false;

/** Chromium is slow on a 2-core machine; every wait gets this long. */
const UI_TIMEOUT_MS = 60_000;

describe('public catalog page', { skip, timeout: 300_000 }, () => {
  let pool: pg.Pool | undefined;
  let client: ImagecastClient | undefined;
  let gateway: ReleaseGateway | undefined;
  let browser: Browser | undefined;
  let page: Page;

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: the catalog page test needs the Debian package "chromium"`,
    );
    pool = createPool(await freshDatabaseUrl('catalog_page'));
    await migrate(pool);
    await seedDemoCatalog(new ImageCatalog(pool));
    client = await ImagecastClient.connect({ address: await testTemporalAddress() });
    gateway = await startReleaseGateway({ pool, client });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    page.setDefaultNavigationTimeout(UI_TIMEOUT_MS);
  });
  after(async () => {
    await browser?.close();
    await gateway?.stop();
    await client?.close();
    await pool?.end();
  });

  const lines = () => page.locator('section.line h2').allTextContents();
  const search = async (fill: () => Promise<unknown>) => {
    await fill();
    // The form is a plain GET: the search is a new page load.
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Search' }).click()]);
  };

  it('lists the public lines, shows the deprecated image with its replacement, and search narrows the list', async () => {
    await keepScreenshotOnFailure(page, 'catalog', async () => {
      await page.goto(`${gateway!.url}/catalog`);
      await page.locator('#result-count').getByText('3 image lines').waitFor();
      assert.deepEqual(await lines(), [DEMO.leapArm.line, DEMO.slesOld.line, DEMO.slesGce.line]);
      assert.equal(await page.getByText(DEMO.internal.imageName).count(), 0, 'a private image never shows');

      const old = page.locator(`tr[data-image-id="${seedImageId(DEMO.slesOld, 'us-east-1')}"]`);
      assert.equal((await old.locator('.state').innerText()).trim(), 'deprecated');
      assert.match(
        await old.innerText(),
        new RegExp(`replaced by ${DEMO.slesNew.imageName} \\(${seedImageId(DEMO.slesNew, 'us-east-1')}\\)`),
      );
      // It reads as retired: greyed, unlike the current image next to it.
      // The callback runs in the page; the project's TypeScript has no DOM types, hence the cast.
      type InPage = { getComputedStyle(element: unknown): { color: string } };
      const colour = (selector: string) =>
        page.locator(selector).evaluate((el) => (globalThis as unknown as InPage).getComputedStyle(el).color);
      assert.notEqual(
        await colour(`tr[data-image-id="${seedImageId(DEMO.slesOld, 'us-east-1')}"] .state`),
        await colour(`tr[data-image-id="${seedImageId(DEMO.slesNew, 'us-east-1')}"] .state`),
      );
      const current = page.locator(`tr[data-image-id="${seedImageId(DEMO.slesNew, 'us-east-1')}"]`);
      assert.equal((await current.locator('.state').innerText()).trim(), 'active');
      await page.getByText(DEMO.slesNew.checksum).first().waitFor();
      if (process.env.IMAGECAST_UPDATE_SCREENSHOT === '1')
        await page.screenshot({ path: 'docs/catalog-page.png', fullPage: true });

      await search(() => page.getByLabel('Name, OS or image id').fill('sles sp6'));
      await page.locator('#result-count').getByText('2 image lines match').waitFor();
      assert.deepEqual(await lines(), [DEMO.slesOld.line, DEMO.slesGce.line]);

      await search(() => page.getByLabel('Cloud').selectOption('gce'));
      assert.match(page.url(), /[?&]q=sles\+sp6&cloud=gce/);
      await page.locator('#result-count').getByText('1 image line match').waitFor();
      assert.deepEqual(await lines(), [DEMO.slesGce.line]);

      await page.getByRole('link', { name: 'Show all' }).click();
      await page.locator('#result-count').getByText('3 image lines').waitFor();
      await search(() => page.getByLabel('Architecture').selectOption('aarch64'));
      assert.deepEqual(await lines(), [DEMO.leapArm.line]);
      await search(() => page.getByLabel('Name, OS or image id').fill('no-such-os'));
      await page.locator('#result-count').getByText('0 image lines match').waitFor();
    });
  });
});

/** A failing step leaves a screenshot of the page behind, named in the error. */
async function keepScreenshotOnFailure(page: Page, name: string, steps: () => Promise<void>): Promise<void> {
  try {
    await steps();
  } catch (error) {
    const path = join(tmpdir(), `imagecast-webui-${name}.png`);
    await page.screenshot({ path, fullPage: true }).catch(() => undefined);
    if (error instanceof Error) error.message += `\n(screenshot of the page at the failure: ${path})`;
    throw error;
  }
}
