/**
 * One status line per scenario on stderr: rewritten in place on a terminal, printed every few
 * seconds elsewhere (CI logs), and always once when the scenario ends.
 */
const LOG_EVERY_MS = 5_000;

export class Progress {
  private readonly started = Date.now();
  private lastLogged = 0;
  private last = '';

  constructor(private readonly title: string) {
    this.update('starting');
  }

  update(status: string): void {
    this.last = status;
    const line = this.line(status);
    if (process.stderr.isTTY) {
      process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns || 120) - 1)}`);
    } else if (Date.now() - this.lastLogged >= LOG_EVERY_MS) {
      this.lastLogged = Date.now();
      process.stderr.write(`${line}\n`);
    }
  }

  done(summary: string = this.last): void {
    const line = this.line(summary);
    process.stderr.write(process.stderr.isTTY ? `\r\x1b[K${line}\n` : `${line}\n`);
  }

  private line(status: string): string {
    return `${this.title.padEnd(28)} ${((Date.now() - this.started) / 1000).toFixed(1).padStart(6)} s  ${status}`;
  }
}
