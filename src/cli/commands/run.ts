import type { CliCommand } from './types.js';

/** `dsprobe run`: placeholder registration, replaced by the owner of this command. */
export const runCommand: CliCommand = {
  name: 'run',
  register(program) {
    program.command('run').description('(not yet built)');
  },
};
