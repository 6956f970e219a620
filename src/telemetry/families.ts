/**
 * Prometheus counters and histograms whose cells are found by label values
 * through nested maps, so that counting a request allocates nothing once its
 * label combination has been seen. prom-client's own metrics hash a label
 * object on every observation; these are read only at scrape time, through
 * the `get()` a prom-client Registry calls (./prometheus.ts formats them).
 */
import type { Metric } from "prom-client";

type Key = string | number;

export interface CounterCell {
  value: number;
}

export interface HistogramCell {
  /** Per bucket, not cumulative; the last counts what is above every bound. */
  counts: Float64Array;
  sum: number;
  count: number;
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** A metric family with up to four labels, cells created on first use. */
abstract class Family<Cell> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly aggregator = "sum";
  readonly #root = new Map<Key, unknown>();

  constructor(name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  protected abstract make(): Cell;

  /** The cell for these label values (as many as the family has labels). */
  cell(a: Key, b?: Key, c?: Key, d?: Key): Cell {
    const depth = this.labelNames.length;
    let map = this.#root;
    for (let i = 0; i < depth - 1; i++) {
      const k = (i === 0 ? a : i === 1 ? b : c)!;
      let next = map.get(k) as Map<Key, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        map.set(k, next);
      }
      map = next;
    }
    const last = (depth === 1 ? a : depth === 2 ? b : depth === 3 ? c : d)!;
    let cell = map.get(last) as Cell | undefined;
    if (cell === undefined) {
      cell = this.make();
      map.set(last, cell);
    }
    return cell;
  }

  /** Every cell with its labels. */
  protected *cells(): Generator<[Record<string, string | number>, Cell]> {
    const names = this.labelNames;
    function* walk(map: Map<Key, unknown>, depth: number, labels: Record<string, string | number>): Generator<[Record<string, string | number>, Cell]> {
      for (const [k, v] of map) {
        const here = { ...labels, [names[depth]]: k };
        if (depth === names.length - 1) yield [here, v as Cell];
        else yield* walk(v as Map<Key, unknown>, depth + 1, here);
      }
    }
    yield* walk(this.#root, 0, {});
  }

  /** For a prom-client Registry (registerMetric). */
  asMetric(): Metric {
    return this as unknown as Metric;
  }

  clear(): void {
    this.#root.clear();
  }
}

export class CounterFamily extends Family<CounterCell> {
  readonly type = "counter";

  protected make(): CounterCell {
    return { value: 0 };
  }

  async get() {
    const values: MetricValue[] = [];
    for (const [labels, cell] of this.cells()) values.push({ labels, value: cell.value });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export class HistogramFamily extends Family<HistogramCell> {
  readonly type = "histogram";
  /** Upper bounds, ascending, in the metric's unit. */
  readonly bounds: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]) {
    super(name, help, labelNames);
    this.bounds = bounds;
  }

  protected make(): HistogramCell {
    return { counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
  }

  /** Records `v` in `cell` (a cell of this family). */
  observe(cell: HistogramCell, v: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && v > bounds[i]) i++;
    cell.counts[i]++;
    cell.sum += v;
    cell.count++;
  }

  async get() {
    const values: MetricValue[] = [];
    for (const [labels, cell] of this.cells()) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += cell.counts[i];
        values.push({ labels: { ...labels, le: this.bounds[i] }, value: acc, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { ...labels, le: "+Inf" }, value: cell.count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: cell.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: cell.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
