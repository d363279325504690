import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/local-stack.ts';
import { chromiumLaunch, endedStatus, expectSucceededOnPage, openDetail, runPayment, sagaEvents } from './ops-page.ts';

/** How long the page may take to show what the stack did: it polls every 2 s, on a busy machine. */
const SHOWN = { timeout: 15_000 };

/** Where the screenshot goes (gitignored), for a person to look at after a run. */
const ARTIFACTS = path.join(import.meta.dirname, '..', '..', 'test-artifacts');

let stack: LocalStack;
let browser: Browser;
let page: Page;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'chargeonce-browser-'));
  stack = await startLocalStack({
    dataDir,
    port: 0,
    opsPort: 0,
    inMemory: true,
    metrics: true,
    // A crashed saga is resumed within seconds, so the page shows the reconciler's second execution.
    reconcileEveryMs: 1000,
    reconcileAfterSeconds: 1,
    retryIntervalScale: 0.05,
  });
  browser = await chromium.launch(chromiumLaunch);
  page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  await page.goto(stack.opsUrl!);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the ops page, in headless Chromium', () => {
  it("creates a payment through the page, sees it reach succeeded, and opens its saga's states and the provider's capture", async () => {
    // Prepare: the provider refuses the first authorization once (a 503), which the saga retries.
    const fault = '503 on authorize';

    // Act
    const paymentNo = await runPayment(page, { card: 'pm_card_visa', fault });
    await expectSucceededOnPage(page, paymentNo);
    await openDetail(page, paymentNo);

    // Assess
    await expect.poll(() => sagaEvents(page), SHOWN).toContain('ExecutionSucceeded:');
    const events = await sagaEvents(page);
    expect(events).toContain('TaskStateEntered:Authorize');
    expect(events).toContain('TaskFailed:');
    expect(events.at(-1)).toBe('ExecutionSucceeded:');
    expect(events).toContain('TaskStateExited:MarkSucceeded');
    const intent = page.locator('#detail-body table', { hasText: 'Provider: PaymentIntents' }).locator('tbody tr');
    await expect.poll(() => intent.locator('td').allTextContents(), SHOWN).toEqual(expect.arrayContaining(['succeeded', 'visa 4242', '$12.50']));
    await expect.poll(() => page.locator('#counters tbody').textContent(), SHOWN).toContain('route=CreatePayment');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'ops-page.png'), fullPage: true });
  });

  it('shows a payment crashed after its authorization resumed by the reconciler, under a second execution, captured once', async () => {
    // Act
    const paymentNo = await runPayment(page, { card: 'pm_card_visa', crashPoint: 'authorize:after-provider' });
    await expectSucceededOnPage(page, paymentNo);
    await openDetail(page, paymentNo);

    // Assess
    const captions = () => page.locator('#detail-body caption').allTextContents();
    await expect.poll(captions, SHOWN).toEqual(
      expect.arrayContaining([`Saga execution ${paymentNo}: FAILED`, `Saga execution ${paymentNo}-r1: SUCCEEDED`, 'Provider: PaymentIntents']),
    );
    const intent = page.locator('#detail-body table', { hasText: 'Provider: PaymentIntents' }).locator('tbody tr');
    await expect.poll(() => intent.count(), SHOWN).toBe(1);
  });

  it('fails its own check when the payment the page shows ends failed (a declined card)', async () => {
    // Act
    const paymentNo = await runPayment(page, { card: 'pm_card_chargeDeclined' });

    // Assess
    await expect(expectSucceededOnPage(page, paymentNo)).rejects.toThrow(`payment ${paymentNo} ended failed on the ops page, not succeeded`);
    expect(await endedStatus(page, paymentNo, 1000)).toBe('failed');
  });
});
