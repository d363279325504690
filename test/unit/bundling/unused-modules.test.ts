import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_RESOURCES } from '../../../functions/adapters/stripe/resources.ts';
import { parseCurrency } from '../../../functions/domain/money.ts';
import { PROJECT_ROOT, bundleFunctions } from '../../../lib/bundling/build.ts';
import { withClassNames } from '../../../lib/bundling/stripe-error-names.ts';
import { STUBBED_MODULE_ERROR } from '../../../lib/bundling/stubbed-export.ts';
import { unusedModules } from '../../../lib/bundling/unused-modules.ts';
import { startFakeProvider, type FakeProvider } from '../../../local/fake-provider/server.ts';

type Entry = typeof import('./stubbed-entry.ts');
type PlainEntry = typeof import('./plain-entry.ts');

const EUR = parseCurrency('EUR')!;
const ENTRY = 'test/unit/bundling/stubbed-entry.ts';
const PLAIN_ENTRY = 'test/unit/bundling/plain-entry.ts';

let outDir: string;
let bundle: Entry;
let plainBundle: PlainEntry;
let fake: FakeProvider;

beforeAll(async () => {
  // Outside the project, as a function's asset is: the bundle can import nothing but itself.
  outDir = mkdtempSync(path.join(tmpdir(), 'chargeonce-stubbed-'));
  await bundleFunctions([{ entry: ENTRY, dir: '.' }, { entry: PLAIN_ENTRY, dir: 'plain' }], outDir);
  bundle = (await import(pathToFileURL(path.join(outDir, 'index.mjs')).href)) as Entry;
  plainBundle = (await import(pathToFileURL(path.join(outDir, 'plain', 'index.mjs')).href)) as PlainEntry;
  fake = await startFakeProvider();
});

afterAll(async () => {
  await fake?.close();
  rmSync(outDir, { recursive: true, force: true });
});

describe('the modules a bundle is built without', () => {
  it('makes a Stripe resource the adapter never calls throw, naming its module, once it is used', () => {
    // Prepare
    const client = bundle.createStripeClient({ apiKey: 'sk_test_bundle', apiBase: fake.url });

    // Act
    const used = () => client.customers.create({ email: 'buyer@example.com' });

    // Assess
    expect(used).toThrow(expect.objectContaining({ name: STUBBED_MODULE_ERROR, message: expect.stringContaining('stripe/esm/resources/Customers.js') }));
  });

  it("makes the AWS SDK's event streams throw, naming their module, once they are used", async () => {
    // Prepare
    const eventStreams = await bundle.importEventStreams();

    // Act
    const used = () => eventStreams.eventStreamSerdeProvider({ utf8Encoder: String, utf8Decoder: String });

    // Assess
    expect(used).toThrow(
      expect.objectContaining({ name: STUBBED_MODULE_ERROR, message: expect.stringContaining('@smithy/core/dist-es/submodules/event-streams/index.js') }),
    );
  });

  it("keeps an SDK client's version of its package.json, and throws, naming the file, for anything else asked of it", () => {
    // Prepare
    const packageJson = bundle.dynamoDbPackage;

    // Act
    const asked = () => packageJson.dependencies;

    // Assess
    expect(packageJson.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(asked).toThrow(expect.objectContaining({ name: STUBBED_MODULE_ERROR, message: expect.stringContaining('@aws-sdk/client-dynamodb/package.json') }));
  });

  it('keeps every Stripe resource the adapter calls: each of its calls reaches the provider from the bundle', async () => {
    // Prepare
    const provider = new bundle.StripePaymentProvider(bundle.createStripeClient({ apiKey: 'sk_test_bundle', apiBase: fake.url }));
    const paymentNo = `P-${randomUUID()}`;
    const payoutNo = `PO-${randomUUID()}`;
    const since = new Date(Date.now() - 60_000);

    // Act
    const authorized = await provider.authorizeCharge({
      paymentNo,
      amount: 2500,
      currency: EUR,
      paymentMethod: 'pm_card_visa',
      idempotencyKey: `${paymentNo}:authorize`,
      metadata: { payment_no: paymentNo },
    });
    const captured = await provider.captureCharge({ chargeId: authorized.id, idempotencyKey: `${paymentNo}:capture` });
    const retrieved = await provider.retrieveCharge(authorized.id);
    const refund = await provider.refundCharge({ chargeId: authorized.id, amount: 500, idempotencyKey: `${paymentNo}:refund`, metadata: {} });
    const refunds = await provider.findRefundsOfCharge(authorized.id);
    const retrievedRefund = await provider.retrieveRefund(refund.id);
    const balanceTransactions = await provider.listBalanceTransactions({ createdFrom: since, createdBefore: new Date(Date.now() + 60_000) });
    const payout = await provider.createPayout({ amount: 1000, currency: EUR, idempotencyKey: payoutNo, metadata: { payout_no: payoutNo } });
    const retrievedPayout = await provider.retrievePayout(payout.id);
    const payouts = await provider.findPayouts({ payoutNo, createdSince: since });

    // Assess
    expect(captured.status).toBe('succeeded');
    expect(retrieved.id).toBe(authorized.id);
    expect(refunds.map(({ id }) => id)).toContain(refund.id);
    expect(retrievedRefund.id).toBe(refund.id);
    expect(balanceTransactions.length).toBeGreaterThan(0);
    expect(retrievedPayout.id).toBe(payout.id);
    expect(payouts.map(({ id }) => id)).toEqual([payout.id]);
  });

  it("names stripe's error classes, which it reads the name of, while minifying renames other classes", () => {
    // Act
    const { StripeError, StripeCardError } = bundle.Stripe.errors;
    const thrown = new StripeError({ message: 'An error occurred with our connection to Stripe.' });

    // Assess
    expect(thrown.type).toBe('StripeError');
    expect(StripeCardError.name).toBe('StripeCardError');
    expect(plainBundle.PlainEntryClass.name).not.toBe('PlainEntryClass');
  });

  it("stops the build when stripe's errors no longer declare the class it names", () => {
    expect(() => withClassNames('stripe/esm/Error.js', 'export class StripeErrorBase extends Error {}')).toThrow(/declares no StripeError class/);
  });

  it('stops the build when a Stripe resource to keep has no module of that name', async () => {
    // Prepare
    const misspelled = [...STRIPE_RESOURCES, 'paymentIntent'];

    // Act
    const built = build({
      entryPoints: [ENTRY],
      absWorkingDir: PROJECT_ROOT,
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      plugins: [unusedModules(misspelled)],
    });

    // Assess
    await expect(built).rejects.toThrow(/stripe\/esm\/resources\.js exports nothing of esm\/resources\/PaymentIntent\.js/);
  });
});
