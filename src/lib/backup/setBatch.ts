import type { Redis } from 'ioredis';
import { loadDriver } from '../connect/driver.js';

/**
 * Strings written as plain `SET key value [PXAT|PX ttl] NX` commands, not
 * through the restore script. `copy` asks for this because its limit is the
 * destination's CPU: on a copy of 990k mixed keys, sending the 660k strings
 * this way took the destination's CPU from 3.3 s to 2.6 s (Lua's share per
 * key is gone). Each SET is still atomic, as the script's: the key is
 * written whole with its expiry, or left alone when it exists.
 *
 * The commands are encoded as RESP straight into one buffer: ioredis's own
 * encoding of the arguments would cost the client more than the server
 * saves. Only for a connection to one server: on a cluster the commands
 * would each be routed on their own, so a cluster keeps the script.
 */
export class SetBatch {
  readonly keys: Buffer[] = [];
  /** Where each key's command begins in buf. */
  private readonly starts: number[] = [];
  private buf = Buffer.allocUnsafe(1 << 16);
  /** Bytes encoded so far. */
  at = 0;

  /** `absttl`: expiries are unix times in ms (SET … PXAT, Redis 6.2+); otherwise ms left (SET … PX). */
  constructor(private readonly absttl: boolean) {}

  /** One key: ttl as RESTORE takes it (0: no expiry). The bytes are copied: `value` may be reused afterwards. */
  add(key: Buffer, value: Buffer, ttl: number): void {
    const expiry = ttl > 0 ? String(ttl) : '';
    this.ensure(key.length + value.length + expiry.length + 64);
    this.starts.push(this.at);
    this.ascii(expiry ? '*6\r\n$3\r\nSET\r\n' : '*4\r\n$3\r\nSET\r\n');
    this.bulk(key);
    this.bulk(value);
    if (expiry) this.ascii(`${this.absttl ? '$4\r\nPXAT' : '$2\r\nPX'}\r\n$${expiry.length}\r\n${expiry}\r\n`);
    this.ascii('$2\r\nNX\r\n');
    this.keys.push(key);
  }

  /**
   * Sends every SET in one write, and answers per key: true when it was
   * written, false when it existed. Each SET is its own ioredis command,
   * carrying its own bytes (so a command written again is whole), and the
   * socket is corked meanwhile: one write for all, not one per key.
   */
  async send(client: Redis): Promise<boolean[]> {
    const { Command } = await loadDriver();
    const stream = (client as unknown as { stream?: { cork(): void; uncork(): void } }).stream;
    stream?.cork();
    let replies: Promise<unknown>[];
    try {
      replies = this.keys.map((_, i) => {
        const cmd = new Command('set', [], { replyEncoding: null });
        const bytes = this.buf.subarray(this.starts[i], this.starts[i + 1] ?? this.at);
        cmd.toWritable = () => bytes;
        void client.sendCommand(cmd);
        return cmd.promise;
      });
    } finally {
      stream?.uncork();
    }
    return (await Promise.all(replies)).map((r) => r !== null);
  }

  private bulk(b: Buffer): void {
    this.ascii(`$${b.length}\r\n`);
    this.at += b.copy(this.buf, this.at);
    this.buf[this.at++] = 13;
    this.buf[this.at++] = 10;
  }

  private ascii(text: string): void {
    this.at += this.buf.write(text, this.at, 'latin1');
  }

  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }
}
