/**
 * A merchant's settlement day: a calendar date in its time zone, and the instants (UTC) where
 * that date begins and the next one begins. Days are cut where the local date changes, so a
 * day with a daylight-saving change lasts 23 or 25 hours, and a day whose midnight the clocks
 * skip begins at the first instant that exists on it. Consecutive days meet exactly: every
 * instant belongs to one day.
 */

/** `YYYY-MM-DD`. */
export type SettlementDate = string;

export interface SettlementDay {
  readonly date: SettlementDate;
  readonly timeZone: string;
  /** The first instant of the day, inclusive (ISO, UTC). */
  readonly start: string;
  /** The first instant of the next day, exclusive (ISO, UTC). */
  readonly end: string;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;
/** No zone is more than 14 hours from UTC: a local date begins within this of its UTC midnight. */
const FURTHEST_OFFSET_MS = 15 * 3_600_000;

/** Whether `text` is a real calendar date written `YYYY-MM-DD` (no 2026-02-30). */
export function isSettlementDate(text: string): text is SettlementDate {
  const match = DATE.exec(text);
  if (match === null) return false;
  const [, year, month, day] = match.map(Number) as [number, number, number, number];
  const utc = new Date(Date.UTC(year, month - 1, day));
  return utc.getUTCFullYear() === year && utc.getUTCMonth() === month - 1 && utc.getUTCDate() === day;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The local date of an instant in a zone, `YYYY-MM-DD`. */
export function localDateOf(instant: Date, timeZone: string): SettlementDate {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, part.value]));
  return `${parts['year']}-${parts['month']}-${parts['day']}`;
}

/** The date after `date`. */
export function nextDate(date: SettlementDate): SettlementDate {
  return new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
}

/**
 * The first instant whose local date is `date` or later: a binary search over the 30 hours
 * around its UTC midnight, to the millisecond, so it needs no table of offsets.
 */
function startOf(date: SettlementDate, timeZone: string): number {
  const utcMidnight = Date.parse(`${date}T00:00:00Z`);
  let low = utcMidnight - FURTHEST_OFFSET_MS;
  let high = utcMidnight + FURTHEST_OFFSET_MS;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (localDateOf(new Date(middle), timeZone) >= date) high = middle;
    else low = middle;
  }
  return high;
}

export function settlementDay(date: SettlementDate, timeZone: string): SettlementDay {
  return {
    date,
    timeZone,
    start: new Date(startOf(date, timeZone)).toISOString(),
    end: new Date(startOf(nextDate(date), timeZone)).toISOString(),
  };
}

/**
 * The days to settle, oldest first, at most `limit`: from the day after `settledThrough` (or
 * `firstDate` when nothing was settled) through the last day that ended at least `graceMs`
 * before `now`. The grace leaves time for the day's last postings, which the table's stream
 * delivers a moment after the payment or refund changed.
 */
export function daysToSettle(input: {
  readonly timeZone: string;
  readonly firstDate: SettlementDate;
  readonly settledThrough?: SettlementDate;
  readonly now: Date;
  readonly graceMs: number;
  readonly limit: number;
}): SettlementDay[] {
  const days: SettlementDay[] = [];
  let date = input.settledThrough === undefined ? input.firstDate : nextDate(input.settledThrough);
  while (days.length < input.limit) {
    const day = settlementDay(date, input.timeZone);
    if (Date.parse(day.end) + input.graceMs > input.now.getTime()) break;
    days.push(day);
    date = nextDate(date);
  }
  return days;
}
