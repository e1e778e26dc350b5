import { createHash } from 'node:crypto';
import type { Target } from '../connect/target.js';
import type { Header, KeyRecord, StreamValue } from './format.js';
import { readBackup } from './reader.js';
import { writeBackup, type RecordSink } from './writer.js';

/**
 * A digest of each key's content, from records (the file's, or the live
 * server's read through the backup writer, so both sides are read the same
 * way). Ordered types hash their elements in order; sets, hashes and zsets
 * sum per-element hashes, so that SCAN order does not matter. Expiry and
 * stream delivery times are not compared.
 */
export class DigestSink implements RecordSink {
  readonly digests = new Map<string, { type: string; digest: string }>();
  private current: { id: string; type: string; ordered: ReturnType<typeof createHash>; sum: bigint } | null = null;
  records = 0;
  byteCount = 0;

  async header(): Promise<void> {}

  async lines(chunk: Buffer): Promise<void> {
    for (let at = 0; at < chunk.length;) {
      const end = chunk.indexOf(0x0a, at);
      this.add(JSON.parse(chunk.toString('utf8', at, end)) as KeyRecord);
      at = end + 1;
    }
  }

  add(r: KeyRecord): void {
    this.records++;
    const id = `${r.db}:${r.key !== undefined ? `k${r.key}` : `b${r.key64}`}`;
    if (!r.part) this.current = { id, type: r.type, ordered: createHash('sha256'), sum: 0n };
    const c = this.current!;
    switch (r.type) {
      case 'string':
      case 'list':
        c.ordered.update(JSON.stringify(r.value));
        break;
      case 'set':
      case 'hash':
      case 'zset':
        for (const e of r.value as unknown[]) c.sum = (c.sum + elementHash(JSON.stringify(e))) & 0xffffffffffffffffn;
        break;
      case 'stream': {
        const s = r.value as StreamValue;
        c.ordered.update(JSON.stringify(s.entries));
        if (!r.more) {
          c.ordered.update(JSON.stringify([s.lastId, s.entriesAdded, s.maxDeletedId,
            s.groups.map((g) => [g.name, g.lastDeliveredId, g.entriesRead, [...g.consumers].map((x) => JSON.stringify(x)).sort(), g.pending.map((p) => [p.id, p.consumer, p.deliveryCount])])]));
        }
        break;
      }
    }
    if (!r.more) {
      this.digests.set(c.id, { type: c.type, digest: `${c.ordered.digest('hex')}:${c.sum.toString(16)}` });
      this.current = null;
    }
  }
}

function elementHash(s: string): bigint {
  return createHash('sha256').update(s).digest().readBigUInt64BE(0);
}

export interface DiffResult {
  file: string;
  keysInFile: number;
  keysLive: number;
  missing: KeyRef[];
  extra: KeyRef[];
  different: (KeyRef & { reason: 'type' | 'value' })[];
  same: number;
}

export interface KeyRef {
  db: number;
  key?: string;
  key64?: string;
}

function refOf(id: string): KeyRef {
  const i = id.indexOf(':');
  const db = Number(id.slice(0, i));
  const rest = id.slice(i + 1);
  return rest[0] === 'k' ? { db, key: rest.slice(1) } : { db, key64: rest.slice(1) };
}

export async function diffBackup(target: Target, file: string): Promise<DiffResult> {
  const fromFile = new DigestSink();
  let header: Header | null = null;
  for await (const batch of readBackup(file, (h) => { header = h; })) for (const { record } of batch) fromFile.add(record);
  const h = header! as Header;
  const live = new DigestSink();
  await writeBackup(target, h.dbs, { match: h.filters.match, types: h.filters.type, count: 500 }, live);
  const result: DiffResult = { file, keysInFile: fromFile.digests.size, keysLive: live.digests.size, missing: [], extra: [], different: [], same: 0 };
  for (const [id, d] of fromFile.digests) {
    const l = live.digests.get(id);
    if (!l) result.missing.push(refOf(id));
    else if (l.type !== d.type) result.different.push({ ...refOf(id), reason: 'type' });
    else if (l.digest !== d.digest) result.different.push({ ...refOf(id), reason: 'value' });
    else result.same++;
  }
  for (const id of live.digests.keys()) if (!fromFile.digests.has(id)) result.extra.push(refOf(id));
  return result;
}
