// Package registrar keeps where each extension can be reached: it handles
// REGISTER requests that signalling has already authenticated (RFC 3261
// section 10.3, with RFC 5626 +sip.instance and reg-id), stores the bindings
// in the database, which is the truth, sweeps expired ones, and answers the
// B2BUA's question "which contacts ring for this extension?".
//
// A Registrar is safe for concurrent use. Requests for the same user are
// serialised so that a refresh and a removal cannot interleave.
package registrar
