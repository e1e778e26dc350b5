import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError, UsageError } from '../../errors.js';
import { isTrailer, keyOf, parseHeader, parseJson, recordHead, validateRecord, type Header, type KeyRecord, type RecordHead, type StreamValue } from './format.js';
import { RecordSequence } from './sequence.js';
import { DumpBatch } from './rdbPayload.js';

export interface ReadItem {
  record: KeyRecord;
  lineNo: number;
}

/** A record line left unparsed (readBackupLines): its bytes, without the newline, and its head. */
export interface RawLine {
  raw: Buffer;
  lineNo: number;
  head: RecordHead;
}

/** How every record line that redis-ops writes begins. */
const RECORD_START = Buffer.from('{"key":"');

/**
 * Reads a backup from a file or stdin ('-') in constant memory, gzip or not
 * (told by its first bytes), checking every line as it goes: the header,
 * each record's shape, and at the end the record count and the checksum.
 * Calls onHeader first, then yields the records in batches (one per chunk
 * read: a yield per record would cost more than reading it); throws an
 * InputError naming the line at the first problem.
 *
 * Lines are split on the raw bytes and the checksum is taken over those
 * bytes, so a line is decoded once and never re-encoded: the file's own
 * bytes are what the writer hashed.
 */
export function readBackup(source: string, onHeader: (h: Header) => void, stdin: NodeJS.ReadableStream = process.stdin): AsyncGenerator<ReadItem[]> {
  return read(source, onHeader, stdin, false) as AsyncGenerator<ReadItem[]>;
}

/**
 * The same reading and checking of the file as a whole (lines, count,
 * checksum), but record lines in the form redis-ops writes are yielded
 * unparsed: for the apply pass over a file that has just been verified,
 * which turns them into writes without building objects.
 */
export function readBackupLines(source: string, onHeader: (h: Header) => void, opts: { verified?: boolean } = {}): AsyncGenerator<(ReadItem | RawLine)[]> {
  return read(source, onHeader, process.stdin, true, !opts.verified);
}

async function* read(source: string, onHeader: (h: Header) => void, stdin: NodeJS.ReadableStream, raw: boolean, duplicates = true): AsyncGenerator<(ReadItem | RawLine)[]> {
  const name = source === '-' ? 'stdin' : source;
  const where = (n: number) => `${name} line ${n}`;
  const hash = createHash('sha256');
  let lineNo = 0;
  let records = 0;
  let trailerSeen = false;

  /**
   * Checks the complete lines of `region` (it ends with a newline, or is the
   * file's unterminated last line); fills `items` with the good records up to
   * the first problem, which it throws.
   */
  const sequence = new RecordSequence({ duplicates });
  const lines = (region: Buffer, items: (ReadItem | RawLine)[]): void => {
    // Text that is not UTF-8 would be decoded one way by JSON.parse (U+FFFD)
    // and copied another by the byte path: refused, so both read alike.
    const utf8 = isUtf8(region);
    // Where the next \u escape in the region is, looked up once per escape, not per line.
    let escape = -1;
    let at = 0;
    while (at < region.length) {
      let end = region.indexOf(10, at);
      if (end < 0) end = region.length;
      const start = at;
      at = end + 1;
      lineNo++;
      if (trailerSeen) throw new InputError(`${where(lineNo)}: data after the trailer`);
      if (!utf8 && !isUtf8(region.subarray(start, end))) throw new InputError(`${where(lineNo)}: not valid UTF-8 (a backup is UTF-8 text; bytes that are not go in {"b64"})`);
      if (escape !== -2 && escape < start) {
        const next = region.indexOf(UNICODE_ESCAPE, start);
        escape = next < 0 ? -2 : next; // -2: none left in this region
      }
      if (escape >= 0 && escape < end && hasLoneSurrogate(region.toString('utf8', start, end))) throw new InputError(`${where(lineNo)}: a lone surrogate escape (\\udXXX): not a character, so not restorable exactly`);
      if (raw && lineNo > 1 && region[start + 1] === 0x22 && region.subarray(start, start + RECORD_START.length).equals(RECORD_START) && !isPartLine(region, end)) {
        const line = region.subarray(start, end);
        const head = recordHead(line);
        // Streams are parsed: their entry ids are checked across records.
        if (head && head.type !== 'stream') {
          sequence.record(where(lineNo), lineNo, head);
          items.push({ raw: line, lineNo, head });
          records++;
          continue;
        }
      }
      const line = region.toString('utf8', start, end);
      if (lineNo === 1) {
        onHeader(parseHeader(line, where(lineNo)));
        continue;
      }
      const obj = parseJson(line, where(lineNo));
      if (isTrailer(obj)) {
        if (obj.records !== records) throw new InputError(`${where(lineNo)}: the trailer counts ${obj.records} records, the file has ${records} (edited or truncated)`);
        // The checksum covers every byte before the trailer line.
        hash.update(region.subarray(0, start));
        if (obj.sha256 !== hash.digest('hex')) throw new InputError(`${where(lineNo)}: checksum mismatch: the file was changed after it was written`);
        sequence.end(where(lineNo));
        trailerSeen = true;
        continue;
      }
      const record = validateRecord(obj, where(lineNo));
      sequence.record(where(lineNo), lineNo, { ...record, key: keyOf(record) }, record.type === 'stream' ? (record.value as StreamValue) : undefined);
      items.push({ record, lineNo });
      records++;
    }
    if (!trailerSeen) hash.update(region);
  };
  /** The records before a bad line are still yielded (stdin applies them as they come), then the error. */
  function* checked(region: Buffer): Generator<(ReadItem | RawLine)[]> {
    const items: (ReadItem | RawLine)[] = [];
    try {
      lines(region, items);
    } finally {
      if (items.length) yield items;
    }
  }

  try {
    const raw = source === '-' ? stdin : createReadStream(source, { highWaterMark: 1 << 20 });
    const stream = await maybeGunzip(raw, source);
    let rest: Buffer | null = null;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let from = 0;
      if (rest) {
        // Only the line that spans two chunks is copied, not the whole chunk.
        const first = chunk.indexOf(10);
        if (first < 0) {
          rest = Buffer.concat([rest, chunk]);
          continue;
        }
        yield* checked(Buffer.concat([rest, chunk.subarray(0, first + 1)]));
        rest = null;
        from = first + 1;
      }
      const last = chunk.lastIndexOf(10);
      if (last < from) {
        rest = chunk.subarray(from);
        continue;
      }
      if (last + 1 < chunk.length) rest = chunk.subarray(last + 1);
      yield* checked(chunk.subarray(from, last + 1));
    }
    if (rest) yield* checked(rest);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`cannot read ${source}: no such file`);
    if (code === 'EISDIR') throw new UsageError(`cannot read ${source}: it is a directory`);
    if (code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR') throw new InputError(`${where(lineNo + 1)}: the gzip data is truncated or corrupt`);
    throw e;
  }
  if (lineNo === 0) throw new InputError(`${name}: empty: not a backup`);
  if (!trailerSeen) throw new InputError(`${where(lineNo)}: no trailer: the backup is truncated`);
}

