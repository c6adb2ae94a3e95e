import type { UserIdStrategy } from '../scenario/types.js';

/** The user_id for request `id` under a strategy: none, one fixed id, or `count` rotating ids. */
export function userIdFor(u: UserIdStrategy, id: number): string | undefined {
  switch (u.strategy) {
    case 'none':
      return undefined;
    case 'fixed':
      return u.value ?? 'dsprobe';
    case 'rotating':
      return `${u.prefix ?? 'dsprobe-user-'}${id % Math.max(1, u.count ?? 1)}`;
  }
}
