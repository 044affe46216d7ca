import { formatBytes } from '../units.js';
import { verdict, type Check } from './check.js';

export const sizeBudget: Check = {
  id: 'size-budget',
  title: 'Fits the image size budget',
  needs: ['image'],
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
      return verdict('fail', `${size} (${formatBytes(sizeBytes - budgetBytes)} over); largest layer ${top?.size}: ${top?.createdBy.slice(0, 80)}`, evidence);
    }
    return verdict('pass', size, evidence);
  },
};
