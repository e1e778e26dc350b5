import calculateSlot from 'cluster-key-slot';

/**
 * A hash tag that maps to a given cluster slot, so that a helper key
 * (`prefix:{tag}:…`) lands in the same slot as the key it works for: then one
 * script, RENAME included, may touch both. Found by counting up once per slot.
 */
const tags = new Map<number, string>();

export function tagForSlot(slot: number): string {
  const known = tags.get(slot);
  if (known !== undefined) return known;
  for (let i = 0; ; i++) {
    const candidate = i.toString(36);
    const s = calculateSlot(candidate);
    if (!tags.has(s)) tags.set(s, candidate);
    if (s === slot) return candidate;
  }
}

export function sameSlotKey(key: Buffer, prefix: string): string {
  return `${prefix}:{${tagForSlot(calculateSlot(key))}}:${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
}
