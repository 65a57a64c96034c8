// Package mailtest runs a real SMTP server for tests: a mailpit process
// (github.com/axllent/mailpit) on free loopback ports, read back through its
// REST API so that a test can check what a sender delivered, attachments
// byte for byte.
//
// mailpit is a tool, not a module dependency: scripts/deps.sh installs it
// into $(go env GOPATH)/bin, and StartMailpit skips the test, naming the
// install command, when it is found neither there nor on PATH.
package mailtest
