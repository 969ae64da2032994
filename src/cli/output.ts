/**
 * The command's output, written whole. On a pipe, Node writes stdout asynchronously: whatever did
 * not fit the pipe's buffer (64 KiB on Linux) is still queued when `process.exit` runs, and is lost.
 * So every command waits for its output to be flushed before it exits.
 */

/** Resolves once `text` has been handed to the OS (or the reader has gone away). */
export function writeAll(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    // An error here is the reader closing the pipe (EPIPE): there is nobody left to write to.
    stream.write(text, () => resolve());
  });
}

/** Writes what the command has to say, then exits with `code`. */
export async function exitWith(code: number, output: { stdout?: string; stderr?: string }): Promise<never> {
  if (output.stdout !== undefined) await writeAll(process.stdout, `${output.stdout}\n`);
  if (output.stderr !== undefined) await writeAll(process.stderr, `${output.stderr}\n`);
  process.exit(code);
}
