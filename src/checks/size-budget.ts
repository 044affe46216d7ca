import { formatBytes } from '../units.js';
import { lineWriter, verdict, type Check } from './check.js';

export const sizeBudget: Check = {
  id: 'size-budget',
  title: 'Fits the image size budget',
  needs: ['image'],
  help: 'Use a slim base, multi-stage builds and .dockerignore; look at the largest layers in the evidence.',
  run({ basics, settings }) {
    const sizeBytes = basics.image.sizeBytes;
    const budgetBytes = settings.sizeBudgetBytes;
    const largestLayers = [...basics.history]
      .sort((a, b) => b.sizeBytes - a.sizeBytes)
      .slice(0, 5)
      .map((layer) => ({ sizeBytes: layer.sizeBytes, size: formatBytes(layer.sizeBytes), createdBy: layer.createdBy.replace(/\s+/g, ' ').trim().slice(0, 200) || '(no instruction recorded: an imported base layer)' }));
    const evidence = { sizeBytes, budgetBytes, largestLayers };
    const size = `${formatBytes(sizeBytes)} against a budget of ${formatBytes(budgetBytes)}`;
    if (sizeBytes > budgetBytes) {
      const top = largestLayers[0];
      const fromBase = /no instruction recorded|^\/bin\/sh -c #\(nop\) ADD file/.test(top?.createdBy ?? '');
      const hint = fromBase
        ? 'The base image is the largest layer: use a slim or distroless Node base.'
        : `The largest layer comes from \`${top?.createdBy.slice(0, 80)}\`: move build-only work to an earlier stage and copy only its output.`;
      return verdict('fail', `${size} (${formatBytes(sizeBytes - budgetBytes)} over); largest layer ${top?.size}: ${top?.createdBy.slice(0, 80)}`, evidence, hint);
    }
    return verdict('pass', size, evidence);
  },
  lines(result) {
    const e = result.evidence as { largestLayers?: Array<{ size: string; createdBy: string }> };
    const { lines, add } = lineWriter();
    for (const layer of e.largestLayers ?? []) add('layer', `${layer.size.padStart(9)}  ${layer.createdBy.slice(0, 100)}`);
    return lines;
  },
  locate: (stage, basics) => stage.madeLayer([...basics.history].sort((a, b) => b.sizeBytes - a.sizeBytes)[0]),
};
