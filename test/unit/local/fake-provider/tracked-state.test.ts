import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Changes, Lookup, Replay, Selection, trackState } from '../../../../local/fake-provider/tracked-state.ts';

interface Rec {
  id: string;
  n: number;
  tags: string[];
  nested: { v: number; deep: { w: number[] } } | null;
  copy?: unknown;
}

interface State {
  ledger: { items: Rec[]; log: Rec[] };
  other: Rec[];
}

const record = (id: string): Rec => ({ id, n: 0, tags: [], nested: { v: 0, deep: { w: [] } } });

function startingState(): State {
  return { ledger: { items: [record('i0'), record('i1')], log: [] }, other: [record('o0')] };
}

/** What a save writes and a restart reads: the changes as JSON text. */
const throughJson = (changes: Changes): Changes => JSON.parse(JSON.stringify(changes)) as Changes;

/** Replays `journal` over a fresh copy of the starting state. */
function replayed(journal: Changes[]): State {
  const state = startingState();
  const replay = new Replay(state);
  for (const changes of journal) replay.apply(changes);
  replay.finish();
  return state;
}

const byId = new Lookup<Rec>((rec) => rec.id);
const positive = new Selection<Rec>((rec) => rec.n > 0);

type Pick = (state: State) => Rec[];
const collections: Pick[] = [(s) => s.ledger.items, (s) => s.ledger.log, (s) => s.other];
const collection = fc.nat(collections.length - 1).map((i) => collections[i]!);

/** One way to change the state, each through the view, as the fake's code would. */
type Op = (view: State, fresh: () => string) => void;

const at = <T>(items: T[], i: number): T | undefined => (items.length === 0 ? undefined : items[i % items.length]);

const ops: fc.Arbitrary<Op>[] = [
  collection.map((pick) => (view, fresh) => void pick(view).push(record(fresh()))),
  fc.tuple(collection, fc.nat(), fc.integer({ min: -3, max: 3 })).map(([pick, i, n]) => (view) => {
    const rec = at(pick(view), i);
    if (rec) rec.n = n;
  }),
  fc.tuple(collection, fc.nat(), fc.string({ maxLength: 3 })).map(([pick, i, tag]) => (view) => void at(pick(view), i)?.tags.push(tag)),
  fc.tuple(collection, fc.nat(), fc.nat(9)).map(([pick, i, w]) => (view) => {
    const rec = at(pick(view), i);
    if (rec?.nested) rec.nested.deep.w.push(w);
    else if (rec) rec.nested = { v: w, deep: { w: [] } };
  }),
  fc.tuple(collection, fc.nat()).map(([pick, i]) => (view) => {
    const rec = at(pick(view), i);
    if (rec) rec.nested = null;
  }),
  fc.tuple(collection, fc.nat()).map(([pick, i]) => (view) => {
    const rec = at(pick(view), i);
    if (rec) delete rec.copy;
  }),
  // A value of one record stored in another: stored as a copy, so the two never share it.
  fc.tuple(collection, fc.nat(), collection, fc.nat()).map(([from, i, to, j]) => (view) => {
    const source = at(from(view), i);
    const target = at(to(view), j);
    if (source && target) target.copy = source.nested ?? source;
  }),
  fc.tuple(collection, fc.nat(), fc.nat(2)).map(([pick, i, count]) => (view) => void pick(view).splice(i % (pick(view).length + 1), count)),
  collection.map((pick) => (view) => void pick(view).reverse()),
  collection.map((pick) => (view, fresh) => void pick(view).unshift(record(fresh()))),
  fc.tuple(collection, fc.nat()).map(([pick, i]) => (view) => {
    const items = pick(view);
    const rec = at(items, i);
    if (rec) items.push(rec); // the same record twice
  }),
  // A record of one collection pushed onto another: that one gets a copy.
  fc.tuple(collection, fc.nat(), collection).map(([from, i, to]) => (view) => {
    const rec = at(from(view), i);
    if (rec) to(view).push(rec);
  }),
  collection.map((pick) => (view) => void pick(view).sort((a, b) => a.n - b.n)),
  fc.tuple(collection, fc.nat(), fc.nat(9)).map(([pick, i, n]) => (view) => {
    const rec = at(pick(view), i);
    if (rec) Object.assign(rec, { n, tags: [`t${n}`] });
  }),
  fc.nat(2).map((keep) => (view) => {
    view.ledger.log = view.ledger.items.filter((_, i) => i % 3 === keep);
  }),
];

