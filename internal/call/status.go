package call

import (
	"sort"

	"github.com/emiago/sipgo/sip"

	"github.com/gopbx/gopbx/internal/pbx"
)

// statusFor maps an error kind to the SIP status the caller gets: the one
// table of this edge.
func statusFor(err error) int {
	switch pbx.ErrorCode(err) {
	case pbx.ENOTFOUND:
		return sip.StatusNotFound
	case pbx.EFORBIDDEN, pbx.EUNAUTHORIZED:
		return sip.StatusForbidden
	case pbx.EUNAVAILABLE:
		return sip.StatusTemporarilyUnavailable
	case pbx.ETOOMANY:
		return sip.StatusServiceUnavailable
	case pbx.EINVALID:
		return sip.StatusBadRequest
	}
	return sip.StatusInternalServerError
}

func reasonFor(code int) string {
	switch code {
	case 404:
		return "Not Found"
	case 403:
		return "Forbidden"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 491:
		return "Request Pending"
	case 500:
		return "Server Internal Error"
	case 501:
		return "Not Implemented"
	case 503:
		return "Service Unavailable"
	case 603:
		return "Decline"
	case 400:
		return "Bad Request"
	case 408:
		return "Request Timeout"
	case 483:
		return "Too Many Hops"
	}
	return "Error"
}

// finalCode picks what the caller hears when every leg failed: busy wins
// (RFC 3261 16.7 prefers 6xx and busy over "not there"), then decline,
// then 480.
func finalCode(codes []int) int {
	best := sip.StatusTemporarilyUnavailable
	for _, c := range codes {
		switch {
		case c == 486 || c == 600:
			return 486
		case c >= 600:
			best = c
		}
	}
	return best
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string) {
	if tx == nil {
		return
	}
	tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
}

func sortInfos(s []SessionInfo) {
	sort.Slice(s, func(i, j int) bool {
		a, b := s[i].Calls[0].StartedAt, s[j].Calls[0].StartedAt
		if a.Equal(b) {
			return s[i].ID < s[j].ID
		}
		return a.Before(b)
	})
}
