import { describe, expect, it } from 'vitest';
import type { SwimClass } from '../../../functions/domain/carts/model.ts';
import type { Currency } from '../../../functions/domain/money.ts';
import { describeSchoolStoreContract } from '../../contracts/school-store.ts';
import { InMemorySchoolStore } from '../../support/in-memory-school-store.ts';

describeSchoolStoreContract('in memory', () => {
  const store = new InMemorySchoolStore();
  return { store, peekHold: async (...key) => store.peekHold(...key) };
});

describe('InMemorySchoolStore: conflicts on demand', () => {
  const swimClass: SwimClass = {
    merchantId: 'm_1',
    classId: 'cls_1',
    name: 'Tadpoles',
    seatsTotal: 1,
    seatsRemain: 1,
    seatsHeld: 0,
    students: 0,
    price: 100,
    currency: 'USD' as Currency,
    createdAt: '2026-11-23T10:00:00.000Z',
  };
  const move = { seat: { kind: 'moveSeat', merchantId: 'm_1', classId: 'cls_1', from: 'seatsRemain', to: 'seatsHeld' } } as const;

  it('meets a conflict on the next commits it is told to, writing nothing, then commits', async () => {
    const store = new InMemorySchoolStore();
    await store.commit({ class: { kind: 'putClass', swimClass } });
    store.conflictNext(2);

    const results = [await store.commit(move), await store.commit(move), await store.commit(move)];

    expect(results.map((result) => result.status)).toEqual(['conflict', 'conflict', 'committed']);
    expect(await store.getClass('m_1', 'cls_1')).toMatchObject({ seatsRemain: 0, seatsHeld: 1 });
  });

  it('meets a conflict only on the commits the predicate picks', async () => {
    const store = new InMemorySchoolStore();
    store.conflictNext(1, (writes) => 'seat' in writes);

    const put = await store.commit({ class: { kind: 'putClass', swimClass } });
    const moved = await store.commit(move);

    expect([put.status, moved.status]).toEqual(['committed', 'conflict']);
  });
});
