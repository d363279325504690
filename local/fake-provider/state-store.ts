import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FakeState, Ledger } from './ledger.ts';
import { type Changes, Replay, type TrackedState, trackState } from './tracked-state.ts';

/**
 * The whole state as of a generation. A data dir written before the journal holds this file
 * without `generation`: it opens as generation 0.
 */
const SNAPSHOT_FILE = 'fake-provider-state.json';
/**
 * What changed since the snapshot: a first line `{"snapshot": <generation>}` naming the
 * snapshot it follows, then one line of {@link Changes} per save.
 */
const JOURNAL_FILE = 'fake-provider-journal.jsonl';

interface Snapshot {
  readonly generation?: number;
  readonly ledger?: Partial<Ledger>;
  readonly idempotency?: FakeState['idempotency'];
}

interface JournalHeader {
  readonly snapshot: number;
}

/**
 * Holds the state in memory and, given a directory, appends what each save changed to a
 * journal before the response leaves: a crash after the write and before the answer is exactly
 * the "the charge happened, the caller never heard" case the fake exists to produce. A save
 * costs what changed since the last one (see tracked-state.ts), not what the state holds.
 * Opening replays the journal over the snapshot and writes both afresh, so the journal only
 * grows while the process runs.
 *
 * Durable means written to the file, which survives the process being killed; nothing is
 * synced to the disk, as a machine that loses power loses the local stack's other state too.
 */
export class StateStore {
  /** The state to read and change; every change is saved by the next {@link save}. */
  readonly state: FakeState;
  private readonly tracked: TrackedState<FakeState>;
  /** Lines of saves not yet written, oldest first. */
  private unwritten = '';
  private waiting: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  private writing = false;
  private closed = false;

  private constructor(
    private readonly raw: FakeState,
    private readonly journal: Journal | undefined,
  ) {
    this.tracked = trackState(raw);
    this.state = this.tracked.view;
  }

  static async open(dataDir: string | undefined): Promise<StateStore> {
    if (dataDir === undefined) return new StateStore(emptyState(), undefined);
    await mkdir(dataDir, { recursive: true });
    const { state, generation } = await load(dataDir);
    return new StateStore(state, await Journal.start(dataDir, state, generation + 1));
  }

  /**
   * Writes what changed since the last save; resolves once that, and every save before it,
   * is in the file. Saves are written in the order they were called, several at once when
   * they come while a write is under way, so an older state never wins.
   */
  save(): Promise<void> {
    const changes = this.tracked.takeChanges();
    const journal = this.journal;
    if (journal === undefined) return Promise.resolve();
    if (changes !== undefined) {
      if (this.closed) return Promise.reject(new Error('the fake provider state store is closed'));
      this.unwritten += `${JSON.stringify(changes)}\n`;
    } else if (!this.writing && this.unwritten === '') {
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.writing) void this.write(journal);
    });
  }

  ledger(): Ledger {
    return structuredClone(this.raw.ledger);
  }

  /** Writes what is left and closes the journal; a later save with changes fails. */
  async close(): Promise<void> {
    if (this.closed) return;
    const last = this.save();
    this.closed = true;
    await last.catch(() => undefined);
    await this.journal?.close();
  }

  private async write(journal: Journal): Promise<void> {
    this.writing = true;
    while (this.waiting.length > 0) {
      const text = this.unwritten;
      const waiting = this.waiting;
      this.unwritten = '';
      this.waiting = [];
      try {
        if (text !== '') await journal.append(text);
        for (const waiter of waiting) waiter.resolve();
      } catch (error) {
        // Kept for the next save, ahead of what came since: the journal's order is the saves' order.
        this.unwritten = text + this.unwritten;
        for (const waiter of waiting) waiter.reject(error);
      }
    }
    this.writing = false;
  }
}

function emptyState(): FakeState {
  return { ledger: { paymentIntents: [], refunds: [], payouts: [], calls: [] }, idempotency: [] };
}

/** The snapshot with the journal that follows it replayed over it. */
async function load(dataDir: string): Promise<{ state: FakeState; generation: number }> {
  const snapshot = await readOptional(join(dataDir, SNAPSHOT_FILE));
  const parsed = snapshot === undefined ? {} : (JSON.parse(snapshot) as Snapshot);
  const generation = parsed.generation ?? 0;
  const state: FakeState = {
    ledger: {
      paymentIntents: parsed.ledger?.paymentIntents ?? [],
      refunds: parsed.ledger?.refunds ?? [],
      // A ledger written before payouts has none.
      payouts: parsed.ledger?.payouts ?? [],
      // A ledger written before calls were recorded has none.
      calls: parsed.ledger?.calls ?? [],
    },
    idempotency: parsed.idempotency ?? [],
  };
  const file = join(dataDir, JOURNAL_FILE);
  const replay = new Replay(state);
  for (const changes of journalLines(file, (await readOptional(file)) ?? '', generation)) replay.apply(changes);
  replay.finish();
  return { state, generation };
}

/**
 * The saves of a journal that follows the snapshot of `generation`. A last line without its
 * newline was being written when the process died: its save never completed, so its answer
 * never left, and it is left out. A journal that follows an older snapshot was already folded
 * into this one (the process died between writing the snapshot and starting the journal).
 */
function journalLines(file: string, text: string, generation: number): Changes[] {
  const lines = text.split('\n');
  // After the last newline: '' when the journal ends cleanly, the torn line otherwise.
  lines.pop();
  const [header, ...saves] = lines;
  if (header === undefined || (parseLine(file, header, 1) as JournalHeader).snapshot !== generation) return [];
  return saves.map((line, i) => parseLine(file, line, i + 2) as Changes);
}

function parseLine(file: string, line: string, number: number): unknown {
  try {
    return JSON.parse(line);
  } catch (error) {
    throw new Error(`${file} line ${number} is not JSON, and only the last line can be torn: the journal is damaged`, { cause: error });
  }
}

/** The journal file, open for appending. */
class Journal {
  private broken: unknown;

  private constructor(
    private readonly handle: FileHandle,
    /** Bytes known to hold whole lines. */
    private size: number,
  ) {}

  /**
   * Writes `state` as the snapshot of `generation`, then an empty journal that follows it.
   * Each file is replaced whole (written aside, then renamed), and in that order: a crash in
   * between leaves the new snapshot with the old journal, which names the old generation and
   * is then ignored.
   */
  static async start(dataDir: string, state: FakeState, generation: number): Promise<Journal> {
    await replaceFile(join(dataDir, SNAPSHOT_FILE), JSON.stringify({ generation, ...state }, null, 2));
    const header = `${JSON.stringify({ snapshot: generation } satisfies JournalHeader)}\n`;
    const file = join(dataDir, JOURNAL_FILE);
    await replaceFile(file, header);
    return new Journal(await open(file, 'a'), Buffer.byteLength(header));
  }

  async append(text: string): Promise<void> {
    if (this.broken !== undefined) throw this.broken;
    const bytes = Buffer.from(text);
    try {
      await this.handle.appendFile(bytes);
      this.size += bytes.length;
    } catch (error) {
      // A part written would be a torn line before the next ones: take it back, or write no more.
      await this.handle.truncate(this.size).catch(() => {
        this.broken = error;
      });
      throw error;
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** rename is atomic on POSIX: a reader sees the old file or the new, never half of one. */
async function replaceFile(file: string, text: string): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, text);
  await rename(temp, file);
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
