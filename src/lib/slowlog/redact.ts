/**
 * Arguments that must never be shown, even when an older server logged them:
 * AUTH, HELLO … AUTH, MIGRATE … AUTH/AUTH2, CONFIG SET of password-like
 * settings, ACL SETUSER password rules, SENTINEL SET … auth-pass.
 */
export const REDACTED = '(redacted)';

const SECRET_SETTING = /pass|auth|secret|token|key-file-pass/i;

export function redactArgs(args: string[]): string[] {
  if (args.length === 0) return args;
  const out = [...args];
  const cmd = out[0]!.toUpperCase();
  const sub = (out[1] ?? '').toUpperCase();
  if (cmd === 'AUTH') return [out[0]!, ...out.slice(1).map(() => REDACTED)];
  if (cmd === 'HELLO') {
    const i = out.findIndex((a, idx) => idx > 0 && a.toUpperCase() === 'AUTH');
    if (i > 0) for (let j = i + 1; j <= i + 2 && j < out.length; j++) out[j] = REDACTED;
    return out;
  }
  if (cmd === 'MIGRATE') {
    for (let i = 1; i < out.length; i++) {
      const a = out[i]!.toUpperCase();
      if (a === 'AUTH' && i + 1 < out.length) out[i + 1] = REDACTED;
      if (a === 'AUTH2') for (let j = i + 1; j <= i + 2 && j < out.length; j++) out[j] = REDACTED;
    }
    return out;
  }
  if (cmd === 'CONFIG' && sub === 'SET') {
    for (let i = 2; i + 1 < out.length; i += 2) if (SECRET_SETTING.test(out[i]!)) out[i + 1] = REDACTED;
    return out;
  }
  if (cmd === 'ACL' && sub === 'SETUSER') {
    for (let i = 3; i < out.length; i++) if (/^[<>#!]/.test(out[i]!)) out[i] = `${out[i]![0]}${REDACTED}`;
    return out;
  }
  if (cmd === 'SENTINEL' && (sub === 'SET' || sub === 'CONFIG')) {
    for (let i = 2; i + 1 < out.length; i++) if (SECRET_SETTING.test(out[i]!)) out[i + 1] = REDACTED;
    return out;
  }
  return out;
}

/** Bounded display: at most `maxArgs` arguments of at most `maxLen` characters each. */
export function truncateArgs(args: string[], maxArgs = 12, maxLen = 64): string[] {
  const shown = args.slice(0, maxArgs).map((a) => (a.length > maxLen ? `${a.slice(0, maxLen)}…(${a.length} chars)` : a));
  if (args.length > maxArgs) shown.push(`…(+${args.length - maxArgs} more arguments)`);
  return shown;
}
