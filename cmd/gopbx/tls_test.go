package main

import "crypto/tls"

// insecureTLS trusts any certificate: the test server's is self-signed.
func insecureTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }
