//go:build !opus

package audio

// Opus returns a factory of per-stream Opus codecs, and false here: gopbx
// was built without the opus tag, which keeps the default build free of
// cgo and libopus (see opus.go). Calls between two Opus phones are still
// relayed without decoding; only the apps cannot answer Opus-only callers.
func Opus() (func() Codec, bool) { return nil, false }
