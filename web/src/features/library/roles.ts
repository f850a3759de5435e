import { useSession } from '../../app/session.tsx';

const RANK = { viewer: 0, editor: 1, admin: 2, owner: 3 } as const;

/** Whether the signed-in person's role is at least the given one. */
export function useRoleAtLeast(min: keyof typeof RANK): boolean {
  const { role } = useSession();
  return role ? RANK[role] >= RANK[min] : false;
}
