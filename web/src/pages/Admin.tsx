import { adminNav } from '../routes';
import { allowed } from '../session';

/** The admin console's index, by role. */
export default function Admin() {
  return (
    <section class="page narrow">
      <h1>Admin</h1>
      <ul class="admin-index">
        {adminNav
          .filter((n) => allowed(n.access))
          .map((n) => (
            <li key={n.href}>
              <a href={n.href}>{n.label}</a>
            </li>
          ))}
      </ul>
    </section>
  );
}
