import { nameOf } from '../format';

/** A user's picture, or their initial on a coloured disc. */
export function Avatar({ user, size = 36 }: { user: { id: number; username: string; displayName?: string; avatarUrl?: string }; size?: number }) {
  const cls = 'avatar s' + size;
  if (user.avatarUrl) return <img class={cls} src={user.avatarUrl} alt="" width={size} height={size} loading="lazy" />;
  const initial = nameOf(user).charAt(0).toUpperCase();
  return (
    <span class={cls + ' hue' + (user.id % 6)} aria-hidden="true">
      {initial}
    </span>
  );
}
