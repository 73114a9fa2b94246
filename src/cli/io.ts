/** What a command may touch of the outside world; tests pass buffers and a fixed env. */
export interface CliIo {
  /** Writes one line (a newline is appended) to stdout. */
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}
