/**
 * LZF decompression (Redis's lzf_d.c): a control byte below 32 starts a
 * literal run of ctrl+1 bytes; otherwise a back reference of (ctrl >> 5) + 2
 * bytes (7 means one more length byte follows) at distance
 * ((ctrl & 0x1f) << 8) + next + 1, at most 8 KB back.
 */
export function lzfDecompress(input: Buffer, outLen: number, where: () => string): Buffer {
  const out = Buffer.allocUnsafe(outLen);
  let ip = 0;
  let op = 0;
  const bad = (what: string) => new LzfError(`${where()}: corrupt LZF string (${what})`);
  while (ip < input.length) {
    const ctrl = input[ip++]!;
    if (ctrl < 32) {
      const n = ctrl + 1;
      if (op + n > outLen || ip + n > input.length) throw bad('literal run past the end');
      input.copy(out, op, ip, ip + n);
      op += n;
      ip += n;
    } else {
      let len = ctrl >> 5;
      if (len === 7) {
        if (ip >= input.length) throw bad('truncated length');
        len += input[ip++]!;
      }
      if (ip >= input.length) throw bad('truncated reference');
      const ref = op - ((ctrl & 0x1f) << 8) - input[ip++]! - 1;
      len += 2;
      if (ref < 0) throw bad('reference before the start');
      if (op + len > outLen) throw bad('reference past the end');
      // Overlapping copies repeat bytes: copy one at a time.
      for (let i = 0; i < len; i++) out[op++] = out[ref + i]!;
    }
  }
  if (op !== outLen) throw bad(`${op} bytes decompressed, ${outLen} declared`);
  return out;
}

export class LzfError extends Error {}
