import { runDemo, verdict } from './run-demo.ts';

/** `npm run demo`: prints the three strategies' table. */
const rows = await runDemo();
const header = ['strategy', 'crash point', 'captures at provider', 'status in database', 'verdict'];
const table = rows.map((r) => [r.strategy, r.crash, String(r.captures), r.status, verdict(r.captures)]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
for (const row of table) console.log(line(row));
console.log('\nStrategies 1 and 2 are teaching code (demo/naive-strategies.ts); only strategy 3 is the product.');
