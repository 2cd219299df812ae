import { render } from 'preact';
import './styles.css';
import { App } from './App';
import { startRouter } from './router';
import { resolve } from './routes';
import { loadMe } from './session';
import { applyTheme, theme } from './theme';

applyTheme(theme.value);
// Ask for the first page's module now, so that it downloads while the
// shell renders instead of after (App's effect then finds it fetched).
resolve(window.location.pathname)
  .route.load()
  .catch(() => undefined);
startRouter();
void loadMe();
const root = document.getElementById('app');
if (root) render(<App />, root);
