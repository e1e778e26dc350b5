/**
 * Reads and rewrites one top-level field of a JSON object in its raw text,
 * leaving every other byte as it was: jobs are moved as their producers wrote
 * them (re-encoding would reorder keys and round big numbers: cjson, for one,
 * does both). Only the top level is looked at, so a field of the same name inside
 * `args` is never mistaken for the job's own.
 */
export interface FieldSpan {
  /** Offsets of the value's text (start inclusive, end exclusive). */
  start: number;
  end: number;
  /** The value, parsed. */
  value: unknown;
}

export function topLevelField(text: string, name: string): FieldSpan | null {
  let i = skipWs(text, 0);
  if (text[i] !== '{') return null;
  i++;
  for (;;) {
    i = skipWs(text, i);
    if (text[i] === '}') return null;
    if (text[i] !== '"') return null;
    const keyEnd = stringEnd(text, i);
    if (keyEnd < 0) return null;
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWs(text, keyEnd);
    if (text[i] !== ':') return null;
    const start = skipWs(text, i + 1);
    const end = valueEnd(text, start);
    if (end < 0) return null;
    if (key === name) {
      try {
        return { start, end, value: JSON.parse(text.slice(start, end)) };
      } catch {
        return null;
      }
    }
    i = skipWs(text, end);
    if (text[i] === ',') i++;
    else return null;
  }
}

/** The top-level fields named, parsed; a text that is not a JSON object gives null. */
export function readFields(text: string, names: string[]): Record<string, unknown> | null {
  if (!isJsonObject(text)) return null;
  const out: Record<string, unknown> = {};
  for (const n of names) {
    const f = topLevelField(text, n);
    if (f) out[n] = f.value;
  }
  return out;
}

const ID_FIELDS = ['request_id', 'jid', 'id', 'job_id', 'task_id'];

/** A job's id: the first of the usual id fields at its top level. */
export function jobId(text: string): string | null {
  const f = readFields(text, ID_FIELDS);
  if (!f) return null;
  for (const n of ID_FIELDS) if (typeof f[n] === 'string' || typeof f[n] === 'number') return String(f[n]);
  return null;
}

export function isJsonObject(text: string): boolean {
  const t = text.trimStart();
  if (!t.startsWith('{')) return false;
  try {
    const v = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** `text` with one top-level field set to `json` (added at the end when absent). */
export function withField(text: string, name: string, json: string): string {
  const f = topLevelField(text, name);
  if (f) return text.slice(0, f.start) + json + text.slice(f.end);
  const close = text.lastIndexOf('}');
  const empty = /^\s*\{\s*$/.test(text.slice(0, close));
  return `${text.slice(0, close)}${empty ? '' : ','}${JSON.stringify(name)}:${json}${text.slice(close)}`;
}

function skipWs(t: string, i: number): number {
  while (i < t.length && (t[i] === ' ' || t[i] === '\n' || t[i] === '\r' || t[i] === '\t')) i++;
  return i;
}

function stringEnd(t: string, i: number): number {
  for (let j = i + 1; j < t.length; j++) {
    if (t[j] === '\\') j++;
    else if (t[j] === '"') return j + 1;
  }
  return -1;
}

function valueEnd(t: string, i: number): number {
  const c = t[i];
  if (c === '"') return stringEnd(t, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < t.length; j++) {
      const d = t[j];
      if (d === '"') {
        j = stringEnd(t, j) - 1;
        if (j < 0) return -1;
      } else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < t.length && !',}] \n\r\t'.includes(t[j]!)) j++;
  return j > i ? j : -1;
}
