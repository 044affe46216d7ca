// A fact that can fail to be read carries that as a value: the value, or "not observed" and why.
// A check handed `ok: false` has no value to judge, so it can only say `error` or `skip` with `why`
// (`unobservedVerdict`): a read that failed is never turned into a finding.

export type Observed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly why: string };
export type NotObserved = Extract<Observed<never>, { ok: false }>;

export const observed = <T>(value: T): Observed<T> => ({ ok: true, value });
export const unobserved = (why: string): NotObserved => ({ ok: false, why });

/** The value, or undefined when it was not observed (for evidence, never for a verdict). */
export const valueOf = <T>(fact: Observed<T>): T | undefined => (fact.ok ? fact.value : undefined);

/** Runs `read`; a throw becomes "not observed" with `what` and the error's message. */
export async function observe<T>(what: string, read: () => Promise<T>): Promise<Observed<T>> {
  try {
    return observed(await read());
  } catch (err) {
    return unobserved(`${what}: ${(err as Error)?.message ?? String(err)}`);
  }
}

/** Same, for a synchronous read or parse. */
export function observeSync<T>(what: string, read: () => T): Observed<T> {
  try {
    return observed(read());
  } catch (err) {
    return unobserved(`${what}: ${(err as Error)?.message ?? String(err)}`);
  }
}

/** Maps the value; "not observed" passes through with its reason. */
export const mapObserved = <T, U>(fact: Observed<T>, f: (value: T) => U): Observed<U> => (fact.ok ? observed(f(fact.value)) : fact);

/**
 * JSON text as Node and npm read it: a UTF-8 byte-order mark is allowed. A parse that fails names the
 * file and the cause, e.g. `/app/package.json is not valid JSON: Unexpected token } in JSON at position 12`.
 */
export function parseJsonFile(file: string, text: string): Observed<unknown> {
  try {
    return observed(JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text));
  } catch (err) {
    return unobserved(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}
