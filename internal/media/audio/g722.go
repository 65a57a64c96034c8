package audio

// G722 is ITU-T G.722 sub-band ADPCM at 64 kbit/s (mode 1: six bits for the
// lower band, two for the upper band), carrying 16 kHz audio in one octet
// per pair of samples.
//
// It is written from the Recommendation's block descriptions (QMF, QUANTL,
// INVQAL, LOGSCL, SCALEL, the predictor blocks RECONS, PARREC, UPPOL1,
// UPPOL2, UPZERO, DELAYA, FILTEP, FILTEZ and PREDIC) with the same 16-bit
// fixed-point arithmetic, because the encoder and the far end's decoder must
// adapt identically or the two drift apart. Input is 16-bit PCM, which the
// transmit QMF scales to the 15-bit sub-band signals of the Recommendation.
//
// A G722 holds the adaptive state of one stream's encoder and decoder; make
// one per stream with NewG722. The codec delay (both QMFs) is 22 samples.
// Encode consumes samples in pairs: an odd final sample is dropped, which
// never happens with frames of whole milliseconds.
type G722 struct {
	enc g722Encoder
	dec g722Decoder
}

var _ Codec = (*G722)(nil)

// NewG722 returns a G.722 codec in the Recommendation's reset state.
func NewG722() *G722 {
	g := &G722{}
	g.Reset()
	return g
}

// Reset returns both the encoder and the decoder to the initial state, as
// after a new SSRC or a re-INVITE that restarts the stream.
func (g *G722) Reset() {
	g.enc = g722Encoder{}
	g.enc.low.det, g.enc.high.det = 32, 8
	g.dec = g722Decoder{}
	g.dec.low.det, g.dec.high.det = 32, 8
}

// Name returns "G722".
func (*G722) Name() string { return "G722" }

// PayloadType returns 9.
func (*G722) PayloadType() uint8 { return PayloadG722 }

// SampleRate returns 16000.
func (*G722) SampleRate() int { return 16000 }

// ClockRate returns 8000, the RTP clock rate RFC 3551 fixed for G.722.
func (*G722) ClockRate() int { return 8000 }

// FrameSamples returns 16 samples per millisecond.
func (*G722) FrameSamples(ms int) int { return 16 * ms }

// Encode appends one octet per pair of samples of pcm to dst.
func (g *G722) Encode(dst []byte, pcm []int16) []byte {
	n := len(dst)
	dst = grow(dst, len(pcm)/2)
	out := dst[n:]
	for i := range out {
		out[i] = g.enc.encode(int32(pcm[2*i]), int32(pcm[2*i+1]))
	}
	return dst
}

// Decode appends two samples per octet of payload to dst.
func (g *G722) Decode(dst []int16, payload []byte) []int16 {
	n := len(dst)
	dst = grow(dst, 2*len(payload))
	out := dst[n:]
	for i, code := range payload {
		out[2*i], out[2*i+1] = g.dec.decode(code)
	}
	return dst
}

