package courses

import (
	"bytes"
	"fmt"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

// Lesson bodies are sanitized when they are written, not when they are read:
// reads are the hot path (served from the cache), and the stored body_html
// is safe whoever reads the table (the API, an export, a future web
// renderer). What the author wrote is kept beside it (body_source), so a
// stricter policy can re-render every body from source.

// Renderer turns an authored body into HTML that is safe to insert into a
// page. It is safe for concurrent use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// NewRenderer returns the renderer: Markdown (CommonMark with GitHub's
// tables, strikethrough, task lists and autolinks) through goldmark, then
// every body, Markdown or HTML, through bluemonday's UGC policy: no
// scripts, no event handlers, no style, no javascript: or data: URLs, links
// get rel="nofollow noopener".
func NewRenderer() *Renderer {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return &Renderer{
		// Raw HTML inside Markdown is passed through to the sanitizer, which
		// removes whatever is unsafe, rather than dropped wholesale.
		md:     goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithUnsafe())),
		policy: p,
	}
}

// Render returns source, written in format, as sanitized HTML.
func (r *Renderer) Render(format, source string) (string, error) {
	var b bytes.Buffer
	switch format {
	case FormatMarkdown:
		if err := r.md.Convert([]byte(source), &b); err != nil {
			return "", fmt.Errorf("courses: markdown: %w", err)
		}
	case FormatHTML:
		b.WriteString(source)
	default:
		return "", fmt.Errorf("courses: unknown body format %q", format)
	}
	return r.policy.Sanitize(b.String()), nil
}
