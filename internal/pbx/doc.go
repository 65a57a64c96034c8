// Package pbx holds the nouns that several gopbx packages share: identifiers,
// tenants, roles and the error kinds every edge maps to a protocol status.
// It has no behaviour beyond parsing and formatting its own types, and it
// imports nothing of gopbx, so every other package may depend on it.
package pbx
