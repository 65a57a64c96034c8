package audio

// Mix sets each sample of dst to the sum of the samples at the same index
// in srcs, saturated to the 16-bit range, for mixed recordings and
// conference bridges. A source shorter than dst counts as silence after its
// end. dst may be one of srcs, so Mix(dst, dst, other) adds other into dst.
// Sums are formed in 32 bits before saturating, so the order of the sources
// does not matter and intermediate overflow cannot clip.
func Mix(dst []int16, srcs ...[]int16) {
	switch len(srcs) {
	case 0:
		clear(dst)
		return
	case 1:
		n := copy(dst, srcs[0])
		clear(dst[n:])
		return
	case 2:
		a, b := srcs[0], srcs[1]
		if len(a) >= len(dst) && len(b) >= len(dst) {
			a, b = a[:len(dst)], b[:len(dst)]
			for i := range dst {
				dst[i] = int16(sat16(int32(a[i]) + int32(b[i])))
			}
			return
		}
	}
	for i := range dst {
		var sum int32
		for _, s := range srcs {
			if i < len(s) {
				sum += int32(s[i])
			}
		}
		dst[i] = int16(sat16(sum))
	}
}
