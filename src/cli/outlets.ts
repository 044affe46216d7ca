// Where bytes leave the CLI: stdout, stderr (messages and the progress line) and every report file.
// Each goes through the one redactor, which the audit feeds with every secret it learns; nothing in
// the CLI writes to a stream or a file any other way (test/unit/outlets.test.ts holds it to that).
import { writeFileSync } from 'node:fs';
import { ReportWriteError } from '../errors.js';
import { Redactor } from '../redact/redactor.js';

const WRITE_ERRORS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is not a directory',
  ENOENT: 'no such directory, and it cannot be created there',
  EISDIR: 'it is a directory',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'the file is too large',
  EIO: 'input/output error',
  EPIPE: 'the reader has gone (broken pipe)',
};

export const describeWriteError = (err: unknown) => {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return `${WRITE_ERRORS[code] ?? (err as Error).message}${code ? ` (${code})` : ''}`;
};

export interface Outlets {
  readonly redactor: Redactor;
  /** The text as it will leave: for code that must cut a line after masking it, never before. */
  redact(text: string): string;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Writes a report file; a failed write is a ReportWriteError naming the file and the cause. */
  file(path: string, text: string): void;
  /** A write to stdout that failed (a full disk behind `>`, a closed pipe), once it has. */
  stdoutFailure(): ReportWriteError | undefined;
}

export function createOutlets(redactor = new Redactor(), streams: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process): Outlets {
  let stdoutFailed: ReportWriteError | undefined;
  const failStdout = (err: unknown) => (stdoutFailed ??= new ReportWriteError(`Could not write the report to stdout: ${describeWriteError(err)}`));
  streams.stdout.on('error', failStdout);
  // stderr is the last channel: an error there has nowhere to be told, and must not crash the audit.
  streams.stderr.on('error', () => undefined);
  const redact = (text: string) => redactor.redact(text);
  return {
    redactor,
    redact,
    stdout(text) {
      try {
        streams.stdout.write(redact(text));
      } catch (err) {
        failStdout(err);
      }
    },
    stderr(text) {
      try {
        streams.stderr.write(redact(text));
      } catch {
        // See above: nowhere left to say it.
      }
    },
    file(path, text) {
      try {
        writeFileSync(path, redact(text));
      } catch (err) {
        throw new ReportWriteError(`Could not write the report to ${path}: ${describeWriteError(err)}`);
      }
    },
    stdoutFailure: () => stdoutFailed,
  };
}
