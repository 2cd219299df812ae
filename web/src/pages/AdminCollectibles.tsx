import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { optionalCount, rarities, supplyText } from '../catalog';
import { invalid, SelectField } from '../components/Fields';
import { Field, FormError, Submit, submit, useAction } from '../components/Form';
import { Show, useLoad } from '../components/Load';
import { UploadField } from '../components/Upload';
import { credits } from '../gamify';
import type { Achievement, Collectible, List } from '../types';

/** Collectibles (admins): every one with its supply and price, a new one, and editing one. */
export default function AdminCollectibles() {
  const list = useLoad(() => api<List<Collectible>>('/api/collectibles'), []);
  const achievements = useLoad(() => api<List<Achievement>>('/api/achievements'), []);
  const [editing, setEditing] = useState<Collectible | null>(null);
  const achs = achievements.v.state === 'ok' ? achievements.v.data.items : [];
  const achName = (id: number | null) => (id === null ? '' : (achs.find((a) => a.id === id)?.name ?? 'achievement #' + id));
  return (
    <section class="page catalog">
      <h1>Collectibles</h1>
      <p>
        <a href="/collectibles">Open the members' page</a>
      </p>
      <Show v={list.v} what="Collectibles">
        {(l) =>
          l.items.length === 0 ? (
            <p class="muted">No collectibles yet.</p>
          ) : (
            <table class="admin-collectibles">
              <caption class="sr-only">Every collectible</caption>
              <thead>
                <tr>
                  <th scope="col">Collectible</th>
                  <th scope="col">Supply</th>
                  <th scope="col">Price</th>
                  <th scope="col">Granted by</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {l.items.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <strong>{c.name}</strong> <small class="muted">{c.slug}</small> <span class="tag">{c.rarity}</span>
                    </td>
                    <td data-label="Supply">{supplyText(c)}</td>
                    <td data-label="Price">{c.priceCredits === null ? 'Not for sale' : credits(c.priceCredits)}</td>
                    <td data-label="Granted by">{achName(c.achievementId) || '—'}</td>
                    <td>
                      <button type="button" class="small secondary" onClick={() => setEditing(c)} aria-label={`Edit ${c.name}`}>
                        Edit
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
      {editing && (
        <CollectibleForm
          key={'edit-' + editing.id}
          c={editing}
          achievements={achs}
          onSaved={() => list.reload()}
          onClose={() => setEditing(null)}
        />
      )}
      <CollectibleForm key="new" achievements={achs} onSaved={() => list.reload()} />
    </section>
  );
}

/** A new collectible (POST), or one to edit (PATCH: supply, price and achievement may go back to none). */
function CollectibleForm({ c, achievements, onSaved, onClose }: { c?: Collectible; achievements: Achievement[]; onSaved: () => void; onClose?: () => void }) {
  const p = c ? 'edit-' : 'new-';
  const [slug, setSlug] = useState(c?.slug ?? '');
  const [name, setName] = useState(c?.name ?? '');
  const [imageUrl, setImageUrl] = useState(c?.imageUrl ?? '');
  const [rarity, setRarity] = useState(c?.rarity ?? 'common');
  const [supply, setSupply] = useState(c?.supply == null ? '' : String(c.supply));
  const [price, setPrice] = useState(c?.priceCredits == null ? '' : String(c.priceCredits));
  const [ach, setAch] = useState(c?.achievementId == null ? '' : String(c.achievementId));
  const [said, setSaid] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  // Edit opens below the table: take the keyboard there.
  useEffect(() => {
    if (c) heading.current?.focus();
  }, []);
  const save = useAction(async () => {
    setSaid('');
    const s = optionalCount(supply);
    const pr = optionalCount(price);
    const bad: Record<string, string> = {};
    if (s === undefined) bad['supply'] = 'must be a whole number, or empty for unlimited';
    if (pr === undefined) bad['priceCredits'] = 'must be whole credits, or empty when not for sale';
    if (Object.keys(bad).length) throw invalid(bad);
    const fields = { name, imageUrl: imageUrl.trim(), rarity, supply: s, priceCredits: pr, achievementId: ach ? Number(ach) : null };
    if (c) {
      const n = await api<Collectible>('/api/admin/collectibles/' + c.id, { method: 'PATCH', body: fields });
      setSaid(`Saved “${n.name}”.`);
    } else {
      const n = await api<Collectible>('/api/admin/collectibles', { method: 'POST', body: { slug: slug.trim(), ...fields } });
      setSlug('');
      setName('');
      setImageUrl('');
      setSupply('');
      setPrice('');
      setAch('');
      setSaid(`Created “${n.name}”: ${supplyText(n).toLowerCase()}, ${n.priceCredits === null ? 'not for sale' : credits(n.priceCredits)}.`);
    }
    onSaved();
  });
  const f = save.fields;
  return (
    <form class="card form-card" onSubmit={submit(save.run)} noValidate aria-labelledby={p + 'col-h'}>
      <h2 id={p + 'col-h'} ref={heading} tabIndex={-1}>
        {c ? `Edit “${c.name}”` : 'New collectible'}
      </h2>
      <FormError text={save.error} />
      <Field label="Name" name={p + 'name'} value={name} onValue={setName} required maxLength={200} error={f['name']} />
      {!c && <Field label="Slug" name={p + 'slug'} value={slug} onValue={setSlug} maxLength={64} hint="Lowercase letters, digits and dashes, e.g. gold-vinyl." error={f['slug']} />}
      <Field label="Picture link (optional)" name={p + 'imageUrl'} value={imageUrl} onValue={setImageUrl} hint="An https:// link or an /uploads/ path, or upload one below." error={f['imageUrl']} />
      <UploadField id={p + 'image-file'} label="Upload a picture" accept="image/png,image/jpeg,image/gif,image/webp" onDone={(u) => u && setImageUrl(u.url)} />
      <SelectField label="Rarity" name={p + 'rarity'} value={rarity} onValue={setRarity} options={rarities.map((r) => ({ value: r, label: r }))} error={f['rarity']} />
      <Field
        label="Supply"
        name={p + 'supply'}
        inputMode="numeric"
        value={supply}
        onValue={setSupply}
        hint={c ? 'Empty: unlimited. It cannot go below what was handed out.' : 'How many serials exist; empty: unlimited.'}
        error={f['supply']}
      />
      <Field label="Price in credits" name={p + 'price'} inputMode="numeric" value={price} onValue={setPrice} hint="Empty: not for sale (only an achievement grants it)." error={f['priceCredits']} />
      <SelectField
        label="Granted by the achievement"
        name={p + 'achievement'}
        value={ach}
        onValue={setAch}
        options={[{ value: '', label: 'None' }, ...achievements.map((a) => ({ value: String(a.id), label: a.name }))]}
        error={f['achievementId']}
      />
      <div class="row wrap">
        <Submit busy={save.busy}>{c ? 'Save collectible' : 'Create collectible'}</Submit>
        {onClose && (
          <button type="button" class="secondary" onClick={onClose}>
            Close
          </button>
        )}
      </div>
      {said && <p role="status">{said}</p>}
    </form>
  );
}
