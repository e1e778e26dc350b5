/**
 * Metrics as data: families of samples, built by collectors in src/lib and
 * written out by src/output/prometheus.ts in the text format a scraper asks
 * for. Names follow Prometheus conventions (base units in the name:
 * `_bytes`, `_seconds`; counters end in `_total`).
 */
export type MetricType = 'gauge' | 'counter';
export type Labels = Record<string, string | number>;

export interface MetricSample {
  labels: Labels;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: MetricSample[];
}

/** Families in the order they were first declared; a name is declared once with one help and type. */
export class Families {
  private readonly byName = new Map<string, MetricFamily>();

  family(name: string, type: MetricType, help: string): MetricFamily {
    let f = this.byName.get(name);
    if (!f) {
      f = { name, type, help, samples: [] };
      this.byName.set(name, f);
    } else if (f.type !== type) throw new Error(`metric ${name} declared as ${f.type} and ${type}`);
    return f;
  }

  gauge(name: string, help: string, labels: Labels, value: number | null | undefined): void {
    const f = this.family(name, 'gauge', help);
    if (typeof value === 'number' && !Number.isNaN(value)) f.samples.push({ labels, value });
  }

  counter(name: string, help: string, labels: Labels, value: number | null | undefined): void {
    const f = this.family(name, 'counter', help);
    if (typeof value === 'number' && !Number.isNaN(value)) f.samples.push({ labels, value });
  }

  addAll(families: MetricFamily[]): void {
    for (const f of families) this.family(f.name, f.type, f.help).samples.push(...f.samples);
  }

  list(): MetricFamily[] {
    return [...this.byName.values()];
  }
}
