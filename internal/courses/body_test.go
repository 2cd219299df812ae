package courses

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// TestRenderRemovesScripts feeds the usual stored-XSS vectors through both
// formats: no script, event handler or javascript:/data: URL comes back,
// and ordinary formatting survives.
func TestRenderRemovesScripts(t *testing.T) {
	r := NewRenderer()
	attacks := []struct{ format, source string }{
		{FormatHTML, `<p>hi</p><script>alert(1)</script>`},
		{FormatHTML, `<img src="x" onerror="alert(1)">`},
		{FormatHTML, `<a href="javascript:alert(1)">click</a>`},
		{FormatHTML, `<a href="JaVaScRiPt:alert(1)">click</a>`},
		{FormatHTML, `<a href="&#106;avascript:alert(1)">click</a>`},
		{FormatHTML, `<iframe src="https://evil.example"></iframe><object data="x"></object>`},
		{FormatHTML, `<svg onload="alert(1)"><script>alert(1)</script></svg>`},
		{FormatHTML, `<p style="background:url(javascript:alert(1))" onclick="alert(1)">x</p>`},
		{FormatHTML, `<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`},
		{FormatHTML, `<scr<script>ipt>alert(1)</script>`},
		{FormatHTML, `<form action="javascript:alert(1)"><input onfocus="alert(1)" autofocus></form>`},
		{FormatMarkdown, "# Title\n\n<script>alert(1)</script>\n\ntext"},
		{FormatMarkdown, "[click](javascript:alert(1))"},
		{FormatMarkdown, "![img](x \"t\") <img src=x onerror=alert(1)>"},
		{FormatMarkdown, "<a href=\"javascript:alert(1)\">raw</a>"},
		{FormatMarkdown, "[x](data:text/html,<script>alert(1)</script>)"},
	}
	for _, a := range attacks {
		got, err := r.Render(a.format, a.source)
		if err != nil {
			t.Fatalf("%s %q: %v", a.format, a.source, err)
		}
		if bad := unsafeHTML(got); bad != "" {
			t.Errorf("%s %q rendered as %q: %s", a.format, a.source, got, bad)
		}
		for _, bad := range []string{"alert(1)</script", "onerror=", "<script"} {
			if strings.Contains(strings.ToLower(got), bad) {
				t.Errorf("%s %q rendered as %q: contains %q", a.format, a.source, got, bad)
			}
		}
	}
	if bad := unsafeHTML(`<a href="x" onclick="y">`); bad == "" {
		t.Fatal("the checker misses an event handler")
	}
	for _, inert := range []string{`<p>javascript: is text here</p>`, `<img src="onA=">`, `<a href="/x?on=1">on=</a>`} {
		if bad := unsafeHTML(inert); bad != "" {
			t.Fatalf("the checker flags %q: %s", inert, bad)
		}
	}
	for _, live := range []string{`<img src=x ONERROR=alert(1)>`, `<a href=" java	script:alert(1)">`, `<p style="x">`, `<svg/onload=1>`, `<script>`} {
		if unsafeHTML(live) == "" {
			t.Fatalf("the checker misses %q", live)
		}
	}

	for _, tc := range []struct{ format, source, want string }{
		{FormatMarkdown, "# Scales\n\nPlay **slowly**.", "<h1>Scales</h1>\n<p>Play <strong>slowly</strong>.</p>"},
		{FormatMarkdown, "[docs](https://example.com/a)", `<a href="https://example.com/a" rel="nofollow noopener" target="_blank">docs</a>`},
		{FormatMarkdown, "| a | b |\n|---|---|\n| 1 | 2 |", "<td>1</td>"},
		{FormatHTML, `<p>Hello <em>there</em></p>`, `<p>Hello <em>there</em></p>`},
	} {
		got, err := r.Render(tc.format, tc.source)
		if err != nil || !strings.Contains(got, tc.want) {
			t.Errorf("%s %q = %q, %v; want it to contain %q", tc.format, tc.source, got, err, tc.want)
		}
	}
	if _, err := r.Render("rtf", "x"); err == nil {
		t.Error("an unknown format rendered")
	}
}

// unsafeHTML names what in out could run script, or "". out is read the
// way a browser reads it (the HTML5 tokenizer of x/net/html), so an
// attribute's value is never taken for an attribute: only tags count,
// with their names, event-handler and style attributes and script URLs.
func unsafeHTML(out string) string {
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			tok := z.Token()
			switch tok.Data {
			case "script", "iframe", "object", "embed", "style", "svg", "math", "form", "input", "base", "meta", "link":
				return "<" + tok.Data + "> in " + tok.String()
			}
			for _, a := range tok.Attr {
				key := strings.ToLower(a.Key)
				val := strings.ToLower(strings.Map(dropSpace, a.Val))
				switch {
				case strings.HasPrefix(key, "on"):
					return "an event handler in " + tok.String()
				case key == "style" || key == "srcdoc" || key == "formaction":
					return key + " in " + tok.String()
				case strings.HasPrefix(val, "javascript:") || strings.HasPrefix(val, "vbscript:") || strings.HasPrefix(val, "data:"):
					return "a script URL in " + tok.String()
				}
			}
		}
	}
}

// dropSpace drops what a browser ignores inside a URL's scheme (spaces,
// tabs, newlines, controls), so "java\tscript:" is caught.
func dropSpace(r rune) rune {
	if r <= ' ' {
		return -1
	}
	return r
}

// FuzzRender checks that no input, in either format, brings back a script
// tag, an event handler or a script URL.
func FuzzRender(f *testing.F) {
	for _, s := range []string{`<script>alert(1)</script>`, `<img src=x onerror=alert(1)>`, `[x](javascript:alert(1))`, "# t\n\n<b>x</b>"} {
		f.Add(s)
	}
	r := NewRenderer()
	f.Fuzz(func(t *testing.T, src string) {
		for _, format := range []string{FormatMarkdown, FormatHTML} {
			out, err := r.Render(format, src)
			if err != nil {
				t.Fatal(err)
			}
			if bad := unsafeHTML(out); bad != "" {
				t.Fatalf("%s %q rendered %q (%s)", format, src, out, bad)
			}
		}
	})
}
