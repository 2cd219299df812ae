// Lesson bodies are HTML that the server has sanitized (bluemonday's UGC
// policy). The page still never hands a string to the DOM as markup: the
// body is parsed into an inert document (DOMParser runs no script and loads
// nothing) through the one Trusted Types policy that the CSP allows, and
// only allow-listed elements and attributes are copied into the page as
// new nodes. A server bug that let a <script> or an onerror through would
// still not run.

const tags = new Set([
  'a', 'abbr', 'b', 'blockquote', 'br', 'caption', 'code', 'dd', 'del', 'details', 'div', 'dl', 'dt', 'em',
  'figcaption', 'figure', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'input', 'ins', 'kbd', 'li', 'mark',
  'ol', 'p', 'pre', 'q', 's', 'samp', 'small', 'span', 'strike', 'strong', 'sub', 'summary', 'sup', 'table', 'tbody',
  'td', 'tfoot', 'th', 'thead', 'tr', 'u', 'ul',
]);

const attrs: Record<string, string[]> = {
  a: ['href', 'title'],
  img: ['src', 'alt', 'title', 'width', 'height'],
  input: ['type', 'checked', 'disabled'],
  td: ['colspan', 'rowspan', 'align'],
  th: ['colspan', 'rowspan', 'align', 'scope'],
  ol: ['start'],
  '*': ['title', 'lang', 'dir'],
};

/** A URL is kept when it is http(s), mailto or on this site. */
export function safeURL(u: string, forImage = false): boolean {
  const s = u.trim();
  if (s.startsWith('/') && !s.startsWith('//')) return true;
  if (s.startsWith('#')) return !forImage;
  try {
    const p = new URL(s).protocol;
    return p === 'https:' || p === 'http:' || (!forImage && p === 'mailto:');
  } catch {
    return false;
  }
}

interface TTPolicy {
  createHTML(s: string): unknown;
}
let policy: TTPolicy | null | undefined;

function parse(html: string): Document {
  if (policy === undefined) {
    const tt = (window as unknown as { trustedTypes?: { createPolicy(n: string, r: { createHTML(s: string): string }): TTPolicy } }).trustedTypes;
    // The parsed document is inert and only read from below.
    policy = tt ? tt.createPolicy('plaza-lesson', { createHTML: (s) => s }) : null;
  }
  const input = (policy ? policy.createHTML(html) : html) as string;
  return new DOMParser().parseFromString(input, 'text/html');
}

/** The lesson body as nodes built from the allow-list. */
export function safeFragment(html: string): DocumentFragment {
  const out = document.createDocumentFragment();
  copy(parse(html).body, out);
  return out;
}

function copy(from: Node, to: Node): void {
  for (const n of Array.from(from.childNodes)) {
    if (n.nodeType === Node.TEXT_NODE) {
      to.appendChild(document.createTextNode(n.textContent ?? ''));
      continue;
    }
    if (n.nodeType !== Node.ELEMENT_NODE) continue;
    const el = n as Element;
    const tag = el.tagName.toLowerCase();
    if (!tags.has(tag)) {
      // Unknown wrappers keep their text; script, style and the like go whole.
      if (!['script', 'style', 'iframe', 'object', 'embed', 'template', 'noscript', 'svg', 'math', 'frame', 'frameset'].includes(tag)) copy(el, to);
      continue;
    }
    if (tag === 'input' && el.getAttribute('type') !== 'checkbox') continue;
    const made = document.createElement(tag);
    for (const name of [...(attrs[tag] ?? []), ...(attrs['*'] ?? [])]) {
      const v = el.getAttribute(name);
      if (v === null) continue;
      if ((name === 'href' || name === 'src') && !safeURL(v, name === 'src')) continue;
      made.setAttribute(name, v);
    }
    if (tag === 'input') made.setAttribute('disabled', '');
    if (tag === 'a' && /^https?:/i.test(made.getAttribute('href') ?? '')) {
      made.setAttribute('rel', 'nofollow noopener noreferrer');
      made.setAttribute('target', '_blank');
    }
    if (tag === 'img') made.setAttribute('loading', 'lazy');
    copy(el, made);
    to.appendChild(made);
  }
}
