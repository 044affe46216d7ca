// One error type per cause that stops an audit. The CLI maps them to exit codes in one place.

export abstract class AuditError extends Error {
  abstract readonly exitCode: 2 | 3;
  /** Lines that help act on the error (the failing build step's output, the daemon address...). */
  readonly detail: string[];
  constructor(message: string, detail: string[] = []) {
    super(message);
    this.name = new.target.name;
    this.detail = detail;
  }
}

/** Bad usage or configuration: exit 2. */
export class UsageError extends AuditError {
  readonly exitCode = 2;
}

/** Could not audit: exit 3. */
export abstract class CouldNotAuditError extends AuditError {
  readonly exitCode = 3;
}

export class DaemonUnreachableError extends CouldNotAuditError {}

/** Something answers at the daemon's address, but not as a Docker (or Podman) API does. */
export class NotADockerDaemonError extends DaemonUnreachableError {}

export class BuildFailedError extends CouldNotAuditError {
  constructor(
    message: string,
    readonly failingStep: string | undefined,
    readonly output: string[],
  ) {
    super(message, output);
  }
}

export class ImageNotFoundError extends CouldNotAuditError {}

export class ContainerError extends CouldNotAuditError {}

/** The Docker API answered with an error we have no better name for. */
export class DockerApiError extends CouldNotAuditError {
  constructor(
    message: string,
    readonly statusCode?: number,
  ) {
    super(message);
  }
}

/** The caller aborted the audit (the CLI: SIGINT/SIGTERM). Nothing was concluded: no report is written. */
export class AuditInterruptedError extends AuditError {
  readonly exitCode = 3;
  constructor(readonly reason: string = 'interrupted') {
    super(`audit interrupted (${reason}): no verdict was reached`);
  }
}

/**
 * A report could not be written (a full disk, a closed pipe): exit 3. The audit's verdict exists, but
 * whoever asked for the report did not get it, and a gate must not read a missing file as a pass.
 */
export class ReportWriteError extends CouldNotAuditError {}
