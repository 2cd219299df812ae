import { useState } from 'preact/hooks';
import { api } from '../api';
import { count, rarities, ruleKinds, ruleText } from '../catalog';
import { invalid, ReasonField, SelectField, withReason } from '../components/Fields';
import { Field, FormError, Submit, submit, useAction } from '../components/Form';
import { Show, useLoad } from '../components/Load';
import { fullDate } from '../format';
import type { Achievement, AchievementRule, List } from '../types';

/** Achievements (admins): every definition, a new one, and granting one by hand. */
export default function AdminAchievements() {
  const { v, reload } = useLoad(() => api<List<Achievement>>('/api/achievements'), []);
  return (
    <section class="page catalog">
      <h1>Achievements</h1>
      <Show v={v} what="Achievements">
        {(l) => (
          <>
            {l.items.length === 0 ? (
              <p class="muted">No achievements defined yet.</p>
            ) : (
              <table class="admin-achievements">
                <caption class="sr-only">Every achievement</caption>
                <thead>
                  <tr>
                    <th scope="col">Achievement</th>
                    <th scope="col">Earned by</th>
                    <th scope="col">Rarity</th>
                    <th scope="col">XP</th>
                    <th scope="col">Awarded</th>
                  </tr>
                </thead>
                <tbody>
                  {l.items.map((a) => (
                    <tr key={a.id}>
                      <td>
                        <strong>{a.name}</strong> <small class="muted">{a.slug}</small>
                        {a.description && (
                          <>
                            <br />
                            <small class="muted">{a.description}</small>
                          </>
                        )}
                      </td>
                      <td data-label="Earned by">{ruleText(a.rule)}</td>
                      <td data-label="Rarity">{a.rarity}</td>
                      <td data-label="XP">{a.xp}</td>
                      <td data-label="Awarded">{a.awardedCount}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <p class="muted">Awarded counts may lag by up to five minutes.</p>
            <div class="two-forms">
              <Define onSaved={reload} />
              {l.items.length > 0 && <Grant items={l.items} />}
            </div>
          </>
        )}
      </Show>
    </section>
  );
}

const rarityOptions = rarities.map((r) => ({ value: r, label: r }));

function Define({ onSaved }: { onSaved: () => void }) {
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [iconUrl, setIconUrl] = useState('');
  const [xp, setXP] = useState('0');
  const [rarity, setRarity] = useState<string>('common');
  const [kind, setKind] = useState('');
  const [ruleCount, setRuleCount] = useState('');
  const [said, setSaid] = useState('');
  const define = useAction(async () => {
    setSaid('');
    const x = count(xp);
    const n = count(ruleCount);
    const bad: Record<string, string> = {};
    if (x === undefined) bad['xp'] = 'must be a whole number from 0 to 100000';
    if (kind && (n === undefined || n < 1)) bad['rule.count'] = 'must be a whole number from 1';
    if (Object.keys(bad).length) throw invalid(bad);
    const rule = kind ? ({ kind, count: n } as AchievementRule) : null;
    const a = await api<Achievement>('/api/admin/achievements', { method: 'POST', body: { slug: slug.trim(), name, description, iconUrl: iconUrl.trim(), xp: x, rarity, rule } });
    setSlug('');
    setName('');
    setDescription('');
    setIconUrl('');
    setXP('0');
    setKind('');
    setRuleCount('');
    setSaid(`Defined “${a.name}”.`);
    onSaved();
  });
  const f = define.fields;
  return (
    <form class="card" onSubmit={submit(define.run)} noValidate aria-labelledby="define-h">
      <h2 id="define-h">Define an achievement</h2>
      <FormError text={define.error} />
      <Field label="Name" name="ach-name" value={name} onValue={setName} required maxLength={200} error={f['name']} />
      <Field label="Slug" name="ach-slug" value={slug} onValue={setSlug} maxLength={64} hint="Lowercase letters, digits and dashes, e.g. first-mix." error={f['slug']} />
      <Field label="Description (optional)" name="ach-description" multiline value={description} onValue={setDescription} maxLength={2000} error={f['description']} />
      <Field label="Icon link (optional)" name="ach-iconUrl" value={iconUrl} onValue={setIconUrl} hint="An https:// link or an /uploads/ path." error={f['iconUrl']} />
      <Field label="XP it grants" name="ach-xp" inputMode="numeric" value={xp} onValue={setXP} error={f['xp']} />
      <SelectField label="Rarity" name="ach-rarity" value={rarity} onValue={setRarity} options={rarityOptions} error={f['rarity']} />
      <SelectField
        label="Earned by"
        name="ach-rule"
        value={kind}
        onValue={setKind}
        options={[{ value: '', label: 'Granted by hand only' }, ...ruleKinds.map((k) => ({ value: k.kind, label: k.kind === 'level' ? 'Reaching a level' : 'A count of ' + k.many }))]}
        error={f['rule.kind']}
      />
      {kind && (
        <Field
          label={kind === 'level' ? 'Level to reach' : 'How many'}
          name="ach-count"
          inputMode="numeric"
          value={ruleCount}
          onValue={setRuleCount}
          hint="Members who reach it are awarded from the job queue; plaza achievements backfill awards those who reached it before."
          error={f['rule.count']}
        />
      )}
      <Submit busy={define.busy}>Define achievement</Submit>
      {said && <span role="status"> {said}</span>}
    </form>
  );
}

function Grant({ items }: { items: Achievement[] }) {
  const [id, setID] = useState(String(items[0]?.id ?? ''));
  const [userId, setUserId] = useState('');
  const [reason, setReason] = useState('');
  const [said, setSaid] = useState('');
  const grant = useAction(async () => {
    setSaid('');
    const uid = count(userId);
    if (!uid) throw invalid({ userId: "must be a member's number (on their profile)" });
    const a = items.find((x) => String(x.id) === id);
    // 201 when it awarded now, 200 when the member held it already: either way they hold it since awardedAt.
    const g = await api<{ awardedAt: string }>(`/api/admin/achievements/${id}/grant`, { method: 'POST', body: withReason({ userId: uid }, reason) });
    setReason('');
    setSaid(`Member #${uid} holds “${a?.name ?? '#' + id}” since ${fullDate(g.awardedAt)}.`);
  });
  const f = grant.fields;
  return (
    <form class="card" onSubmit={submit(grant.run)} noValidate aria-labelledby="grant-h">
      <h2 id="grant-h">Grant by hand</h2>
      <FormError text={grant.error} />
      <SelectField label="Achievement" name="grant-achievement" value={id} onValue={setID} options={items.map((a) => ({ value: String(a.id), label: a.name }))} />
      <Field label="Member number" name="grant-userId" inputMode="numeric" value={userId} onValue={setUserId} hint="From the member's profile address, /users/…" error={f['userId']} />
      <ReasonField name="grant-reason" value={reason} onValue={setReason} error={f['reason']} />
      <Submit busy={grant.busy}>Grant</Submit>
      {said && <span role="status"> {said}</span>}
    </form>
  );
}
