import { SCHEMA_ERROR } from './urns.ts';

// RFC 7644 §3.12 error answers. `status` is a string on the wire; `scimType` is only set where the
// RFC defines one (400/409 classes), never for 401/404/428 (docs/keeper-scim.md §6).

export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export class EmulatorError extends Error {
  readonly status: number;
  readonly scimType: ScimType | undefined;

  constructor(status: number, detail: string, scimType?: ScimType) {
    super(detail);
    this.name = 'EmulatorError';
    this.status = status;
    this.scimType = scimType;
  }

  toBody(): ScimErrorResponse {
    return errorBody(this.status, this.message, this.scimType);
  }
}

export type ScimErrorResponse = {
  schemas: [typeof SCHEMA_ERROR];
  status: string;
  scimType?: ScimType;
  detail: string;
};

export function errorBody(status: number, detail: string, scimType?: ScimType): ScimErrorResponse {
  return {
    schemas: [SCHEMA_ERROR],
    status: String(status),
    ...(scimType ? { scimType } : {}),
    detail,
  };
}

export const badRequest = (scimType: ScimType, detail: string) =>
  new EmulatorError(400, detail, scimType);
export const notFound = (detail: string) => new EmulatorError(404, detail);
