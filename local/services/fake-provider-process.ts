import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readJson } from '../process-records.ts';
import { freePort } from './dynamodb-local.ts';

const projectRoot = path.resolve(import.meta.dirname, '../..');

/**
 * The fake provider runs as its own process, detached, with its ledger on disk: it is the
 * bank, and a crash of the product (even `kill -9` of the whole stack) must not take the
 * bank with it. A provider left running by a stack that died is reused, so its ledger and
 * idempotency records carry on exactly as Stripe's would.
 */
export async function startFakeProviderProcess(dataDir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  mkdirSync(dataDir, { recursive: true });
  const recordFile = path.join(dataDir, 'process.json');
  const previous = readJson<{ pid: number; url: string }>(recordFile);
  if (previous && (await answers(previous.url))) return { url: previous.url, stop: () => stopPid(previous.pid) };

  const port = await freePort();
  const logFd = openSync(path.join(dataDir, 'provider.log'), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'local/fake-provider/main.ts')], {
    cwd: projectRoot,
    // Stricter than Stripe: a call the product sends without its own idempotency key is refused.
    env: { ...process.env, PORT: String(port), FAKE_PROVIDER_DATA_DIR: dataDir, FAKE_PROVIDER_REQUIRE_IDEMPOTENCY_KEY: 'true' },
    stdio: ['ignore', logFd, logFd],
    detached: true,
  });
  child.unref();
  closeSync(logFd);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (!(await answers(url))) {
    if (child.exitCode !== null) throw new Error(`the fake provider exited with code ${child.exitCode}; see ${dataDir}/provider.log`);
    if (Date.now() > deadline) throw new Error(`the fake provider did not answer on ${url}; see ${dataDir}/provider.log`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  writeFileSync(recordFile, JSON.stringify({ pid: child.pid, url }));
  return { url, stop: () => stopChild(child) };
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/_fake/faults`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

async function stopPid(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  // A detached child is unref'd; hold the event loop until it has really gone.
  child.ref();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
