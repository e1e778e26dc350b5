import { describe, expect, it } from 'vitest';
import { Families } from '../../src/lib/exporter/metrics.js';
import { Problems } from '../../src/lib/exporter/problems.js';
import { formatFor, labelValue, renderExposition } from '../../src/output/prometheus.js';
import { parseListen } from '../../src/commands/exporter.js';

describe('the exposition formats', () => {
  const f = new Families();
  f.gauge('redis_ops_queue_waiting', 'Jobs ready to run.', { queue: 'a"b\\c\nd', system: 'homegrown', db: 0 }, 5);
  f.counter('redis_ops_commands_processed_total', 'Commands processed.', { node: 'h:1' }, 12);
  f.gauge('redis_ops_empty', 'Nothing here.', {}, null);

  it('text 0.0.4: escaped label values, no empty families, no timestamps', () => {
    expect(renderExposition(f.list())).toBe([
      '# HELP redis_ops_queue_waiting Jobs ready to run.',
      '# TYPE redis_ops_queue_waiting gauge',
      'redis_ops_queue_waiting{queue="a\\"b\\\\c\\nd",system="homegrown",db="0"} 5',
      '# HELP redis_ops_commands_processed_total Commands processed.',
      '# TYPE redis_ops_commands_processed_total counter',
      'redis_ops_commands_processed_total{node="h:1"} 12',
      '',
    ].join('\n'));
  });

  it('OpenMetrics: counter families named without _total, samples with it, # EOF at the end', () => {
    const text = renderExposition(f.list(), 'openmetrics');
    expect(text).toContain('# TYPE redis_ops_commands_processed counter\nredis_ops_commands_processed_total{node="h:1"} 12\n');
    expect(text.endsWith('# EOF\n')).toBe(true);
  });

  it('control bytes from data are written visibly, never raw', () => {
    expect(labelValue('\x1b[31mred\x07')).toBe('\\\\x1b[31mred\\\\x07');
    expect(labelValue('\x9b2J')).toBe('\\\\x9b2J');
  });

  it('OpenMetrics only when the Accept header names it', () => {
    expect(formatFor(undefined)).toBe('text');
    expect(formatFor('text/plain;version=0.0.4;q=0.3,*/*;q=0.2')).toBe('text');
    expect(formatFor('application/openmetrics-text;version=1.0.0,text/plain;q=0.5')).toBe('openmetrics');
  });

  it('a family is one type', () => {
    const g = new Families();
    g.gauge('x', 'x', {}, 1);
    expect(() => g.counter('x', 'x', {}, 1)).toThrow(/declared as gauge and counter/);
  });
});

describe('--listen', () => {
  it.each([
    ['127.0.0.1:9121', { host: '127.0.0.1', port: 9121 }],
    [':9121', { host: '0.0.0.0', port: 9121 }],
    ['[::1]:0', { host: '::1', port: 0 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
  ])('%s', (text, want) => expect(parseListen(text)).toEqual(want));

  it.each(['', ' ', '9121', 'host:', 'host:99999', '::1:9121', 'a:b'])('"%s" is refused', (text) => {
    expect(() => parseListen(text)).toThrow(/--listen/);
  });
});

describe('problems are logged once', () => {
  it('when they start and when they end, not at every scrape', () => {
    const lines: string[] = [];
    const p = new Problems((l) => lines.push(l));
    for (let i = 0; i < 5; i++) p.report('n connect', 'n: connect: refused');
    p.clear('n connect');
    p.clear('n connect');
    p.report('n connect', 'n: connect: refused');
    expect(lines).toEqual(['n: connect: refused', 'ok again: n connect', 'n: connect: refused']);
    expect(p.count).toBe(1);
  });
});
