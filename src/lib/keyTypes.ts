/**
 * Redis's key types, in one place: their names, the order the tool's scripts
 * number them in (probe-0.lua, read-keys-0.lua: 0 is "none"), and the command
 * that measures each one's length.
 */
export const KEY_TYPES = ['string', 'list', 'set', 'zset', 'hash', 'stream'] as const;

export type KeyTypeName = (typeof KEY_TYPES)[number];

/** A script's type code to its name (0: the key is gone). */
export const TYPE_BY_CODE = ['none', ...KEY_TYPES] as const;

export const LENGTH_COMMAND: Record<KeyTypeName, string> = {
  string: 'STRLEN', list: 'LLEN', set: 'SCARD', zset: 'ZCARD', hash: 'HLEN', stream: 'XLEN',
};

export function isKeyType(type: string): type is KeyTypeName {
  return (KEY_TYPES as readonly string[]).includes(type);
}