describe('tracked state', () => {
  it('replays to the state it tracked, whatever was changed and however', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(...ops, fc.constant('save' as const)), { maxLength: 60 }), (steps) => {
        // Prepare
        const state = startingState();
        const tracked = trackState(state);
        const journal: Changes[] = [];
        let ids = 0;
        const fresh = () => `new${ids++}`;
        const save = () => {
          const changes = tracked.takeChanges();
          if (changes !== undefined) journal.push(throughJson(changes));
        };

        // Act
        for (const step of steps) {
          if (step === 'save') save();
          else step(tracked.view, fresh);
        }
        save();

        // Assess
        expect(replayed(journal)).toEqual(JSON.parse(JSON.stringify(state)));
        // The state never holds a view of itself.
        expect(() => structuredClone(state)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('finds by key and selects as a scan of the collection would, after any change, records held twice included', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(...ops), { maxLength: 40 }), fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), (steps, probes) => {
        // Prepare
        const state = startingState();
        const { view } = trackState(state);
        let ids = 0;
        const fresh = () => `new${ids++}`;

        for (const step of steps) {
          // Act
          step(view, fresh);
          for (const pick of collections) {
            const records = pick(view);
            const ids = [...pick(state).map((rec) => rec.id), 'missing'];

            // Assess
            for (const probe of probes) {
              const id = ids[probe % ids.length]!;
              expect(byId.find(records, id)).toBe(records.find((rec) => rec.id === id));
              const all = records.filter((rec) => rec.id === id);
              expect(byId.all(records, id)).toHaveLength(all.length);
              byId.all(records, id).forEach((rec, i) => expect(rec).toBe(all[i]));
            }
            expect(positive.of(records)).toEqual(records.filter((rec) => rec.n > 0));
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('records a change deep inside a record that no code reports', () => {
    // Prepare
    const state = startingState();
    const tracked = trackState(state);
    tracked.takeChanges();

    // Act
    tracked.view.ledger.items[1]!.nested!.deep.w.push(7);
    const changes = throughJson(tracked.takeChanges()!);

    // Assess
    expect(changes).toEqual({
      'ledger.items': { upsert: [[1, { id: 'i1', n: 0, tags: [], nested: { v: 0, deep: { w: [7] } } }]] },
    });
    expect(replayed([changes]).ledger.items[1]!.nested!.deep.w).toEqual([7]);
  });

  it('writes only the records a change touched, not the collection', () => {
    // Prepare
    const state = startingState();
    const tracked = trackState(state);
    for (let i = 0; i < 100; i += 1) tracked.view.ledger.items.push(record(`x${i}`));
    tracked.takeChanges();

    // Act
    tracked.view.ledger.items[50]!.n = 1;
    tracked.view.ledger.log.push(record('entry'));
    const changes = tracked.takeChanges();

    // Assess
    expect(Object.keys(changes!)).toEqual(['ledger.items', 'ledger.log']);
    expect(changes!['ledger.items']!.upsert!.map(([seq]) => seq)).toEqual([50]);
    expect(changes!['ledger.log']!.upsert!.map(([seq]) => seq)).toEqual([0]);
  });

  it('has nothing to save when nothing changed, reads included', () => {
    // Prepare
    const tracked = trackState(startingState());
    tracked.takeChanges();

    // Act
    const read = tracked.view.ledger.items.map((rec) => rec.nested?.deep.w.length);
    const found = byId.find(tracked.view.other, 'o0');

    // Assess
    expect(read).toEqual([0, 0]);
    expect(found?.id).toBe('o0');
    expect(tracked.takeChanges()).toBeUndefined();
  });

  it('refuses to add to the state what is not one of its collections', () => {
    // Prepare
    const { view } = trackState(startingState());

    // Act
    const add = () => {
      (view.ledger as Record<string, unknown>)['extra'] = [];
    };

    // Assess
    expect(add).toThrow(TypeError);
    expect(add).toThrow(/ledger\.extra is not a collection/);
  });
});
