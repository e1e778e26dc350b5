import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError, UsageError } from '../../errors.js';
import { isTrailer, LineHash, parseHeader, parseJson, validateRecord, type Header, type KeyRecord } from './format.js';

export interface ReadItem {
  record: KeyRecord;
  lineNo: number;
}

/**
 * Reads a backup from a file or stdin ('-') in constant memory, gzip or not
 * (told by its first bytes), checking every line as it goes: the header,
 * each record's shape, and at the end the record count and the checksum.
 * Yields the header first (via onHeader), then the records; throws an
 * InputError naming the line at the first problem.
 */
export async function* readBackup(source: string, onHeader: (h: Header) => void, stdin: NodeJS.ReadableStream = process.stdin): AsyncGenerator<ReadItem> {
  const raw = source === '-' ? stdin : createReadStream(source);
  const stream = await maybeGunzip(raw, source);
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  const where = (n: number) => `${source === '-' ? 'stdin' : source} line ${n}`;
  const hash = new LineHash();
  let lineNo = 0;
  let records = 0;
  let trailerSeen = false;
  try {
    for await (const line of rl) {
      lineNo++;
      if (trailerSeen) throw new InputError(`${where(lineNo)}: data after the trailer`);
      if (lineNo === 1) {
        onHeader(parseHeader(line, where(lineNo)));
        hash.add(line);
        continue;
      }
      const obj = parseJson(line, where(lineNo));
      if (isTrailer(obj)) {
        if (obj.records !== records) throw new InputError(`${where(lineNo)}: the trailer counts ${obj.records} records, the file has ${records} (edited or truncated)`);
        if (obj.sha256 !== hash.digest()) throw new InputError(`${where(lineNo)}: checksum mismatch: the file was changed after it was written`);
        trailerSeen = true;
        continue;
      }
      const record = validateRecord(obj, where(lineNo));
      hash.add(line);
      records++;
      yield { record, lineNo };
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`cannot read ${source}: no such file`);
    if ((e as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' || (e as NodeJS.ErrnoException).code === 'Z_DATA_ERROR') {
      throw new InputError(`${where(lineNo + 1)}: the gzip data is truncated or corrupt`);
    }
    throw e;
  }
  if (lineNo === 0) throw new InputError(`${source === '-' ? 'stdin' : source}: empty: not a backup`);
  if (!trailerSeen) throw new InputError(`${where(lineNo)}: no trailer: the backup is truncated`);
}

async function maybeGunzip(raw: NodeJS.ReadableStream, source: string): Promise<NodeJS.ReadableStream> {
  const it = (raw as Readable)[Symbol.asyncIterator]();
  let first: IteratorResult<Buffer>;
  try {
    first = await it.next();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`cannot read ${source}: no such file`);
    if ((e as NodeJS.ErrnoException).code === 'EISDIR') throw new UsageError(`cannot read ${source}: it is a directory`);
    throw e;
  }
  const head = first.done ? Buffer.alloc(0) : Buffer.from(first.value);
  async function* rest() {
    if (head.length) yield head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value as Buffer;
    }
  }
  const replay = Readable.from(rest());
  const gz = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  return gz ? replay.pipe(createGunzip()) : replay;
}

export interface VerifyResult {
  header: Header;
  records: number;
  keys: number;
  dbs: Record<string, number>;
  types: Record<string, number>;
}

/** Reads a whole backup, checking everything; nothing is written anywhere. */
export async function verifyBackup(source: string, onRecord?: (r: ReadItem) => Promise<void> | void): Promise<VerifyResult> {
  let header: Header | null = null;
  const result = { records: 0, keys: 0, dbs: {} as Record<string, number>, types: {} as Record<string, number> };
  for await (const item of readBackup(source, (h) => { header = h; })) {
    result.records++;
    if (!item.record.part) {
      result.keys++;
      result.dbs[item.record.db] = (result.dbs[item.record.db] ?? 0) + 1;
      result.types[item.record.type] = (result.types[item.record.type] ?? 0) + 1;
    }
    await onRecord?.(item);
  }
  return { header: header!, ...result };
}
