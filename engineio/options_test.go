package engineio

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sockio/sockio/engineio/packet"
)

func get(t *testing.T, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestAllowRequestRefuses(t *testing.T) {
	_, hs, _, _ := newServer(t, Options{AllowRequest: func(r *http.Request) error {
		if r.Header.Get("X-Token") != "ok" {
			return errors.New("no token")
		}
		return nil
	}})
	res, body := get(t, hs.URL+"/?EIO=4&transport=polling", nil)
	if res.StatusCode != 403 || body != `{"code":4,"message":"no token"}` {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	res, body = get(t, hs.URL+"/?EIO=4&transport=polling", http.Header{"X-Token": {"ok"}})
	if res.StatusCode != 200 || !strings.HasPrefix(body, `0{"sid":`) {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
}

func TestTransportsOption(t *testing.T) {
	_, hs, _, _ := newServer(t, Options{Transports: []string{WebSocket}})
	res, body := get(t, hs.URL+"/?EIO=4&transport=polling", nil)
	if res.StatusCode != 400 || body != `{"code":0,"message":"Transport unknown"}` {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_, open, _ := ws.ReadMessage()
	if !strings.Contains(string(open), `"upgrades":[]`) {
		t.Fatalf("open %s", open)
	}
}

func TestDisableUpgrades(t *testing.T) {
	_, hs, _, _ := newServer(t, Options{DisableUpgrades: true})
	_, body := get(t, hs.URL+"/?EIO=4&transport=polling", nil)
	if !strings.Contains(body, `"upgrades":[]`) {
		t.Fatalf("open %s", body)
	}
}

func TestCookie(t *testing.T) {
	_, hs, _, _ := newServer(t, Options{Cookie: &Cookie{HTTPOnly: true}})
	res, body := get(t, hs.URL+"/?EIO=4&transport=polling", nil)
	c := res.Cookies()
	if len(c) != 1 || c[0].Name != "io" || !strings.Contains(body, c[0].Value) || !c[0].HttpOnly || c[0].Path != "/" {
		t.Fatalf("cookies %v for %s", c, body)
	}
}

func TestPerMessageDeflate(t *testing.T) {
	_, hs, sessions, recs := newServer(t, Options{PerMessageDeflate: &PerMessageDeflate{Threshold: 64}, PingInterval: time.Hour})
	d := websocket.Dialer{EnableCompression: true}
	ws, res, err := d.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if ext := res.Header.Get("Sec-Websocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
		t.Fatalf("extension not negotiated: %q", ext)
	}
	s, rec := <-sessions, <-recs
	_, _, _ = ws.ReadMessage() // open
	big := strings.Repeat("compressible ", 200)
	_ = s.Send(SendOptions{}, packet.Packet{Type: packet.Message, Data: []byte(big)})
	_, got, err := ws.ReadMessage()
	if err != nil || string(got) != "4"+big {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("4"+big))
	deadline := time.Now().Add(5 * time.Second)
	for {
		rec.mu.Lock()
		n := len(rec.msgs)
		rec.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("compressed message from the client not received")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if rec.msgs[0] != big {
		t.Fatal("message changed")
	}
}

// The hand-written open packet must be the JSON encoding/json would write
// for the same fields.
func TestAppendOpenMatchesJSON(t *testing.T) {
	for _, o := range []Options{
		{},
		{PingInterval: 1500 * time.Millisecond, PingTimeout: 7 * time.Second, MaxHTTPBufferSize: 1 << 40},
	} {
		srv := NewServer(o)
		for _, offer := range []bool{false, true} {
			sid := newID()
			upgrades := []string{}
			if offer {
				upgrades = append(upgrades, WebSocket)
			}
			want, err := json.Marshal(struct {
				SID          string   `json:"sid"`
				Upgrades     []string `json:"upgrades"`
				PingInterval int64    `json:"pingInterval"`
				PingTimeout  int64    `json:"pingTimeout"`
				MaxPayload   int64    `json:"maxPayload"`
			}{sid, upgrades, srv.opts.PingInterval.Milliseconds(), srv.opts.PingTimeout.Milliseconds(), srv.opts.MaxHTTPBufferSize})
			if err != nil {
				t.Fatal(err)
			}
			if got := srv.appendOpen(nil, sid, offer); string(got) != string(want) {
				t.Fatalf("open %s, want %s", got, want)
			}
		}
	}
}
