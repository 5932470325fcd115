// Typed outcomes of the directory: what a read or a write may answer besides its object.

/** A question that needs a scan of more users than UPSTREAM_SCAN_LIMIT allows. */
export class ScanLimitError extends Error {
  readonly code = 'SCAN_LIMIT_EXCEEDED';
  constructor(limit: number) {
    super(
      `This question needs a scan of more than ${limit} users, the configured UPSTREAM_SCAN_LIMIT; narrow it with an exact filter (userName or externalId)`,
    );
    this.name = 'ScanLimitError';
  }
}
