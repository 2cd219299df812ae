package realtime

// ParseFrameForTest exposes the decoder of frames read back from Redis.
func ParseFrameForTest(b []byte) (string, int64, bool) { return parseFrame(b) }
