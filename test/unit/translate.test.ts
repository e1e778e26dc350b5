import { describe, expect, it } from 'vitest';
import { translateRedisError } from '../../src/lib/connect/translate.js';
import { ConnectionError, NoAnswerError } from '../../src/errors.js';

const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

describe('translateRedisError says what happened (issue 14, item 11)', () => {
  it('a reset after the server had answered is a lost connection, never a TLS hint', () => {
    const e = translateRedisError(reset, { address: 'h:1', timeoutMs: 1000, answered: true });
    expect(e).toBeInstanceOf(ConnectionError);
    expect(e.message).toBe('lost the connection to h:1 (ECONNRESET): the server closed it mid-run (stopped, restarted, or CLIENT KILL)');
  });
  it('a reset before any answer asks whether the port is Redis at all', () => {
    expect(translateRedisError(reset, { address: 'h:1', timeoutMs: 1000 }).message).toMatch(/^h:1 closed the connection before answering \(ECONNRESET\): is it a Redis port\?/);
  });
  it('a command that times out is NoAnswerError; a TLS hello that goes unanswered says so', () => {
    expect(translateRedisError(new Error('Command timed out'), { address: 'h:1', timeoutMs: 500, answered: true })).toBeInstanceOf(NoAnswerError);
    expect(translateRedisError(new Error('Command timed out'), { address: 'h:1', timeoutMs: 500, tls: true }).message).toMatch(/did not complete a TLS handshake within 500 ms/);
  });
});
