import type { LaunchOptions, Page } from 'playwright-core';

/**
 * The ops page as a person uses it, for the browser test: the run form, the payments list and
 * a payment's detail, found by their labels, roles and the rows' ids.
 */

/** Chromium as Debian packages it, with what it needs as root and on a machine without a network (see TOOLCHAIN.md). */
export const chromiumLaunch: LaunchOptions = {
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
};

const ENDED = ['succeeded', 'failed', 'canceled'];

/** Fills the run form and submits it; the payment_no the page reports. */
export async function runPayment(page: Page, run: { card: string; crashPoint?: string; fault?: string }): Promise<string> {
  await page.getByLabel('Test card').selectOption(run.card);
  await page.getByLabel('Crash point').selectOption(run.crashPoint ?? '');
  await page.getByLabel('Provider fault').selectOption(run.fault ?? '');
  await page.getByRole('button', { name: 'Run payment' }).click();
  const result = page.locator('#run-result[data-payment-no^="pay_"]');
  await result.waitFor();
  return (await result.getAttribute('data-payment-no'))!;
}

/** The status the payments list shows for `paymentNo` once it ended, as the page polls it. */
export async function endedStatus(page: Page, paymentNo: string, timeoutMs: number): Promise<string> {
  const selector = `#payments tr[data-id="${paymentNo}"] td.status`;
  // Evaluated in the page, which has a DOM (this project's TypeScript has none).
  await page.waitForFunction(`${JSON.stringify(ENDED)}.includes(document.querySelector(${JSON.stringify(selector)})?.textContent ?? '')`, undefined, {
    timeout: timeoutMs,
    polling: 250,
  });
  return (await page.locator(selector).textContent()) ?? '';
}

/** Throws unless the page shows `paymentNo` ended `succeeded` (a payment that failed, or never ended, fails it). */
export async function expectSucceededOnPage(page: Page, paymentNo: string, timeoutMs = 30_000): Promise<void> {
  const status = await endedStatus(page, paymentNo, timeoutMs);
  if (status !== 'succeeded') throw new Error(`payment ${paymentNo} ended ${status} on the ops page, not succeeded`);
}

/** Opens a payment's detail from the list. */
export async function openDetail(page: Page, paymentNo: string): Promise<void> {
  await page.locator(`#payments tr[data-id="${paymentNo}"]`).getByRole('button', { name: paymentNo }).click();
  await page.getByRole('heading', { name: `Payment ${paymentNo}` }).waitFor();
}

/** The events of the saga's executions as the detail lists them: `<event>:<state>`. */
export async function sagaEvents(page: Page): Promise<string[]> {
  const rows = await page.locator('#detail-body tr[data-event]').all();
  return Promise.all(rows.map(async (row) => `${await row.getAttribute('data-event')}:${await row.getAttribute('data-state')}`));
}
