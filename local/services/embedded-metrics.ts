/**
 * What CloudWatch makes of the functions' embedded-metric-format log lines, kept in memory: each
 * metric's sum and sample count per set of dimensions. A line that is not EMF is the function's
 * own log and is left to it.
 */

/** One metric under one set of dimension values, summed over every line that carried it. */
export interface MetricTotal {
  readonly name: string;
  /** `{route: "CreatePayment"}`; the `service` dimension every metric carries is left out. */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly unit: string;
  readonly sum: number;
  readonly samples: number;
}

interface EmfDirective {
  readonly Dimensions?: readonly (readonly string[])[];
  readonly Metrics?: readonly { readonly Name: string; readonly Unit?: string }[];
}

/** Every metric carries it (Powertools' service name); it says nothing the page needs. */
const SERVICE_DIMENSION = 'service';

export class EmbeddedMetrics {
  private readonly totals = new Map<string, { name: string; dimensions: Record<string, string>; unit: string; sum: number; samples: number }>();

  /** Adds up `line` if it is an EMF record; whether it was one. */
  take(line: string): boolean {
    if (!line.startsWith('{') || !line.includes('"_aws"')) return false;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return false;
    }
    const directives = (record['_aws'] as { CloudWatchMetrics?: readonly EmfDirective[] } | undefined)?.CloudWatchMetrics;
    if (!Array.isArray(directives)) return false;
    for (const directive of directives as readonly EmfDirective[]) {
      const dimensionNames = [...new Set((directive.Dimensions ?? []).flat())].filter((name) => name !== SERVICE_DIMENSION).sort();
      const dimensions = Object.fromEntries(dimensionNames.map((name) => [name, String(record[name])]));
      for (const metric of directive.Metrics ?? []) this.add(metric.Name, metric.Unit ?? 'None', dimensions, record[metric.Name]);
    }
    return true;
  }

  /** Every metric seen so far, by name, then by dimensions. */
  snapshot(): MetricTotal[] {
    return [...this.totals.values()]
      .map((total) => ({ ...total, dimensions: { ...total.dimensions } }))
      .sort((a, b) => a.name.localeCompare(b.name) || JSON.stringify(a.dimensions).localeCompare(JSON.stringify(b.dimensions)));
  }

  private add(name: string, unit: string, dimensions: Record<string, string>, value: unknown): void {
    // EMF gives one value, or an array of values when a metric was added more than once.
    const values = (Array.isArray(value) ? value : [value]).filter((v): v is number => typeof v === 'number');
    if (values.length === 0) return;
    const key = JSON.stringify([name, dimensions]);
    const total = this.totals.get(key) ?? { name, dimensions, unit, sum: 0, samples: 0 };
    total.sum += values.reduce((a, b) => a + b, 0);
    total.samples += values.length;
    this.totals.set(key, total);
  }
}
