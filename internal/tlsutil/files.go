package tlsutil

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
)

// watchKeyPair watches a PEM certificate (chain) and its private key.
func watchKeyPair(certFile, keyFile, certFlag, keyFlag string) *watched[*tls.Certificate] {
	return newWatched([]string{certFile, keyFile}, []string{certFlag, keyFlag},
		func(data [][]byte) (*tls.Certificate, error) {
			pair, err := tls.X509KeyPair(data[0], data[1])
			if err != nil {
				return nil, fmt.Errorf("%s %s, %s %s: %w", certFlag, certFile, keyFlag, keyFile, err)
			}
			return &pair, nil
		})
}

// watchCAs watches a PEM bundle of trusted CA certificates.
func watchCAs(path, flag string) *watched[*x509.CertPool] {
	return newWatched([]string{path}, []string{flag}, func(data [][]byte) (*x509.CertPool, error) {
		pool, err := parseCAs(data[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", flag, path, err)
		}
		return pool, nil
	})
}

// parseCAs reads every certificate of a PEM bundle. Unlike
// CertPool.AppendCertsFromPEM it reports a certificate that does not parse
// instead of skipping it, and a file without any.
func parseCAs(data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, errors.New("no PEM certificates found")
	}
	return pool, nil
}

// revocationList is the set of serial numbers a CRL file revokes. Like
// etcd, it matches serial numbers whatever the issuer: a CRL file is
// expected to come from the CA the trusted CA file names.
type revocationList map[string]struct{}

func (r revocationList) has(c *x509.Certificate) bool {
	_, ok := r[serialKey(c.SerialNumber)]
	return ok
}

// watchCRL watches a certificate revocation list: DER, or PEM with one or
// more "X509 CRL" blocks.
func watchCRL(path, flag string) *watched[revocationList] {
	return newWatched([]string{path}, []string{flag}, func(data [][]byte) (revocationList, error) {
		rl, err := parseCRL(data[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", flag, path, err)
		}
		return rl, nil
	})
}

func parseCRL(data []byte) (revocationList, error) {
	var ders [][]byte
	if bytes.Contains(data, []byte("-----BEGIN")) {
		for {
			var block *pem.Block
			block, data = pem.Decode(data)
			if block == nil {
				break
			}
			if block.Type == "X509 CRL" {
				ders = append(ders, block.Bytes)
			}
		}
		if len(ders) == 0 {
			return nil, errors.New("no PEM \"X509 CRL\" block found")
		}
	} else {
		ders = [][]byte{data}
	}
	rl := make(revocationList)
	for _, der := range ders {
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			return nil, err
		}
		for _, e := range crl.RevokedCertificateEntries {
			rl[serialKey(e.SerialNumber)] = struct{}{}
		}
	}
	return rl, nil
}

func serialKey(n *big.Int) string { return n.Text(16) }
