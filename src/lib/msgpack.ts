/**
 * A MessagePack array of byte strings, in the "raw" types that Redis's Lua
 * cmsgpack decodes (it predates the bin types): many values travel as one
 * argument, which costs the client far less than one argument each.
 */
export function packStrings(values: (Buffer | string)[]): Buffer {
  // Strings are written as UTF-8 in place: no intermediate Buffer per value.
  const lengths = values.map((v) => (typeof v === 'string' ? Buffer.byteLength(v) : v.length));
  let size = 5;
  for (const len of lengths) size += len + (len < 32 ? 1 : len < 65536 ? 3 : 5);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  const n = values.length;
  if (n < 16) out[at++] = 0x90 | n;
  else if (n < 65536) {
    out[at++] = 0xdc;
    out.writeUInt16BE(n, at);
    at += 2;
  } else {
    out[at++] = 0xdd;
    out.writeUInt32BE(n, at);
    at += 4;
  }
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const len = lengths[i];
    if (len < 32) out[at++] = 0xa0 | len;
    else if (len < 65536) {
      out[at++] = 0xda;
      out.writeUInt16BE(len, at);
      at += 2;
    } else {
      out[at++] = 0xdb;
      out.writeUInt32BE(len, at);
      at += 4;
    }
    at += typeof v === 'string' ? out.write(v, at) : v.copy(out, at);
  }
  return out.subarray(0, at);
}
