package main

// The container image is built FROM scratch: no /etc/ssl. This bundle of
// the Mozilla CA roots is used only when the system has none of its own
// (crypto/x509's fallback), so TLS to a real VOSS or Unity Connection
// works in the image; --ca-file adds a private CA either way.
import _ "golang.org/x/crypto/x509roots/fallback"
