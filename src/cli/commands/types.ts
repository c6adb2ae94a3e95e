import type { Command } from 'commander';
import type { CliIO } from '../io.js';

/**
 * One CLI command. `register` adds it to the program; its action calls `setExit(code)`
 * (or throws a DsprobeError, which main() turns into a message and its exit code).
 */
export interface CliCommand {
  name: string;
  register(program: Command, io: CliIO, setExit: (code: number) => void): void;
}
