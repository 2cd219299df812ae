import { useMemo, useState } from 'preact/hooks';
import { api, ApiError, missingAPI, newIdempotencyKey } from '../api';
import { Field, FormError, Submit, submit, useAction } from '../components/Form';
import { Show, useLoad } from '../components/Load';
import { fullDate, money } from '../format';
import { credits, IntentKey, uncertain } from '../gamify';
import type { PageProps } from '../routes';
import type { CreditPack, List, Wallet as W, WalletTx } from '../types';

const kinds: Record<WalletTx['kind'], string> = {
  topup: 'Credits bought',
  tip_sent: 'Tip sent',
  tip_received: 'Tip received',
  purchase: 'Purchase',
  refund: 'Refund',
  adjustment: 'Adjustment',
};

/** Balance, transactions, tips and buying credits. Every write carries an Idempotency-Key. */
export default function Wallet({ query }: PageProps) {
  const wallet = useLoad(() => api<W>('/api/wallet'), []);
  const txs = useLoad(() => api<List<WalletTx>>('/api/wallet/transactions?limit=50'), []);
  const back = query.get('checkout');
  return (
    <section class="page narrow">
      <h1>Wallet</h1>
      {back === 'success' && <p role="status" class="card">Thank you: your credits appear as soon as the payment is confirmed.</p>}
      {back === 'cancel' && <p role="status" class="card">The purchase was cancelled; nothing was charged.</p>}
      <Show v={wallet.v} what="The wallet">
        {(w) => (
          <>
            <p class="balance" data-testid="balance">
              Balance: <strong>{credits(w.balance)}</strong>
            </p>
            <p>
              Spend credits on <a href="/collectibles">collectibles</a>.
            </p>
            <Tip to={query.get('to') ?? ''} onDone={() => (wallet.reload(), txs.reload())} />
            <Packs />
            <h2>Transactions</h2>
            <Show v={txs.v} what="Transactions">
              {(l) =>
                l.items.length === 0 ? (
                  <p class="muted">No transactions yet.</p>
                ) : (
                  <table class="txs">
                    <caption class="sr-only">Your transactions, newest first</caption>
                    <thead>
                      <tr>
                        <th scope="col">When</th>
                        <th scope="col">What</th>
                        <th scope="col">Amount</th>
                        <th scope="col">Balance</th>
                      </tr>
                    </thead>
                    <tbody>
                      {l.items.map((t) => (
                        <tr key={t.id}>
                          <td>{fullDate(t.createdAt)}</td>
                          <td>{kinds[t.kind] ?? t.kind}</td>
                          <td class={t.amount < 0 ? 'neg' : 'pos'}>
                            {t.amount > 0 ? '+' : ''}
                            {t.amount}
                          </td>
                          <td>{t.balanceAfter}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )
              }
            </Show>
          </>
        )}
      </Show>
    </section>
  );
}

function Tip({ to, onDone }: { to: string; onDone: () => void }) {
  const [toUserId, setTo] = useState(to);
  const [amount, setAmount] = useState('');
  const [note, setNote] = useState('');
  const [sent, setSent] = useState('');
  const intent = useMemo(() => new IntentKey(newIdempotencyKey), []);
  const tip = useAction(async () => {
    setSent('');
    const body = { toUserId: Number(toUserId), amount: Number(amount), note };
    try {
      await api('/api/wallet/tips', { method: 'POST', body, idempotencyKey: intent.for(body) });
    } catch (e) {
      if (!(e instanceof ApiError && uncertain(e.status))) intent.settle();
      throw e;
    }
    intent.settle();
    setSent(`Sent ${credits(body.amount)}.`);
    setAmount('');
    setNote('');
    onDone();
  });
  return (
    <form class="card" onSubmit={submit(tip.run)} noValidate aria-labelledby="tip-h">
      <h2 id="tip-h">Send a tip</h2>
      <FormError text={tip.error} />
      <Field label="To (member number, from their profile)" name="toUserId" inputMode="numeric" value={toUserId} onValue={setTo} error={tip.fields['toUserId']} />
      <Field label="Credits" name="amount" inputMode="numeric" value={amount} onValue={setAmount} error={tip.fields['amount']} />
      <Field label="Note (optional)" name="note" value={note} onValue={setNote} maxLength={200} error={tip.fields['note']} />
      <Submit busy={tip.busy}>Send tip</Submit>
      {sent && <span role="status"> {sent}</span>}
    </form>
  );
}

function Packs() {
  const { v } = useLoad(() => api<List<CreditPack>>('/api/wallet/packs'), []);
  const intent = useMemo(() => new IntentKey(newIdempotencyKey), []);
  const buy = useAction(async (pack: string) => {
    const body = { item: 'credits', pack };
    try {
      const r = await api<{ url: string; sessionId: string }>('/api/stripe/checkout', { method: 'POST', body, idempotencyKey: intent.for(body) });
      intent.settle();
      window.location.assign(r.url);
    } catch (e) {
      if (!(e instanceof ApiError && uncertain(e.status))) intent.settle();
      if (missingAPI(e)) throw new Error('Buying credits is not available on this server.');
      throw e;
    }
  });
  return (
    <section aria-labelledby="packs-h">
      <h2 id="packs-h">Buy credits</h2>
      <FormError text={buy.error} />
      <Show v={v} what="Credit packs">
        {(l) => (
          <ul class="packs">
            {l.items.map((p) => (
              <li key={p.pack} class="card">
                <strong>{credits(p.credits)}</strong>
                <span>{money(p.priceCents, p.currency)}</span>
                <button type="button" class="small" disabled={buy.busy} onClick={() => void buy.run(p.pack)} aria-label={`Buy ${credits(p.credits)} for ${money(p.priceCents, p.currency)}`}>
                  Buy
                </button>
              </li>
            ))}
          </ul>
        )}
      </Show>
    </section>
  );
}
