import { parseArgs } from 'node:util';
import { startFakeProvider } from './server.ts';

/**
 * Runs the fake provider as its own process, as the local stack does: it is the bank, so it
 * outlives restarts of everything else. Prints one JSON line, `{"providerUrl": ...}`, once
 * it listens.
 *
 *   tsx local/fake-provider/main.ts [--port 12111] [--host 127.0.0.1] [--data-dir .local/provider]
 *                                   [--require-idempotency-key]
 *
 * PORT, FAKE_PROVIDER_DATA_DIR and FAKE_PROVIDER_REQUIRE_IDEMPOTENCY_KEY=true set the same;
 * flags win. `--require-idempotency-key` refuses a POST without a key of the caller's own, a
 * rule stricter than Stripe's: off by default, on in the local stack.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    'require-idempotency-key': { type: 'boolean' },
  },
});

const port = Number(values.port ?? process.env['PORT'] ?? 12111);
const host = values.host ?? '127.0.0.1';
const dataDir = values['data-dir'] ?? (process.env['FAKE_PROVIDER_DATA_DIR'] || undefined);
const requireIdempotencyKey =
  values['require-idempotency-key'] ?? process.env['FAKE_PROVIDER_REQUIRE_IDEMPOTENCY_KEY'] === 'true';

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`fake provider: invalid port ${values.port ?? process.env['PORT']}\n`);
  process.exit(1);
}

try {
  const provider = await startFakeProvider({
    port,
    host,
    requireIdempotencyKey,
    ...(dataDir === undefined ? {} : { dataDir }),
  });
  process.stdout.write(`${JSON.stringify({ providerUrl: provider.url })}\n`);
  const shutdown = () => {
    provider.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  process.stderr.write(
    code === 'EADDRINUSE'
      ? `fake provider: port ${port} on ${host} is already in use; stop whatever holds it or pass --port 0 for a free one\n`
      : `fake provider: could not start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
}
