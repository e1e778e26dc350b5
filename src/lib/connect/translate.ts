import {
  AuthError, CommandError, ConnectionError, NoAnswerError, PermissionError, RedisOpsError, UsageError,
} from '../../errors.js';

export interface ErrorContext {
  address: string;
  user?: string;
  timeoutMs: number;
  /** Whether the connection used TLS: a reset means different things with and without it. */
  tls?: boolean;
  /** The last 'error' event of the connection: ioredis hides it behind "Connection is closed." */
  lastEvent?: Error;
  /** The server had answered on this connection: a reset now is a lost server, not a TLS mismatch. */
  answered?: boolean;
}

/** Turns what ioredis throws into one of our typed errors with a one-line message. */
export function translateRedisError(err: unknown, ctx: ErrorContext): Error {
  if (err instanceof RedisOpsError) return err;
  const e = err as NodeJS.ErrnoException & { name?: string };
  const cause: NodeJS.ErrnoException =
    ctx.lastEvent && /Connection is closed|Stream isn't writeable|ended/i.test(String(e?.message)) ? ctx.lastEvent : e;
  const msg = String(cause?.message ?? cause);
  const code = cause?.code;
  const where = ctx.address;
  const who = ctx.user ? `user "${ctx.user}"` : 'the default user';

  if (/All sentinels are unreachable/.test(msg)) {
    if (/No such master/i.test(msg)) return new ConnectionError(`the Sentinels of ${where} know no master by that name (check --master-name)`);
    return new ConnectionError(`cannot get the master of ${where} from any Sentinel: ${firstLine(msg.replace(/.*Last error:\s*/, '')) || 'unreachable'}`);
  }
  if (/^WRONGPASS/.test(msg) || /invalid password|invalid username-password/i.test(msg)) {
    return new AuthError(`authentication failed at ${where} for ${who}: wrong password, or the user is disabled`);
  }
  if (/^NOAUTH/.test(msg)) {
    return new AuthError(`${where} requires a password: set REDISCLI_AUTH, or use --password-file, --askpass or a profile`);
  }
  if (/^NOPERM/.test(msg)) {
    return new PermissionError(`${who} at ${where} lacks an ACL permission: ${msg.replace(/^NOPERM\s*/, '')}`);
  }
  if (/DB index is out of range/i.test(msg)) {
    return new UsageError(`${where} has no such database (its \`databases\` setting is lower): check --db / the URL's /db`);
  }
  if (/^ERR unknown (sub)?command/i.test(msg)) {
    const name = /'([^']*)'/.exec(msg)?.[1] ?? '';
    return new CommandError(`${where} does not know the command '${name}' (an older or restricted server): ${firstLine(msg)}`);
  }
  if (code === 'ECONNREFUSED') return new ConnectionError(`cannot connect to ${where}: connection refused (is the server running? check --host/--port/--url)`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new ConnectionError(`cannot resolve the host of ${where} (${code}); check --host/--url`);
  if (/Protocol error|unexpected|Unknown type/i.test(msg) && e?.name !== 'ReplyError') {
    return new ConnectionError(`${where} did not answer as a Redis server does (${firstLine(msg).slice(0, 80)}): is it Redis, or a proxy or another service on that port?`);
  }
  if (ctx.tls && !ctx.answered && (code === 'ETIMEDOUT' || /timed out/i.test(msg))) {
    return new ConnectionError(`${where} did not complete a TLS handshake within ${ctx.timeoutMs} ms: is it a TLS port? (a plain Redis port never answers a TLS hello; drop --tls / use redis://)`);
  }
  if (/^Command timed out/.test(msg)) return new NoAnswerError(`${where} did not answer within ${ctx.timeoutMs} ms`);
  if (code === 'ETIMEDOUT' || /timed out/i.test(msg)) {
    return new ConnectionError(`${where} did not answer within ${ctx.timeoutMs} ms (raise --timeout if the server is slow)`);
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new ConnectionError(`cannot reach ${where} (${code})`);
  // A server that hangs up before its first answer is no Redis server we can talk to; one that hangs up later was lost mid-run.
  const closedEarly = (how: string) => new ConnectionError(ctx.tls
    ? `${where} closed the TLS connection${how}: does the server require a client certificate (--cert/--key), or not speak TLS at all?`
    : `${where} closed the connection before answering${how}: is it a Redis port? (for a TLS port, add --tls or use rediss://; an HTTP server or a proxy also hangs up like this)`);
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    if (ctx.answered) return new ConnectionError(`lost the connection to ${where} (${code}): the server closed it mid-run (stopped, restarted, or CLIENT KILL)`);
    return closedEarly(` (${code})`);
  }
  if (/certificate required|alert (bad|unknown) certificate|alert handshake failure/i.test(msg)) {
    return new ConnectionError(`${where} refused the TLS handshake (${firstLine(msg)}): does it require a client certificate (--cert/--key)?`);
  }
  if (/certificate|SSL|TLS|self.signed|wrong version number/i.test(msg) || /^(ERR_SSL|ERR_TLS|DEPTH_ZERO|UNABLE_TO|CERT_|SELF_SIGNED)/.test(code ?? '')) {
    return new ConnectionError(`TLS with ${where} failed: ${firstLine(msg)} (check --cacert/--cert/--key; --insecure skips verification)`);
  }
  if (/Connection is closed|Stream isn't writeable/i.test(msg)) return ctx.answered ? new ConnectionError(`lost the connection to ${where}`) : closedEarly('');
  if (/^LOADING/.test(msg)) return new ConnectionError(`${where} is loading its dataset; try again when it has finished`);
  if (/^(CLUSTERDOWN|MASTERDOWN)/.test(msg)) return new ConnectionError(`${where}: ${firstLine(msg)}`);
  if (e?.name === 'ReplyError' || /^[A-Z]+ /.test(msg)) return new CommandError(`${where}: ${firstLine(msg)}`);
  return err instanceof Error ? err : new Error(msg);
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
