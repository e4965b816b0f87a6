package basic

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestValidateHash(t *testing.T) {
	t.Parallel()
	salt := base64.RawStdEncoding.EncodeToString([]byte("0123456789abcdef"))
	key := base64.RawStdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	argon := func(params string) string { return "$argon2id$v=19$" + params + "$" + salt + "$" + key }
	bc := bcryptHash(t, "pw", "b")
	for _, tc := range []struct {
		name, hash, err string
	}{
		{"argon2id default", argon("m=65536,t=3,p=2"), ""},
		{"argon2id 1 GiB", argon("m=1048576,t=1,p=1"), ""},
		{"argon2id t=16", argon("m=65536,t=16,p=4"), ""},
		{"generated argon2id", argonPHC(t, "x", 1024, 1, 1), ""},
		{"bcrypt 2a", "$2a" + bc[3:], ""},
		{"bcrypt 2b", bc, ""},
		{"bcrypt 2y", "$2y" + bc[3:], ""},
		{"bcrypt cost 31", "$2b$31" + bc[6:], ""},
		{"empty", "", "argon2id PHC string"},
		{"plaintext", "hunter2", "argon2id PHC string"},
		{"sha256 hex", strings.Repeat("ab", 32), "argon2id PHC string"},
		{"argon2i", "$argon2i$v=19$m=65536,t=3,p=2$" + salt + "$" + key, "only argon2id"},
		{"argon2d", "$argon2d$v=19$m=65536,t=3,p=2$" + salt + "$" + key, "only argon2id"},
		{"argon2id v=16", "$argon2id$v=16$m=65536,t=3,p=2$" + salt + "$" + key, "version 19"},
		{"argon2id without version", "$argon2id$m=65536,t=3,p=2$" + salt + "$" + key, "form"},
		{"argon2id memory over 1 GiB", argon("m=1048577,t=3,p=2"), "memory m: too large"},
		{"argon2id time 17", argon("m=65536,t=17,p=2"), "time t: too large"},
		{"argon2id time 0", argon("m=65536,t=0,p=2"), "time t: not a positive decimal"},
		{"argon2id threads 256", argon("m=65536,t=3,p=256"), "parallelism p: too large"},
		{"argon2id memory below 8 KiB per lane", argon("m=8,t=1,p=2"), "minimum of 8 KiB per lane"},
		{"argon2id params out of order", argon("t=3,m=65536,p=2"), "m=<KiB>,t=<passes>,p=<lanes>"},
		{"argon2id leading zero", argon("m=065536,t=3,p=2"), "not a positive decimal"},
		{"argon2id signed", argon("m=+65536,t=3,p=2"), "not a positive decimal"},
		{"argon2id extra param", argon("m=65536,t=3,p=2,k=1"), "m=<KiB>,t=<passes>,p=<lanes>"},
		{"argon2id padded salt", "$argon2id$v=19$m=65536,t=3,p=2$" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdefg")) + "$" + key, "salt is not base64"},
		{"argon2id short salt", "$argon2id$v=19$m=65536,t=3,p=2$" + base64.RawStdEncoding.EncodeToString([]byte("1234567")) + "$" + key, "salt must be 8 to 64 bytes"},
		{"argon2id short hash", "$argon2id$v=19$m=65536,t=3,p=2$" + salt + "$" + base64.RawStdEncoding.EncodeToString([]byte("short")), "hash must be 16 to 128 bytes"},
		{"argon2id bad hash base64", "$argon2id$v=19$m=65536,t=3,p=2$" + salt + "$!!!!", "hash is not base64"},
		{"argon2id trailing field", argon("m=65536,t=3,p=2") + "$x", "form"},
		{"bcrypt cost 3", "$2b$03" + bc[6:], "cost must be 4 to 31, not 3"},
		{"bcrypt cost 32", "$2b$32" + bc[6:], "cost must be 4 to 31, not 32"},
		{"bcrypt cost not digits", "$2b$x4" + bc[6:], "two digits"},
		{"bcrypt short", bc[:59], "60 characters"},
		{"bcrypt bad alphabet", bc[:59] + "!", "./A-Za-z0-9"},
		{"bcrypt 2x", "$2x" + bc[3:], "argon2id PHC string"},
		{"bcrypt 2", "$2$" + bc[4:], "argon2id PHC string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateHash(tc.hash)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("ValidateHash: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.err)
			}
			if len(tc.hash) > 20 && strings.Contains(err.Error(), tc.hash[len(tc.hash)-16:]) {
				t.Errorf("error %q reveals the hash", err)
			}
		})
	}
}

func TestVerifyPassword(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, hash, password string
		ok                   bool
	}{
		{"argon2id right", argonPHC(t, "pw", 1024, 1, 1), "pw", true},
		{"argon2id wrong", argonPHC(t, "pw", 1024, 1, 1), "pW", false},
		{"argon2id unicode", argonPHC(t, "ü✓密", 1024, 1, 1), "ü✓密", true},
		{"argon2id unicode differently normalized", argonPHC(t, "\u00fc", 1024, 1, 1), "u\u0308", false},
		{"argon2id empty password", argonPHC(t, "", 1024, 1, 1), "", true},
		{"bcrypt right", bcryptHash(t, "pw", "b"), "pw", true},
		{"bcrypt wrong", bcryptHash(t, "pw", "b"), "pw ", false},
		{"bcrypt 2y right", bcryptHash(t, "pw", "y"), "pw", true},
		{"bcrypt unicode", bcryptHash(t, "ü✓密", "a"), "ü✓密", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ok, err := verifyPassword(tc.hash, []byte(tc.password))
			if err != nil || ok != tc.ok {
				t.Fatalf("verify = %v, %v; want %v", ok, err, tc.ok)
			}
		})
	}
}

func FuzzValidateHash(f *testing.F) {
	f.Add("$argon2id$v=19$m=65536,t=3,p=2$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY")
	f.Add("$2b$04$abcdefghijklmnopqrstuuJkQ8i0xQmR0ZrL4Xr7B1c5Ac9iO0qgO")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Add("$2y$99$")
	f.Fuzz(func(t *testing.T, h string) {
		err := ValidateHash(h)
		if err == nil && strings.HasPrefix(h, "$argon2id$") {
			p, perr := parseArgon2id(h)
			if perr != nil {
				t.Fatalf("valid hash does not parse: %v", perr)
			}
			if p.memory > maxArgonMemoryKiB || p.time > maxArgonTime || p.time == 0 || p.threads == 0 {
				t.Fatalf("bounds not enforced: %+v", p)
			}
		}
	})
}

func FuzzDecode(f *testing.F) {
	f.Add("YWxpY2U6cHc=")
	f.Add("YWxpY2U6cHc")
	f.Add("!!")
	f.Add("")
	f.Add(strings.Repeat("QUFB", 300))
	f.Fuzz(func(t *testing.T, payload string) {
		var buf [maxDecoded]byte
		dec, problem := decode(payload, buf[:])
		if problem != "" {
			return
		}
		want, err := base64.StdEncoding.DecodeString(payload)
		if err != nil {
			want, err = base64.RawStdEncoding.DecodeString(payload)
		}
		if err != nil {
			t.Fatalf("decode accepted %q, which is not base64", payload)
		}
		if string(dec) != string(want) {
			t.Fatalf("decode(%q) = %q, want %q", payload, dec, want)
		}
	})
}
