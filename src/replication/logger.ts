/** A short description of any thrown value, for log lines. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return "code" in err && typeof err.code === "string" ? `${err.code}: ${err.message}` : err.message;
  return String(err);
}
