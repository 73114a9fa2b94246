/**
 * Base error of the project: a stable machine-readable `code` plus typed metadata.
 * Match on `err.code` (or `err.type.code`), not on `instanceof`, across module boundaries.
 */
export class ParsError<T extends {code: string}> extends Error {
  readonly type: T;

  constructor(type: T, message?: string) {
    super(message ?? type.code);
    this.type = type;
    this.name = "ParsError";
  }

  get code(): T["code"] {
    return this.type.code;
  }
}

/** Thrown by constructors and factories when a caller passes an invalid option. */
export class InvalidArgumentError extends ParsError<{code: "INVALID_ARGUMENT"}> {
  constructor(message: string) {
    super({code: "INVALID_ARGUMENT"}, message);
    this.name = "InvalidArgumentError";
  }
}
