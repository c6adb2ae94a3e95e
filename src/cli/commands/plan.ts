import type { CliCommand } from './types.js';

/** `dsprobe plan`: placeholder registration, replaced by the owner of this command. */
export const planCommand: CliCommand = {
  name: 'plan',
  register(program) {
    program.command('plan').description('(not yet built)');
  },
};
