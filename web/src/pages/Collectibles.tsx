import { useMemo, useState } from 'preact/hooks';
import { api, ApiError, newIdempotencyKey } from '../api';
import { purchaseRefusal, serialText, soldOut, supplyText } from '../catalog';
import { Show, useLoad } from '../components/Load';
import { credits, IntentKey, uncertain } from '../gamify';
import { here } from '../router';
import { me } from '../session';
import type { Collectible, List, Owned, Wallet } from '../types';

/** The collectibles: what is left of each, its price, and buying one with credits (one each). */
export default function Collectibles() {
  const u = me.value;
  const list = useLoad(() => api<List<Collectible>>('/api/collectibles'), []);
  const wallet = useLoad(() => (u ? api<Wallet>('/api/wallet') : Promise.resolve(null)), [u?.id]);
  const mine = useLoad(() => (u ? api<List<Owned>>(`/api/users/${u.id}/collectibles`) : Promise.resolve({ items: [] } as List<Owned>)), [u?.id]);
  const balance = wallet.v.state === 'ok' && wallet.v.data ? wallet.v.data.balance : null;
  const owned = new Map((mine.v.state === 'ok' ? mine.v.data.items : []).map((o) => [o.collectible.id, o]));
  const bought = (o: Owned) => {
    if (mine.v.state === 'ok') mine.set({ ...mine.v.data, items: [o, ...mine.v.data.items] });
    refresh();
  };
  // After a purchase or a refusal (sold out since the page was read), read what is left and the balance again.
  const refresh = () => {
    list.reload();
    wallet.reload();
  };
  return (
    <section class="page catalog">
      <h1>Collectibles</h1>
      {u ? (
        <p class="balance" data-testid="balance">
          Your balance: <strong>{balance === null ? '…' : credits(balance)}</strong> · <a href="/wallet">Buy credits</a> ·{' '}
          <a href={'/users/' + u.id}>Yours on your profile</a>
        </p>
      ) : (
        <p>
          <a href={'/sign-in?next=' + encodeURIComponent(here())}>Sign in</a> to buy collectibles with credits.
        </p>
      )}
      <Show v={list.v} what="Collectibles">
        {(l) =>
          l.items.length === 0 ? (
            <p class="muted">No collectibles yet.</p>
          ) : (
            <ul class="cards-grid collectibles" data-testid="collectibles">
              {l.items.map((c) => (
                <Item key={c.id} c={c} owned={owned.get(c.id)} balance={balance} signedIn={!!u} onBought={bought} onRefused={refresh} />
              ))}
            </ul>
          )
        }
      </Show>
    </section>
  );
}

interface ItemProps {
  c: Collectible;
  owned: Owned | undefined;
  balance: number | null;
  signedIn: boolean;
  onBought: (o: Owned) => void;
  onRefused: () => void;
}

function Item({ c, owned, balance, signedIn, onBought, onRefused }: ItemProps) {
  const intent = useMemo(() => new IntentKey(newIdempotencyKey), []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ text: string; code: string } | null>(null);
  const [got, setGot] = useState('');
  const buy = async () => {
    if (busy) return;
    setBusy(true);
    setError(null);
    setGot('');
    // The body is empty: the key stands for "buy this one", kept while a retry may find the first attempt applied.
    const key = intent.for({ collectible: c.id });
    try {
      const o = await api<Owned>(`/api/collectibles/${c.id}/purchase`, { method: 'POST', idempotencyKey: key });
      intent.settle();
      setGot(`It's yours: ${c.name} ${serialText(o.serial, o.collectible.supply)}.` + (c.priceCredits ? ` ${credits(c.priceCredits)} paid.` : ''));
      onBought(o);
    } catch (e) {
      if (e instanceof ApiError) {
        const retry = uncertain(e.status);
        if (!retry) intent.settle();
        setError({ text: purchaseRefusal(e, c, balance) + (retry ? ' Trying again is safe: you will not pay twice.' : ''), code: e.code });
        if (!retry) onRefused();
      } else {
        setError({ text: (e as Error).message || 'Something went wrong.', code: '' });
      }
    } finally {
      setBusy(false);
    }
  };
  const gone = soldOut(c);
  const short = balance !== null && c.priceCredits !== null && balance < c.priceCredits;
  return (
    <li class={'card collectible rarity-' + c.rarity} data-collectible={c.id}>
      {c.imageUrl && <img class="cover" src={c.imageUrl} alt="" loading="lazy" width={320} height={180} />}
      <h2>{c.name}</h2>
      <p>
        <span class="tag">{c.rarity}</span> <span class={'tag' + (gone ? ' danger' : '')} data-testid="supply">{supplyText(c)}</span>
      </p>
      <p class="price">{c.priceCredits === null ? 'Not for sale: an achievement grants it.' : credits(c.priceCredits)}</p>
      {owned ? (
        <p class="owned" data-testid="owned">
          ✓ Yours: {serialText(owned.serial, owned.collectible.supply)}
        </p>
      ) : (
        signedIn &&
        c.priceCredits !== null && (
          <>
            <button type="button" disabled={busy || gone} aria-busy={busy || undefined} onClick={() => void buy()} aria-describedby={short ? `short-${c.id}` : undefined}>
              {gone ? 'Sold out' : busy ? 'Buying…' : `Buy ${c.name} for ${credits(c.priceCredits)}`}
            </button>
            {short && !gone && (
              <small id={`short-${c.id}`} class="muted">
                {' '}
                You have {credits(balance ?? 0)}.
              </small>
            )}
          </>
        )
      )}
      {got && (
        <p role="status" class="bought">
          {got}
        </p>
      )}
      {error && (
        <p role="alert" class="error" data-code={error.code}>
          {error.text}
          {(error.code === 'insufficient_funds' || error.code === 'payment_required') && (
            <>
              {' '}
              <a href="/wallet">Buy credits</a>
            </>
          )}
        </p>
      )}
    </li>
  );
}
