import { describe, expect, it, vi } from 'vitest';
import { keptFor } from '../../../functions/handlers/shared/once.ts';

describe('keptFor', () => {
  it('reads each key once while its answer is kept, again once it lapses', async () => {
    let now = 0;
    const load = vi.fn(async (key: string) => `${key}@${now}`);
    const read = keptFor(60_000, load, () => now);

    expect(await read('m_1')).toBe('m_1@0');
    now = 59_999;
    expect(await read('m_1')).toBe('m_1@0');
    expect(await read('m_2')).toBe('m_2@59999');
    now = 60_000;
    expect(await read('m_1')).toBe('m_1@60000');

    expect(load.mock.calls.map(([key]) => key)).toEqual(['m_1', 'm_2', 'm_1']);
  });

  it('keeps no failure: the next read asks again', async () => {
    const load = vi.fn().mockRejectedValueOnce(new Error('unreachable')).mockResolvedValueOnce('ok');
    const read = keptFor(60_000, load, () => 0);

    await expect(read('m_1')).rejects.toThrow('unreachable');
    expect(await read('m_1')).toBe('ok');
    expect(load).toHaveBeenCalledTimes(2);
  });
});
