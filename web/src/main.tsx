import { render } from 'preact';
import './styles.css';
import { App } from './App';
import { startRouter } from './router';
import { loadMe } from './session';
import { applyTheme, theme } from './theme';

applyTheme(theme.value);
startRouter();
void loadMe();
const root = document.getElementById('app');
if (root) render(<App />, root);
