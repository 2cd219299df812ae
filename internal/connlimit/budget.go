package connlimit

// Budget splits the process's open-file limit nofile: a reserve for
// everything that is not a client connection (database and Redis pools,
// SQLite and upload files, logs), and of the rest, the top band kept for
// priority requests. want, when positive, lowers conns further.
func Budget(nofile uint64, want int) (conns, band int) {
	n := int(min(nofile, 1<<30))
	reserve := min(max(n/10, 64), 1024)
	conns = max(n-reserve, 1)
	if want > 0 && want < conns {
		conns = want
	}
	band = min(max(conns/20, 8), 512, conns/2)
	return conns, band
}
