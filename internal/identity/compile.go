package identity

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// Compile builds the declared identities of a validated configuration.
// env is gateway.environment, the default environment of declared keys.
// Errors are config.FieldErrors with paths from the document root
// ("consumers[1].api_keys[0].sha256").
func Compile(cfg *config.Config) (*Declared, error) {
	d := &Declared{
		Tenants:        make(map[string]*Tenant, len(cfg.Tenants)),
		Consumers:      make(map[string]*Consumer, len(cfg.Consumers)),
		Keys:           map[string]*Key{},
		Basic:          map[string]*BasicCredential{},
		HMACKeys:       map[string]*HMACKey{},
		CertsBySubject: map[string]*CertIdentity{},
		CertsBySHA256:  map[string]*CertIdentity{},
	}
	var errs []error
	fail := func(path, format string, args ...any) { errs = append(errs, config.Fieldf(path, format, args...)) }

	for _, t := range cfg.Tenants {
		d.Tenants[t.ID] = &Tenant{
			ID: t.ID, Name: t.Name, Status: statusOr(t.Status),
			Suspension: suspension(t.Suspension), Source: SourceConfig,
		}
	}
	scopes := newInterner()
	for i, c := range cfg.Consumers {
		path := fmt.Sprintf("consumers[%d]", i)
		d.Consumers[c.ID] = &Consumer{
			ID: c.ID, Name: c.Name, TenantID: c.Tenant, Groups: c.Groups, Metadata: c.Metadata,
			Status: statusOr(c.Status), Suspension: suspension(c.Suspension), Source: SourceConfig,
		}
		for j, kc := range c.APIKeys {
			kpath := fmt.Sprintf("%s.api_keys[%d]", path, j)
			k, err := declaredKey(kc, c.ID, cfg.Gateway.Environment)
			if err != nil {
				var fe *config.FieldError
				if errors.As(err, &fe) {
					fe.Path = kpath + "." + fe.Path
				}
				errs = append(errs, err)
				continue
			}
			if _, dup := d.Keys[k.ID()]; dup {
				fail(kpath+".id", "key id %q is declared twice", k.ID())
				continue
			}
			k.scopes = scopes.intern(kc.Scopes)
			d.Keys[k.ID()] = k
		}
		for j, b := range c.Basic {
			if _, dup := d.Basic[b.Username]; dup {
				fail(fmt.Sprintf("%s.basic[%d].username", path, j), "user name %q is declared twice", b.Username)
				continue
			}
			d.Basic[b.Username] = &BasicCredential{Username: b.Username, ConsumerID: c.ID, Hash: b.PasswordHash}
		}
		for j, h := range c.HMACKeys {
			if _, dup := d.HMACKeys[h.ID]; dup {
				fail(fmt.Sprintf("%s.hmac_keys[%d].id", path, j), "HMAC key id %q is declared twice", h.ID)
				continue
			}
			d.HMACKeys[h.ID] = &HMACKey{ID: h.ID, ConsumerID: c.ID, Secret: []byte(h.Secret)}
		}
		for j, m := range c.MTLS {
			ci := &CertIdentity{Subject: m.Subject, SHA256: strings.ToLower(m.SHA256), ConsumerID: c.ID}
			if ci.SHA256 != "" {
				if _, dup := d.CertsBySHA256[ci.SHA256]; dup {
					fail(fmt.Sprintf("%s.mtls[%d].sha256", path, j), "certificate fingerprint is declared twice")
					continue
				}
				d.CertsBySHA256[ci.SHA256] = ci
			}
			if ci.Subject != "" {
				if _, dup := d.CertsBySubject[ci.Subject]; dup {
					fail(fmt.Sprintf("%s.mtls[%d].subject", path, j), "certificate subject %q is declared twice", ci.Subject)
					continue
				}
				d.CertsBySubject[ci.Subject] = ci
			}
		}
	}
	return d, errors.Join(errs...)
}

// declaredKey builds a key from its declaration; error paths are relative
// to the declaration.
func declaredKey(kc config.ConsumerKey, consumer, gatewayEnv string) (*Key, error) {
	env, id := kc.Environment, kc.ID
	var hash [32]byte
	switch {
	case kc.Key != "":
		p, err := ParseKey(kc.Key)
		if err != nil {
			return nil, config.Fieldf("key", "the key is not a Pinpoint API key: %v", err)
		}
		if kc.ID != "" && kc.ID != p.ID {
			return nil, config.Fieldf("id", "id %q differs from the id inside the key", kc.ID)
		}
		if kc.Environment != "" && kc.Environment != p.Env {
			return nil, config.Fieldf("environment", "environment %q differs from the key's prefix (%s)", kc.Environment, p.Env)
		}
		env, id, hash = p.Env, p.ID, HashKey(kc.Key)
	default:
		sum, err := hex.DecodeString(kc.SHA256)
		if err != nil || len(sum) != 32 {
			return nil, config.Fieldf("sha256", "want the 64 hex digits of the SHA-256 of the whole key")
		}
		copy(hash[:], sum)
	}
	if env == "" {
		env = gatewayEnv
	}
	k := NewKeyRecord(env, id)
	k.ConsumerID, k.declared, k.Hash = consumer, true, hash
	nbf, err := parseTime(kc.NotBefore)
	if err != nil {
		return nil, config.Fieldf("not_before", "%v", err)
	}
	if nbf != 0 {
		k.extra().NotBefore = nbf
	}
	if k.ExpiresAt, err = parseTime(kc.ExpiresAt); err != nil {
		return nil, config.Fieldf("expires_at", "%v", err)
	}
	return k, nil
}

func parseTime(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0, fmt.Errorf("want an RFC 3339 time such as 2027-01-31T00:00:00Z, got %q", s)
	}
	return t.UnixNano(), nil
}

func statusOr(s string) string {
	if s == "" {
		return StatusActive
	}
	return s
}

func suspension(s config.Suspension) Suspension {
	cat := s.Category
	if cat == "" {
		cat = "administrative"
	}
	return Suspension{Reason: s.Reason, Category: cat}
}

// interner shares one backing slice between keys with the same scope set,
// so a million keys with a handful of distinct sets cost a handful of slices.
type interner struct{ sets map[string]*[]string }

func newInterner() *interner { return &interner{sets: map[string]*[]string{}} }

func (in *interner) intern(scopes []string) *[]string {
	if len(scopes) == 0 {
		return nil
	}
	k := strings.Join(scopes, "\x00")
	if s, ok := in.sets[k]; ok {
		return s
	}
	s := append([]string(nil), scopes...)
	in.sets[k] = &s
	return &s
}
