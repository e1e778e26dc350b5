/**
 * Redis glob patterns (as SCAN MATCH and KEYS use them: * ? [abc] [^a] [a-z]
 * and \ escapes) as a RegExp over a key's bytes read as latin1, so that
 * binary keys match exactly as the server would match them.
 */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  const p = Buffer.from(pattern, 'utf8').toString('latin1');
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '\\' && i + 1 < p.length) re += escape(p[++i]!);
    else if (c === '[') {
      const end = p.indexOf(']', i + 2);
      if (end === -1) {
        re += '\\[';
        continue;
      }
      let body = p.slice(i + 1, end);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\]\\]/g, '\\$&')}]`;
      i = end;
    } else re += escape(c!);
  }
  return new RegExp(`^${re}$`);
}

function escape(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export function keyMatches(key: Buffer, patterns: RegExp[]): boolean {
  if (patterns.length === 0) return true;
  const s = key.toString('latin1');
  return patterns.some((r) => r.test(s));
}
