package realtime

// ParseFrameForTest exposes the decoder of frames read back from Redis.
func ParseFrameForTest(b []byte) (room string, seq int64, typ string, ok bool) {
	e, ok := parseFrame(b)
	return e.Room, e.Seq, e.Type, ok
}
