/**
 * `npm run fuzz -- [--runs N] [--seed S [--path P]] [--routes A,B] [--verbose]`: the HTTP
 * fuzzer outside `npm test`. `--runs N` draws N requests (no time limit); `--seed S --path P`,
 * as a failure prints them, replays its shrunk counterexample against a fresh local stack;
 * `--routes` keeps to some routes of the catalog; `--verbose` prints every request.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { seed: { type: 'string' }, path: { type: 'string' }, runs: { type: 'string' }, routes: { type: 'string' }, verbose: { type: 'boolean' } },
});
if (values.path !== undefined && values.seed === undefined) {
  console.error('--path replays a failure of one seed: give --seed too');
  process.exit(2);
}
const root = path.resolve(import.meta.dirname, '../..');
const result = spawnSync(path.join(root, 'node_modules/.bin/vitest'), ['run', '--project', 'fuzz', 'test/fuzz/api.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    ...(values.seed !== undefined && { FUZZ_SEED: values.seed }),
    ...(values.path !== undefined && { FUZZ_PATH: values.path }),
    ...(values.runs !== undefined && { FUZZ_RUNS: values.runs }),
    ...(values.routes !== undefined && { FUZZ_ROUTES: values.routes }),
    ...(values.verbose && { FUZZ_VERBOSE: '1' }),
  },
});
process.exit(result.status ?? 1);
