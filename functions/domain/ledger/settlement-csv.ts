import type { SettlementStatement } from './settlement.ts';

const HEADER = ['row', 'id', 'type', 'source', 'created', 'available_on', 'status', 'currency', 'amount', 'fee', 'net'] as const;

/**
 * A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180), and prefixed
 * with a quote when it starts like a formula, so a spreadsheet shows it instead of running it
 * (sources and ids are the provider's and ours, but a refund_no passes through people).
 */
function field(value: string | number): string {
  const text = String(value);
  const safe = /^[=+\-@\t\r]/.test(text) && typeof value === 'string' ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const line = (values: readonly (string | number)[]) => values.map(field).join(',');

/**
 * A statement as a CSV file: a header row, one `transaction` row per balance transaction
 * (oldest first; amounts in minor units), then one `total` row per type and the day's `total`
 * of all, then its opening and closing balances. Lines end with CRLF, as RFC 4180 has them.
 */
export function settlementCsv(statement: SettlementStatement): string {
  const { currency } = statement;
  const rows = [
    line(HEADER),
    ...statement.transactions.map((t) =>
      line(['transaction', t.id, t.type, t.source, t.createdAt, t.availableOn, t.status, currency, t.amount, t.fee, t.net]),
    ),
    ...statement.summary.map((s) => line(['total', `${s.count} transactions`, s.type, '', '', '', '', currency, s.gross, s.fee, s.net])),
    line(['total', `${statement.totals.count} transactions`, 'all', '', '', '', '', currency, statement.totals.gross, statement.totals.fee, statement.totals.net]),
    ...(['opening', 'closing'] as const).flatMap((which) =>
      Object.entries(statement[which]).map(([account, amount]) => line([`${which}_balance`, '', account, '', which === 'opening' ? statement.periodStart : statement.periodEnd, '', '', currency, amount, '', ''])),
    ),
  ];
  return `${rows.join('\r\n')}\r\n`;
}

/** The file's name: the merchant's date and currency, which need no escaping in a header. */
export function settlementCsvFilename(statement: SettlementStatement): string {
  return `settlement-${statement.date}-${statement.currency.toLowerCase()}.csv`;
}
