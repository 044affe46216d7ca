import { expect } from 'vitest';
import { UsageError } from '../../src/errors.js';

/** The message of the UsageError that `work` throws (it must throw one). */
export const usageProblem = (work: () => unknown): string => {
  try {
    work();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as UsageError).message;
  }
  throw new Error('expected a UsageError');
};
