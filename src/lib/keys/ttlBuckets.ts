/** TTL buckets used by every report: none, <1h, 1–24h, 1–7d, >7d. */
export interface TtlBuckets {
  none: number;
  under1h: number;
  h1to24: number;
  d1to7: number;
  over7d: number;
}

export const TTL_BUCKET_LABELS: Record<keyof TtlBuckets, string> = {
  none: 'no expiry', under1h: '< 1h', h1to24: '1h–24h', d1to7: '1d–7d', over7d: '> 7d',
};

export function emptyTtlBuckets(): TtlBuckets {
  return { none: 0, under1h: 0, h1to24: 0, d1to7: 0, over7d: 0 };
}

export function ttlBucket(ttlMs: number | null | undefined): keyof TtlBuckets {
  if (ttlMs === null || ttlMs === undefined) return 'none';
  if (ttlMs < 3_600_000) return 'under1h';
  if (ttlMs < 86_400_000) return 'h1to24';
  if (ttlMs < 604_800_000) return 'd1to7';
  return 'over7d';
}
