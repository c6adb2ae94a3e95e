import type { CliCommand } from './types.js';

/** `dsprobe merge`: placeholder registration, replaced by the owner of this command. */
export const mergeCommand: CliCommand = {
  name: 'merge',
  register(program) {
    program.command('merge').description('(not yet built)');
  },
};
