import { ensureAssembly } from '../../local/assembly/synthesize.ts';

/**
 * Global setup of the projects whose files each start stacks of their own: the app is
 * synthesized once, before any file starts, and not by files racing for the lock inside their
 * hooks' time limits (a synthesis of every bundle takes a minute on a busy machine).
 */
export default async function setup(): Promise<void> {
  await ensureAssembly(undefined, (line) => console.log(line));
}
