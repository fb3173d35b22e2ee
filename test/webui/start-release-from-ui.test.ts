/**
 * A person starts a release from the Temporal Web UI's "Start Workflow" form, in a real
 * (headless) Chromium driven by playwright-core, and the UI shows it Completed.
 *
 * Written against the Web UI embedded in Temporal CLI 1.9.1 (Server 1.32.0, UI 2.54.1):
 * selectors are the UI's data-testid attributes and visible texts of that version.
 *
 * Needs the Debian package `chromium` (/usr/bin/chromium; `npm run setup` installs it).
 * Without it the test is skipped locally and fails in CI. IMAGECAST_UPDATE_SCREENSHOT=1
 * also saves the workflow's page to docs/webui-release.png and its User Metadata tab (the
 * step table) to docs/webui-release-details.png (run from the project root).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Client } from '@temporalio/client';
import type { releaseImage } from '../../workflows/release-image.js';
import { startUiStack, UI_STACK_REGIONS, type UiStack } from '../support/ui-stack.js';

const CHROMIUM = '/usr/bin/chromium';
const skip =
  !existsSync(CHROMIUM) && !process.env.CI
    ? `${CHROMIUM} is missing: install the Debian package "chromium" (npm run setup) to run the Web UI test`
    : false;

/** The UI is slow to render on a 2-core machine; every wait gets this long. */
const UI_TIMEOUT_MS = 60_000;

describe('Temporal Web UI', { skip, timeout: 600_000 }, () => {
  let stack: UiStack | undefined;
  let browser: Browser | undefined;
  let page: Page;

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: the Web UI test needs the Debian package "chromium"`,
    );
    stack = await startUiStack('webui');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    page.setDefaultNavigationTimeout(UI_TIMEOUT_MS);
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('starts a release from the Start Workflow form, shows it Completed with its image name, summaries and step table, and finds it by ImageName', async () => {
    const { uiUrl, client, workflowsQueue } = stack!;
    const workflowId = `ui-release-${randomBytes(4).toString('hex')}`;
    await keepScreenshotOnFailure(page, workflowId, async () => {
      await page.goto(`${uiUrl}/namespaces/default/workflows/start-workflow`);
      await page.getByTestId('workflowId').fill(workflowId);
      await page.getByTestId('taskQueue').fill(workflowsQueue);
      await page.getByTestId('workflowType').fill('releaseImage');
      // The Input's Data field is a CodeMirror editor; the UI sends it as ONE json/plain payload.
      await page.locator('.cm-content').fill(JSON.stringify(stack!.job(), null, 2));
      await page.getByLabel('json/plain').check();
      await page.getByTestId('start-workflow-button').click();
      // The toast links to the run it started: the page we check once the release has finished.
      const runPath = await page
        .getByRole('link', { name: 'Workflow started successfully' })
        .getAttribute('href');
      assert.match(runPath ?? '', new RegExp(`^/namespaces/default/workflows/${workflowId}/[0-9a-f-]+/`));

      const result = await client.temporal.workflow.getHandle<typeof releaseImage>(workflowId).result();
      assert.equal(result.status.state, 'succeeded', result.status.error);
      assert.match(result.imageName, /^webui-v\d{8}-b1$/);
      assert.deepEqual(result.images.map((i) => i.region).sort(), UI_STACK_REGIONS);
      for (const region of UI_STACK_REGIONS)
        assert.equal(stack!.imagesIn(region).length, 1, `one image in ${region}`);

      await page.goto(`${uiUrl}${runPath}`);
      await page.getByTestId('workflow-id-heading').getByText(workflowId, { exact: true }).waitFor();
      await page.getByTestId('execution-status').getByText('Completed', { exact: true }).waitFor();
      // Regular expressions: getByText with a string ignores case, and "imageName" ≠ "ImageName".
      await page
        .getByTestId('input-and-result')
        .getByText(jsonLine('imageName', result.imageName))
        .first()
        .waitFor();
      // The Timeline reads as the pipeline: every activity carries its summary.
      await page.getByText('copy to region-2', { exact: false }).first().waitFor();
      if (process.env.IMAGECAST_UPDATE_SCREENSHOT === '1')
        await page.screenshot({ path: 'docs/webui-release.png' });

      // User Metadata → Current Details: the step table, state, time and attempts in columns
      // of their own (the panel renders Markdown without cell padding), details below it.
      await page.getByText('User Metadata', { exact: true }).first().click();
      const details = page.frameLocator('#user-metadata-current-details');
      await details.locator('th').first().waitFor();
      const trimmed = (texts: string[]) => texts.map((t) => t.trim());
      assert.deepEqual(trimmed(await details.locator('th').allTextContents()), ['step', 'state', 'took', 'attempts']);
      const replicate = trimmed(await details.locator('tr', { hasText: 'replicate' }).locator('td').allTextContents());
      assert.equal(replicate.length, 4);
      assert.deepEqual([replicate[0], replicate[1], replicate[3]], ['✔ replicate', 'succeeded', '1']);
      assert.match(replicate[2]!, /^\d+ (ms|s)$/);
      // Each cell ends in an em space, so neighbouring cells never run together.
      assert.match((await details.locator('tr', { hasText: 'replicate' }).innerText()).replace(/\s+/g, ' '), /✔ replicate succeeded \d+ (ms|s) 1/);
      await details.getByText(/replicate: region-2: img-[0-9a-f]+/).waitFor();
      if (process.env.IMAGECAST_UPDATE_SCREENSHOT === '1')
        await page.screenshot({ path: 'docs/webui-release-details.png' });
      await page.getByTestId('search-attributes-tab').click();
      await page.waitForURL(/\/search-attributes$/);
      await page.getByText(jsonLine('ImageName', result.imageName)).waitFor();
      await page.getByText(jsonLine('ReleaseStatus', 'succeeded')).waitFor();

      // The workflows list filtered by our search attribute shows this release, and only
      // matching ones (the visibility store is eventually consistent: wait for it first).
      const query = `ImageName="${result.imageName}"`;
      await waitUntilVisible(client.temporal, query, workflowId);
      await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
      await page.getByRole('link', { name: workflowId }).waitFor();
      await page.goto(
        `${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent('ImageName="no-such-image"')}`,
      );
      await page.getByText('No Workflows Found').waitFor();
      assert.equal(await page.getByRole('link', { name: workflowId }).count(), 0);
    });
  });
});

/** A `"key": "value"` line of the UI's JSON viewers, matched case-sensitively. */
function jsonLine(key: string, value: string): RegExp {
  return new RegExp(`"${key}": "${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`);
}

async function waitUntilVisible(temporal: Client, query: string, workflowId: string): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    for await (const execution of temporal.workflow.list({ query }))
      if (execution.workflowId === workflowId) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.fail(`visibility never listed ${workflowId} for ${query}`);
}

/** A failing UI step leaves a screenshot of the page behind, named in the error. */
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
