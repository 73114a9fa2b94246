/** What a command may touch of the outside world; tests pass buffers and a fixed env. */
export interface CliIo {
  /** Writes one line (a newline is appended) to stdout. */
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  /**
   * Set when stderr is a terminal: raw writes (no newline) for a progress line rewritten in place
   * (progress.ts), and the terminal's width. Absent otherwise: progress is then logged as lines.
   */
  readonly stderrTty?: {readonly columns: number; write(text: string): void};
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}
