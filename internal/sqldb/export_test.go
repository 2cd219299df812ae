package sqldb

// IsPrepared reports whether the pool keeps query prepared.
func (p *Pool) IsPrepared(query string) bool {
	_, ok := p.stmts.Load(query)
	return ok
}

// Pending reports how many calls wait for g's next batch.
func (g *Group) Pending() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.pending)
}
