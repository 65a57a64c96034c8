// Package audio provides what the PBX's media applications need to work on
// decoded sound: the G.711 and G.722 codecs, a sample-rate converter, WAV
// files in the prompt format (16-bit linear PCM, mono, 8/16/32/48 kHz),
// RFC 4733 telephone events and in-band DTMF detection, tone generation, a
// small jitter buffer for decoded frames and a saturating mixer.
//
// The RTP relay in package media forwards packets without decoding them;
// voicemail, IVR, music on hold and recording need linear PCM, and this
// package turns payloads into samples and back. Everything here is a plain
// value or function over []int16 and []byte so that callers can chain them as
// io.Reader/io.Writer-style pipelines without the package knowing about
// sockets or calls.
//
// Hot-path methods (Encode, Decode, Resampler.Process, ToneDetector.Detect,
// Mix, JitterBuffer.Push and Pop) append to or fill caller-owned slices and do
// not allocate once their buffers have grown to the frame size, because a
// media node runs hundreds of such pipelines at 50 frames a second each.
//
// Samples are signed 16-bit linear PCM in host order. Unless a type says
// otherwise, its values hold per-stream state and are not safe for
// concurrent use: create one per stream and direction.
//
// Dependencies: G.711 uses github.com/zaf/g711's per-sample functions. G.722
// is implemented here from ITU-T Recommendation G.722, as no Go library is
// available to us. WAV, DTMF and the jitter buffer are our own rather than
// emiago/diago's: its WAV reader returns bytes of whatever format the file
// has (uploads must be refused with a reason), its DTMF reader and jitter
// buffer are built on its RTPPacketReader and whole RTP packets rather than
// payloads and decoded frames, its DTMF encoder assumes an 8 kHz clock, and
// importing it would add its WebRTC module graph to go.mod.
package audio
