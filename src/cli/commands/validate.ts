import type { CliCommand } from './types.js';

/** `dsprobe validate`: placeholder registration, replaced by the owner of this command. */
export const validateCommand: CliCommand = {
  name: 'validate',
  register(program) {
    program.command('validate').description('(not yet built)');
  },
};
