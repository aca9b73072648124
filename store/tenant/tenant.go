package tenant

import (
	"fmt"
	"net/http"
)

// Header is the HTTP header that carries the tenant ID.
const Header = "X-Scope-OrgID"

// Default is the tenant of requests that name none.
const Default = "anonymous"

// MaxLength is the longest tenant ID accepted.
const MaxLength = 150

// FromRequest returns the request's tenant, or Default when the header is
// absent. An ID that fails Validate is an error.
func FromRequest(r *http.Request) (string, error) {
	id := r.Header.Get(Header)
	if id == "" {
		return Default, nil
	}
	if err := Validate(id); err != nil {
		return "", err
	}
	return id, nil
}

// Validate checks a tenant ID: 1 to MaxLength characters from
// [A-Za-z0-9!-_.*'()], the set Mimir accepts, so that IDs are safe in
// file names, URLs and Kafka keys.
func Validate(id string) error {
	if id == "" {
		return fmt.Errorf("%s: tenant ID is empty", Header)
	}
	if len(id) > MaxLength {
		return fmt.Errorf("%s: tenant ID is %d characters long, the limit is %d", Header, len(id), MaxLength)
	}
	for i := 0; i < len(id); i++ {
		if !allowed(id[i]) {
			return fmt.Errorf("%s: tenant ID has unsupported character %q at position %d", Header, id[i], i)
		}
	}
	if id == "." || id == ".." {
		return fmt.Errorf("%s: tenant ID %q is reserved", Header, id)
	}
	return nil
}

func allowed(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '!', '-', '_', '.', '*', '\'', '(', ')':
		return true
	}
	return false
}
