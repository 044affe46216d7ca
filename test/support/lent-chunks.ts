// A chunk source that lends its chunks the way the raw socket read does (src/docker/raw-http.ts): every
// chunk is copied into one buffer, and once the consumer is done with it (returned, or its promise
// settled) that buffer is overwritten with garbage. A consumer that keeps a view of a lent chunk instead of
// a copy then reads garbage, and the test comparing its result fails.
import type { Readable } from 'node:stream';
import type { ChunkSource } from '../../src/docker/chunk-source.js';

export function lentChunks(chunks: Iterable<Buffer> | AsyncIterable<Buffer> | Readable): ChunkSource {
  let taken = false;
  return async (onChunk, signal) => {
    if (taken) throw new Error('a lent source was read twice');
    taken = true;
    let lent = Buffer.alloc(0);
    for await (const chunk of chunks as AsyncIterable<Buffer>) {
      signal?.throwIfAborted();
      if (lent.length < chunk.length) lent = Buffer.alloc(chunk.length);
      chunk.copy(lent);
      await onChunk(lent.subarray(0, chunk.length));
      lent.fill(0xa5);
    }
    signal?.throwIfAborted();
  };
}
