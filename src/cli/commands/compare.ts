import type { CliCommand } from './types.js';

/** `dsprobe compare`: placeholder registration, replaced by the owner of this command. */
export const compareCommand: CliCommand = {
  name: 'compare',
  register(program) {
    program.command('compare').description('(not yet built)');
  },
};
