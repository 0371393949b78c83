/** The emulator's JSON values and its errors in the service's `{error_code, message}` shape. */
export type Json = Record<string, unknown>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}
