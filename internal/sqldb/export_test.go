package sqldb

// IsPrepared reports whether the pool keeps query prepared.
func (p *Pool) IsPrepared(query string) bool {
	_, ok := p.stmts.Load(query)
	return ok
}
