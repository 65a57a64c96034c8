// Package registrar keeps where each extension can be reached: it handles
// REGISTER requests that signalling has already authenticated (RFC 3261
// section 10.3, with RFC 5626 +sip.instance and reg-id), keeps the bindings
// in memory, writes them back to the database, sweeps expired ones, and
// answers the B2BUA's question "which contacts ring for this extension?".
//
// The bindings are a write-back cache, like Kamailio's usrloc db_mode 2:
// New loads the live bindings from the database; from then on the memory
// is what Register, Contacts, Bindings, Remove and Sweep read and change,
// and Run writes the changes to the database in batches, at most every
// FlushInterval, coalescing repeated refreshes of a binding into one write,
// and writes what is pending before it returns, so that a Registrar started
// after it finds every binding. A crash loses at most one flush interval of
// changes; phones re-register. Several nodes sharing one PostgreSQL database
// (a future concern) each keep their own memory: with write-back the
// database, and so another node reading it, sees a change up to one flush
// interval later, and a Registrar reads the database only in New, so live
// sharing between nodes needs more than this.
//
// A Registrar is safe for concurrent use. Requests for the same user are
// serialised so that a refresh and a removal cannot interleave.
package registrar
