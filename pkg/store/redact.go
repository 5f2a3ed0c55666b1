package store

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// redacted replaces every password RedactDSN finds.
const redacted = "***"

// secretKeys are the libpq connection parameters whose value is a secret.
var secretKeys = map[string]bool{"password": true, "sslpassword": true}

// uriScheme matches the start of a URI ("postgres://", "postgresql://"); any
// other string is read as libpq keyword/value pairs.
var uriScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// RedactDSN hides the passwords of a database connection string for logs
// and error messages. It covers every form libpq and pgx accept: the
// password of a URI's userinfo, the password and sslpassword query
// parameters, and keyword/value pairs (password=X, password = X, quoted
// password='a \'b\' c'). Malformed input is redacted on a best-effort basis
// that prefers hiding too much over leaking: an unterminated quoted value is
// hidden up to the end of the string.
func RedactDSN(dsn string) string {
	safe, _ := redactDSN(dsn)
	return safe
}

// redactDSN returns dsn redacted and the secrets it cut out.
func redactDSN(dsn string) (string, []string) {
	var secrets []string
	hide := func(secret string) string {
		secrets = append(secrets, secret)
		return redacted
	}
	if m := uriScheme.FindString(dsn); m != "" {
		return m + redactURIRest(dsn[len(m):], hide), secrets
	}
	return redactKeywordValue(dsn, hide), secrets
}

// redactURIRest redacts what follows "scheme://": [user[:password]@]hosts[/db][?query].
func redactURIRest(rest string, hide func(string) string) string {
	// The userinfo ends at the last '@' before the query. A password with an
	// unescaped '?' puts that '@' after the first '?'; it is taken as the
	// userinfo's end too unless what precedes it looks like a query (has a
	// '='), e.g. ?application_name=a@b.
	head, _, _ := strings.Cut(rest, "?")
	at := strings.LastIndex(head, "@")
	if at < 0 {
		if i := strings.LastIndex(rest, "@"); i >= 0 && !strings.Contains(rest[:i], "=") {
			at = i
		}
	}
	var out strings.Builder
	if at >= 0 {
		user, pw, hasPW := strings.Cut(rest[:at], ":")
		out.WriteString(user)
		if hasPW {
			out.WriteString(":" + hide(pw))
		}
		out.WriteByte('@')
		rest = rest[at+1:]
	}
	base, query, hasQuery := strings.Cut(rest, "?")
	out.WriteString(base)
	if !hasQuery {
		return out.String()
	}
	out.WriteByte('?')
	params := strings.Split(query, "&")
	for i, p := range params {
		k, v, hasValue := strings.Cut(p, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if hasValue && secretKeys[strings.ToLower(k)] {
			params[i] = p[:len(p)-len(v)] + hide(v)
		}
	}
	out.WriteString(strings.Join(params, "&"))
	return out.String()
}

// redactKeywordValue redacts libpq keyword/value pairs, keeping the spacing:
// keyword, optional spaces, '=', optional spaces, then a value either in
// single quotes (backslash escapes a quote or a backslash) or running to the
// next unescaped space.
func redactKeywordValue(s string, hide func(string) string) string {
	var out strings.Builder
	i := 0
	for i < len(s) {
		// Copy spaces, then the keyword.
		j := i
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		k := j
		for k < len(s) && s[k] != '=' && !isSpace(s[k]) {
			k++
		}
		key := s[j:k]
		// Spaces may surround '='.
		e := k
		for e < len(s) && isSpace(s[e]) {
			e++
		}
		if e >= len(s) || s[e] != '=' || key == "" {
			// Not keyword=value (malformed): copy the word and go on.
			out.WriteString(s[i:k])
			if k == i {
				k++ // a lone '=' or space: step over it
				out.WriteString(s[i:k])
			}
			i = k
			continue
		}
		e++
		for e < len(s) && isSpace(s[e]) {
			e++
		}
		v := valueEnd(s, e)
		out.WriteString(s[i:e])
		if secretKeys[strings.ToLower(key)] {
			out.WriteString(hide(s[e:v]))
		} else {
			out.WriteString(s[e:v])
		}
		i = v
	}
	return out.String()
}

// valueEnd returns where the keyword/value value starting at i ends.
func valueEnd(s string, i int) int {
	if i < len(s) && s[i] == '\'' {
		for j := i + 1; j < len(s); j++ {
			switch s[j] {
			case '\\':
				j++
			case '\'':
				return j + 1
			}
		}
		return len(s) // unterminated: the rest is the value
	}
	j := i
	for j < len(s) && !isSpace(s[j]) {
		if s[j] == '\\' {
			j++
		}
		j++
	}
	return min(j, len(s))
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// dsnError is an error whose message has had a connection string's
// passwords removed; Unwrap still reaches the original for errors.Is/As.
type dsnError struct {
	msg string
	err error
}

func (e *dsnError) Error() string { return e.msg }
func (e *dsnError) Unwrap() error { return e.err }

// redactError returns err with every trace of dsn's passwords removed from
// its message. pgx quotes the connection string in parse errors (with its
// own best-effort redaction that misses e.g. "password = 'a b'"), and
// net/url errors quote the whole URL, so the message is scrubbed of the
// connection string itself and of each password value it holds.
func redactError(err error, dsn string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	safe, secrets := redactDSN(dsn)
	msg = strings.ReplaceAll(msg, strconv.Quote(dsn), strconv.Quote(safe))
	msg = strings.ReplaceAll(msg, dsn, safe)
	for _, pw := range secretForms(secrets) {
		msg = strings.ReplaceAll(msg, pw, redacted)
	}
	return &dsnError{msg: msg, err: err}
}

// secretForms lists the ways a secret cut out of a connection string may
// be spelled in a message: as written, percent-decoded, and unquoted.
func secretForms(secrets []string) []string {
	var out []string
	for _, pw := range secrets {
		out = append(out, pw)
		if u, err := url.QueryUnescape(pw); err == nil {
			out = append(out, u)
		}
		if strings.HasPrefix(pw, "'") { // quoted, maybe unterminated
			q := strings.TrimSuffix(pw[1:], "'")
			out = append(out, q, strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(q))
		}
	}
	out = slices.DeleteFunc(out, func(s string) bool { return s == "" })
	// Longest first, so a password is not half-replaced by a shorter one.
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}
