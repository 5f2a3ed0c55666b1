package report

import "testing"

func TestPortString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		p              Port
		plain, arrowed string
	}{
		{Port{PrivatePort: 9000, Type: "tcp"}, "9000/tcp", "9000/tcp"},
		{Port{PublicPort: 8080, PrivatePort: 80, Type: "tcp"}, "0.0.0.0:8080->80/tcp", "0.0.0.0:8080→80/tcp"},
		{Port{IP: "127.0.0.1", PublicPort: 53, PrivatePort: 5353, Type: "udp"}, "127.0.0.1:53->5353/udp", "127.0.0.1:53→5353/udp"},
	}
	for _, c := range cases {
		if got := c.p.String(); got != c.plain {
			t.Errorf("%+v.String() = %q, want %q", c.p, got, c.plain)
		}
		if got := c.p.Format("→"); got != c.arrowed {
			t.Errorf("%+v.Format(→) = %q, want %q", c.p, got, c.arrowed)
		}
	}
}