// The tables below are those of the Recommendation.
var (
	// g722QMF holds the even-indexed QMF coefficients h0, h2, ... h22; the
	// filter is symmetric, so h(2i+1) = h(22-2i) is the reverse of it.
	g722QMF = [12]int32{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}

	// g722Q6 holds the lower-band decision levels, scaled by 2^12/det.
	g722Q6 = [31]int32{
		0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650,
		714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980,
		2195, 2557, 2919, 0,
	}
	// g722ILN and g722ILP map a decision interval to the six-bit code for a
	// negative and a non-negative difference.
	g722ILN = [31]uint8{
		0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
		16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,
	}
	g722ILP = [31]uint8{
		0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45,
		44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32,
	}
	// g722QM6 is the six-bit inverse quantiser of the lower band (output).
	g722QM6 = [64]int32{
		-136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984,
		-13512, -12280, -11192, -10232, -9360, -8576, -7856, -7192, -6576,
		-6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032,
		-1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512,
		12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944,
		4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432,
		136, -432, -136,
	}
	// g722QM4 is the four-bit inverse quantiser that drives the lower-band
	// predictor, so that a decoder receiving fewer bits stays in step.
	g722QM4 = [16]int32{
		0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896,
		8968, 6288, 4240, 2584, 1200, 0,
	}
	// g722RL42 folds a four-bit code to its magnitude class for LOGSCL.
	g722RL42 = [16]uint8{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
	// g722WL is the lower-band log scale factor multiplier.
	g722WL = [8]int32{-60, -30, 58, 172, 334, 538, 1198, 3042}
	// g722ILB is the antilog table of SCALEL and SCALEH.
	g722ILB = [32]int32{
		2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543,
		2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228,
		3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
	}
	// g722QM2 is the two-bit inverse quantiser of the upper band.
	g722QM2 = [4]int32{-7408, -1616, 7408, 1616}
	// g722RH2 folds a two-bit code to its magnitude class, g722WH is the
	// upper-band log scale factor multiplier.
	g722RH2 = [4]uint8{2, 1, 2, 1}
	g722WH  = [3]int32{0, -214, 798}
)

// sat16 limits x to the 16-bit range, as the Recommendation's arithmetic does.
func sat16(x int32) int32 {
	if x > 32767 {
		return 32767
	}
	if x < -32768 {
		return -32768
	}
	return x
}

// clamp limits x to [lo, hi].
func clamp(x, lo, hi int32) int32 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// g722Band is the adaptive state of one sub-band: quantiser scale factor and
// the pole-zero predictor. Index 0 of the histories is the current sample.
type g722Band struct {
	nb, det   int32 // log scale factor and linear scale factor
	s, sp, sz int32 // predicted signal and its pole and zero parts
	r         [3]int32
	p         [3]int32
	a         [3]int32 // pole coefficients a1, a2 (index 0 unused)
	b         [7]int32 // zero coefficients b1..b6 (index 0 unused)
	d         [7]int32 // quantised differences
}

// scaleFactor is SCALEL (shift 8) and SCALEH (shift 10): the antilog of the
// log scale factor nb.
func scaleFactor(nb, shift int32) int32 {
	m := g722ILB[(nb>>6)&31]
	e := shift - (nb >> 11)
	if e < 0 {
		m <<= uint(-e)
	} else {
		m >>= uint(e)
	}
	return m << 2
}

// adaptLow is LOGSCL and SCALEL for a four-bit lower-band code.
func (b *g722Band) adaptLow(code4 uint8) {
	b.nb = clamp((b.nb*127)>>7+g722WL[g722RL42[code4]], 0, 18432)
	b.det = scaleFactor(b.nb, 8)
}

// adaptHigh is LOGSCH and SCALEH for a two-bit upper-band code.
func (b *g722Band) adaptHigh(code2 uint8) {
	b.nb = clamp((b.nb*127)>>7+g722WH[g722RH2[code2]], 0, 22528)
	b.det = scaleFactor(b.nb, 10)
}

// predict runs the predictor blocks on the quantised difference d: it
// reconstructs the signal, adapts the pole and zero coefficients by the sign
// algorithm, shifts the histories and computes the next prediction s.
func (b *g722Band) predict(d int32) {
	// RECONS, PARREC.
	b.d[0] = d
	b.r[0] = sat16(b.s + d)
	b.p[0] = sat16(b.sz + d)
	sg0, sg1, sg2 := b.p[0]>>15, b.p[1]>>15, b.p[2]>>15

	// UPPOL2: a2 leaks towards zero and follows the sign correlation of p.
	f := sat16(b.a[1] << 2)
	if sg0 == sg1 {
		f = -f
	}
	f = min(f, 32767)
	a2 := (f >> 7) + (b.a[2]*32512)>>15
	if sg0 == sg2 {
		a2 += 128
	} else {
		a2 -= 128
	}
	a2 = clamp(a2, -12288, 12288)

	// UPPOL1, limited so that the pole pair stays stable.
	a1 := (b.a[1] * 32640) >> 15
	if sg0 == sg1 {
		a1 += 192
	} else {
		a1 -= 192
	}
	a1 = sat16(a1)
	lim := sat16(15360 - a2)
	a1 = clamp(a1, -lim, lim)

	// UPZERO, then DELAYA for the zero section. The signs of d and of the
	// past differences are random, so the step's sign is computed without
	// a branch: m is -1 when the signs differ, and (step^m)-m is -step.
	var step int32
	if d != 0 {
		step = 128
	}
	for i := 6; i >= 1; i-- {
		m := (b.d[i] ^ d) >> 31
		b.b[i] = sat16((b.b[i]*32640)>>15 + (step ^ m) - m)
	}
	copy(b.d[1:], b.d[:6])

	// DELAYA for the pole section.
	b.r[2], b.r[1] = b.r[1], b.r[0]
	b.p[2], b.p[1] = b.p[1], b.p[0]
	b.a[1], b.a[2] = a1, a2

	// FILTEP, FILTEZ, PREDIC.
	b.sp = sat16((b.a[1]*sat16(b.r[1]+b.r[1]))>>15 + (b.a[2]*sat16(b.r[2]+b.r[2]))>>15)
	var sz int32
	for i := 1; i <= 6; i++ {
		sz += (b.b[i] * sat16(b.d[i]+b.d[i])) >> 15
	}
	b.sz = sat16(sz)
	b.s = sat16(b.sp + b.sz)
}

// g722Encoder is the transmit QMF and the two sub-band ADPCM encoders.
type g722Encoder struct {
	x         [48]int32 // input history: a ring of 24 stored twice
	pos       int       // index of the oldest sample in x
	low, high g722Band
}

// encode codes the next two input samples into one octet.
func (e *g722Encoder) encode(s0, s1 int32) byte {
	// Transmit QMF: split into the 0-4 kHz and 4-8 kHz bands at 8 kHz.
	// The history is a ring stored twice, so the 24 newest samples are
	// always contiguous (oldest first) without shifting the array.
	p := e.pos
	e.x[p], e.x[p+24], e.x[p+1], e.x[p+25] = s0, s0, s1, s1
	p += 2
	if p == 24 {
		p = 0
	}
	e.pos = p
	x := (*[24]int32)(e.x[p : p+24])
	var xa, xb int32
	for i := 0; i < 12; i++ {
		xa += x[2*i+1] * g722QMF[11-i]
		xb += x[2*i] * g722QMF[i]
	}
	xl, xh := (xa+xb)>>14, (xa-xb)>>14

	// Lower band: SUBTRA, QUANTL, INVQAL, LOGSCL, SCALEL, predictor.
	lo := &e.low
	el := sat16(xl - lo.s)
	mag := el
	if el < 0 {
		mag = -(el + 1)
	}
	// QUANTL: the first decision level above mag, by binary search over
	// the monotonic levels 1..29 (30 when mag is above them all).
	i, j := 1, 30
	for i < j {
		m := int(uint(i+j) >> 1)
		if mag < (g722Q6[m]*lo.det)>>12 {
			j = m
		} else {
			i = m + 1
		}
	}
	il := g722ILP[i]
	if el < 0 {
		il = g722ILN[i]
	}
	dl := (lo.det * g722QM4[il>>2]) >> 15
	lo.adaptLow(il >> 2)
	lo.predict(dl)

	// Upper band: SUBTRA, QUANTH, INVQAH, LOGSCH, SCALEH, predictor.
	hi := &e.high
	eh := sat16(xh - hi.s)
	mag = eh
	if eh < 0 {
		mag = -(eh + 1)
	}
	large := mag >= (564*hi.det)>>12
	var ih uint8
	switch {
	case eh < 0 && large:
		ih = 0
	case eh < 0:
		ih = 1
	case large:
		ih = 2
	default:
		ih = 3
	}
	dh := (hi.det * g722QM2[ih]) >> 15
	hi.adaptHigh(ih)
	hi.predict(dh)

	return ih<<6 | il
}

// g722Decoder is the two sub-band ADPCM decoders and the receive QMF.
type g722Decoder struct {
	xd, xs    [24]int32 // difference and sum of the bands: rings stored twice
	pos       int       // index of the oldest entry in xd and xs
	low, high g722Band
}

// decode turns one octet into the next two output samples.
func (d *g722Decoder) decode(code byte) (int16, int16) {
	il, ih := code&63, code>>6

	// Lower band: the six-bit inverse quantiser gives the output, the
	// four-bit one drives the adaptation as in the encoder.
	lo := &d.low
	rl := clamp(lo.s+(lo.det*g722QM6[il])>>15, -16384, 16383)
	dl := (lo.det * g722QM4[il>>2]) >> 15
	lo.adaptLow(il >> 2)
	lo.predict(dl)

	hi := &d.high
	dh := (hi.det * g722QM2[ih]) >> 15
	rh := clamp(hi.s+dh, -16384, 16383)
	hi.adaptHigh(ih)
	hi.predict(dh)

	// Receive QMF: interpolate both bands back to 16 kHz.
	p := d.pos
	d.xd[p], d.xd[p+12] = rl-rh, rl-rh
	d.xs[p], d.xs[p+12] = rl+rh, rl+rh
	p++
	if p == 12 {
		p = 0
	}
	d.pos = p
	xd := (*[12]int32)(d.xd[p : p+12]) // oldest first
	xs := (*[12]int32)(d.xs[p : p+12])
	var o0, o1 int32
	for k := 0; k < 12; k++ {
		o0 += xd[k] * g722QMF[11-k]
		o1 += xs[k] * g722QMF[k]
	}
	return int16(sat16(o0 >> 11)), int16(sat16(o1 >> 11))
}
