// A tar in memory, as tar-stream packs it: for tests that feed an export or an archive to a reader.
import tar from 'tar-stream';

export async function tarOf(entries: Array<{ name: string; content: Buffer | string }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name }, typeof e.content === 'string' ? Buffer.from(e.content) : e.content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as unknown as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
