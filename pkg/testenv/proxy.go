package testenv

import (
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy is a TCP proxy in front of the test PostgreSQL server that a test
// controls, to fake outages without touching the server other tests share:
// Freeze stops moving bytes (what a SIGSTOPped server or a silent network
// partition looks like: connections open, nothing answers), Refuse closes
// the port and every connection (a stopped server), Resume restores it.
type Proxy struct {
	t      testing.TB
	target string
	addr   string

	mu     sync.Mutex
	cond   *sync.Cond
	frozen bool
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

// NewProxy starts a proxy to the server of dbURL and returns it with dbURL
// rewritten to go through it. It stops when the test ends.
func NewProxy(t testing.TB, dbURL string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil || u.Host == "" {
		t.Fatalf("proxy: %q is not a postgres:// URL", dbURL)
	}
	p := &Proxy{t: t, target: u.Host, conns: map[net.Conn]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	p.listen("127.0.0.1:0")
	u.Host = p.Addr()
	t.Cleanup(func() { p.Refuse(); p.Resume(false) })
	return p, u.String()
}

func (p *Proxy) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatalf("proxy listen: %v", err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go p.accept(ln)
}

func (p *Proxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(c, s)
		go p.pipe(s, c)
	}
}

// pipe copies src to dst, holding every chunk while the proxy is frozen.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer func() { dst.Close(); src.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		for p.frozen {
			p.cond.Wait()
		}
		p.mu.Unlock()
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or a broken side: close both
		}
	}
}

// Addr is the proxy's listen address.
func (p *Proxy) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// Freeze stops forwarding: connections stay open, nothing answers.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	p.frozen = true
	p.mu.Unlock()
}

// Refuse closes the port and every connection through it: new connections
// are refused and open ones break.
func (p *Proxy) Refuse() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Resume forwards again (after Freeze) and reopens the port on the same
// address (after Refuse) unless reopen is false.
func (p *Proxy) Resume(reopen bool) {
	p.mu.Lock()
	p.frozen = false
	p.cond.Broadcast()
	closed := p.ln == nil
	p.mu.Unlock()
	if closed && reopen {
		p.listen(p.Addr())
	}
}