/** A big key's record ends in "part":N,"more":true|false}; any other record's value ends in ", ] or }. */
function isPartLine(region: Buffer, end: number): boolean {
  return region[end - 1] === 0x7d && region[end - 2] === 0x65; // …true} / …false}
}

const UNICODE_ESCAPE = Buffer.from('\\u');

/** Whether a JSON line has a \uD800–\uDFFF escape that is not half of a pair (read escape by escape, so \\ud800 is text). */
function hasLoneSurrogate(text: string): boolean {
  for (const m of text.matchAll(/\\(u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|u[dD][89a-fA-F][0-9a-fA-F]{2}|.)/g)) {
    if (m[1]!.length === 5) return true;
  }
  return false;
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
  return gz ? replay.pipe(createGunzip({ chunkSize: 1 << 20 })) : replay;
}

export interface VerifyResult {
  header: Header;
  records: number;
  keys: number;
  dbs: Record<string, number>;
  types: Record<string, number>;
}

/**
 * Reads a whole backup, checking everything; nothing is written anywhere.
 * Without onRecord, a record line in the form redis-ops writes is checked
 * by turning it into a restore payload (which accepts only valid records)
 * rather than by JSON.parse; anything else is parsed and validated.
 */
export async function verifyBackup(source: string, onRecord?: (r: ReadItem) => Promise<void> | void): Promise<VerifyResult> {
  let header: Header | null = null;
  const result = { records: 0, keys: 0, dbs: {} as Record<string, number>, types: {} as Record<string, number> };
  const count = (db: number, type: string, part: number | undefined) => {
    result.records++;
    if (part) return;
    result.keys++;
    result.dbs[db] = (result.dbs[db] ?? 0) + 1;
    result.types[type] = (result.types[type] ?? 0) + 1;
  };
  const scratch = new DumpBatch();
  const onHeader = (h: Header) => { header = h; };
  for await (const batch of onRecord ? readBackup(source, onHeader) : readBackupLines(source, onHeader)) {
    for (let item of batch) {
      if ('raw' in item) {
        const head = item.head;
        if (scratch.addLine(item.raw, head)) {
          scratch.discard();
          count(head.db, head.type, undefined);
          continue;
        }
        const where = `${source === '-' ? 'stdin' : source} line ${item.lineNo}`;
        item = { record: validateRecord(parseJson(item.raw.toString('utf8'), where), where), lineNo: item.lineNo };
      }
      count(item.record.db, item.record.type, item.record.part);
      await onRecord?.(item);
    }
  }
  return { header: header!, ...result };
}
