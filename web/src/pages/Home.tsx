import { useEffect } from 'preact/hooks';
import { navigate } from '../router';

/** The front door is the list of channels. */
export default function Home() {
  useEffect(() => navigate('/channels', { replace: true }), []);
  return null;
}
