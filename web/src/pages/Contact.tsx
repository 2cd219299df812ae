import { useState } from 'preact/hooks';
import { api } from '../api';
import { Field, FormError, Submit, submit, useAction } from '../components/Form';
import { me } from '../session';

export default function Contact() {
  const [name, setName] = useState(me.value?.displayName || me.value?.username || '');
  const [email, setEmail] = useState(me.value?.email ?? '');
  const [message, setMessage] = useState('');
  const [sent, setSent] = useState(false);
  const act = useAction(async () => {
    await api('/api/contact', { method: 'POST', body: { name, email, message } });
    setSent(true);
  });
  return (
    <section class="page narrow">
      <h1>Contact the team</h1>
      {sent ? (
        <p role="status">Thank you. The team will answer by email.</p>
      ) : (
        <form onSubmit={submit(act.run)} noValidate>
          <FormError text={act.error} />
          <Field label="Your name" name="name" value={name} onValue={setName} autocomplete="name" error={act.fields['name']} />
          <Field label="Email" name="email" type="email" value={email} onValue={setEmail} autocomplete="email" error={act.fields['email']} />
          <Field label="Message" name="message" multiline value={message} onValue={setMessage} maxLength={5000} error={act.fields['message']} />
          <Submit busy={act.busy}>Send</Submit>
        </form>
      )}
    </section>
  );
}
