package ctlv2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// node and response are the key API's JSON as etcdctl re-encodes it for
// --output json: every field present except dir, expiration and ttl, in
// this order.
type node struct {
	Key           string     `json:"key"`
	Dir           bool       `json:"dir,omitempty"`
	Value         string     `json:"value"`
	Nodes         []*node    `json:"nodes"`
	CreatedIndex  uint64     `json:"createdIndex"`
	ModifiedIndex uint64     `json:"modifiedIndex"`
	Expiration    *time.Time `json:"expiration,omitempty"`
	TTL           int64      `json:"ttl,omitempty"`
}

type response struct {
	Action   string `json:"action"`
	Node     *node  `json:"node"`
	PrevNode *node  `json:"prevNode"`
	// Index is the X-Etcd-Index header.
	Index uint64 `json:"-"`
}

// keyError is a /v2/keys error answer.
type keyError struct {
	Code    int    `json:"errorCode"`
	Message string `json:"message"`
	Cause   string `json:"cause"`
	Index   uint64 `json:"index"`
}

func (e keyError) Error() string {
	return fmt.Sprintf("%v: %v (%v) [%v]", e.Code, e.Message, e.Cause, e.Index)
}

// errEmptyBody: a long poll ended without an event; the watch asks again.
var errEmptyBody = errors.New("client: response body is empty")

// canonicalPath cleans p but keeps a trailing slash ("/v2/keys/" lists the
// root).
func canonicalPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

func keysURL(ep url.URL, key string) url.URL {
	if key != "" && key[0] != '/' {
		key = "/" + key
	}
	ep.Path = canonicalPath(ep.Path + "/v2/keys" + key)
	return ep
}

func keysRequest(method, key string, query, form url.Values) request {
	return func(ep url.URL) *http.Request {
		u := keysURL(ep, key)
		u.RawQuery = query.Encode()
		var req *http.Request
		if form != nil {
			req, _ = http.NewRequest(method, u.String(), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req, _ = http.NewRequest(method, u.String(), nil)
		}
		return req
	}
}

// keysResult decodes a /v2/keys answer.
func keysResult(resp *http.Response, body []byte) (*response, error) {
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated:
		if len(body) == 0 {
			return nil, errEmptyBody
		}
		var r response
		if err := json.Unmarshal(body, &r); err != nil {
			return nil, errInvalidJSON
		}
		if h := resp.Header.Get("X-Etcd-Index"); h != "" {
			i, err := strconv.ParseUint(h, 10, 64)
			if err != nil {
				return nil, err
			}
			r.Index = i
		}
		return &r, nil
	}
	var e keyError
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, errInvalidJSON
	}
	return nil, e
}

func (c *client) keys(ctx context.Context, build request, oneShot bool) (*response, error) {
	resp, body, err := c.do(ctx, build, oneShot)
	if err != nil {
		return nil, err
	}
	return keysResult(resp, body)
}

func (c *client) get(ctx context.Context, key string, recursive, sorted, quorum bool) (*response, error) {
	q := url.Values{}
	q.Set("recursive", strconv.FormatBool(recursive))
	q.Set("sorted", strconv.FormatBool(sorted))
	q.Set("quorum", strconv.FormatBool(quorum))
	return c.keys(ctx, keysRequest("GET", key, q, nil), false)
}

// prevExist is a set's condition on the key's existence.
type prevExist string

const (
	prevIgnore  prevExist = ""
	prevExists  prevExist = "true"
	prevMissing prevExist = "false"
)

type setOptions struct {
	prevValue string
	prevIndex uint64
	prevExist prevExist
	ttl       time.Duration
	dir       bool
}

func (c *client) set(ctx context.Context, key, value string, o setOptions) (*response, error) {
	q, form := url.Values{}, url.Values{}
	if o.dir {
		q.Set("dir", "true")
	} else {
		if o.prevValue != "" {
			q.Set("prevValue", o.prevValue)
		}
		form.Add("value", value)
	}
	if o.prevIndex != 0 {
		q.Set("prevIndex", strconv.FormatUint(o.prevIndex, 10))
	}
	if o.prevExist != prevIgnore {
		q.Set("prevExist", string(o.prevExist))
	}
	if o.ttl > 0 {
		form.Add("ttl", strconv.FormatUint(uint64(o.ttl.Seconds()), 10))
	}
	return c.keys(ctx, keysRequest("PUT", key, q, form), o.prevExist == prevMissing)
}

func (c *client) createInOrder(ctx context.Context, dir, value string, ttl time.Duration) (*response, error) {
	form := url.Values{}
	form.Add("value", value)
	if ttl > 0 {
		form.Add("ttl", strconv.FormatUint(uint64(ttl.Seconds()), 10))
	}
	return c.keys(ctx, keysRequest("POST", dir, url.Values{}, form), false)
}

type deleteOptions struct {
	prevValue      string
	prevIndex      uint64
	dir, recursive bool
}

func (c *client) delete(ctx context.Context, key string, o deleteOptions) (*response, error) {
	q := url.Values{}
	if o.prevValue != "" {
		q.Set("prevValue", o.prevValue)
	}
	if o.prevIndex != 0 {
		q.Set("prevIndex", strconv.FormatUint(o.prevIndex, 10))
	}
	if o.dir {
		q.Set("dir", "true")
	}
	if o.recursive {
		q.Set("recursive", "true")
	}
	return c.keys(ctx, keysRequest("DELETE", key, q, nil), false)
}

// watcher long-polls a key for its changes, one event per request,
// resuming after the last event seen.
type watcher struct {
	c         *client
	key       string
	recursive bool
	waitIndex uint64
}

func (c *client) watcher(key string, afterIndex uint64, recursive bool) *watcher {
	w := &watcher{c: c, key: key, recursive: recursive}
	if afterIndex != 0 {
		w.waitIndex = afterIndex + 1
	}
	return w
}

func (w *watcher) next(ctx context.Context) (*response, error) {
	for {
		q := url.Values{}
		q.Set("wait", "true")
		q.Set("recursive", strconv.FormatBool(w.recursive))
		if w.waitIndex != 0 {
			q.Set("waitIndex", strconv.FormatUint(w.waitIndex, 10))
		}
		resp, err := w.c.keys(ctx, keysRequest("GET", w.key, q, nil), false)
		if errors.Is(err, errEmptyBody) {
			continue
		}
		if err != nil {
			return nil, err
		}
		w.waitIndex = resp.Node.ModifiedIndex + 1
		return resp, nil
	}
}
