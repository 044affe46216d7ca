// --shard K/N: which targets this job of a CI matrix audits. Rendezvous hashing of the target's name:
// each target goes to the shard k (1..N) with the highest sha256(name, k). Deterministic (no state, no
// order: any machine computes the same split), disjoint and covering (one highest k per target), and
// stable: adding or removing a target never moves another one; changing N moves only the targets whose
// winning shard is gone (about 1/N of them), never between shards that stay.
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count || count > 10_000) {
    throw new UsageError(`Bad --shard "${text}": use K/N with 1 ≤ K ≤ N, e.g. --shard 2/4`);
  }
  return { index, count };
}

/** The shard (1..count) a target name belongs to. */
export function shardOf(name: string, count: number): number {
  let best = 1;
  let bestScore = '';
  for (let k = 1; k <= count; k++) {
    const score = createHash('sha256').update(`${k}\0${name}`).digest('hex');
    if (score > bestScore) {
      bestScore = score;
      best = k;
    }
  }
  return best;
}

export function inShard<T extends { name: string }>(items: T[], shard: Shard | undefined): T[] {
  if (!shard || shard.count === 1) return items;
  return items.filter((item) => shardOf(item.name, shard.count) === shard.index);
}
