package api

import (
	"net/url"
	"strconv"

	"github.com/orgd/orgd/orgmodel"
)

// page is a list request's window: PageSize items after the SID in
// PageToken ("PA" + SID, keyset), or, without a token, after skipping
// Page×PageSize items.
type page struct {
	size  int
	num   int
	after string // a SID; "" from the start
	skip  int
}

// parsePage reads PageSize, Page and PageToken. prefix is the SID prefix
// the token must carry (AC for accounts, SK for keys, IY for role
// assignments).
func parsePage(q url.Values, def, max int, prefix string) (page, error) {
	p := page{size: def}
	if s := q.Get("PageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > max {
			return p, invalidParam("PageSize", "PageSize must be a whole number from 1 to %d", max)
		}
		p.size = n
	}
	if s := q.Get("Page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 1_000_000 {
			return p, invalidParam("Page", "Page must be a whole number from 0")
		}
		p.num = n
	}
	if s := q.Get("PageToken"); s != "" {
		if len(s) != 36 || s[:2] != "PA" || !orgmodel.ValidSID(prefix, s[2:]) {
			return p, invalidParam("PageToken", "PageToken is not one this API issued")
		}
		p.after = s[2:]
	} else {
		p.skip = p.num * p.size
	}
	return p, nil
}

// want is how many items to fetch after p.after to fill the page and
// know whether another follows.
func (p page) want() int { return p.skip + p.size + 1 }

// cut returns the page's items out of items (fetched with want) and
// whether more follow.
func cut[T any](p page, items []T) ([]T, bool) {
	if p.skip >= len(items) {
		return items[:0], false
	}
	items = items[p.skip:]
	if len(items) > p.size {
		return items[:p.size], true
	}
	return items, false
}

// pageQuery is the query of a paging link: filters, then PageSize, Page
// and PageToken.
func pageQuery(filters url.Values, size, num int, token string) string {
	q := url.Values{}
	for k, v := range filters {
		if len(v) > 0 && v[0] != "" {
			q.Set(k, v[0])
		}
	}
	q.Set("PageSize", strconv.Itoa(size))
	q.Set("Page", strconv.Itoa(num))
	if token != "" {
		q.Set("PageToken", token)
	}
	return q.Encode()
}

// pageURIs is the paging part of a 2010-04-01 list envelope (URIs
// relative to the API's host).
type pageURIs struct {
	FirstPageURI    string  `json:"first_page_uri"`
	End             int     `json:"end"`
	PreviousPageURI *string `json:"previous_page_uri"`
	URI             string  `json:"uri"`
	PageSize        int     `json:"page_size"`
	Start           int     `json:"start"`
	NextPageURI     *string `json:"next_page_uri"`
	Page            int     `json:"page"`
}

// v2010Page fills the envelope of a page of n items, lastSID the last
// one's. Page tokens run forward only (keyset), so previous_page_uri is
// given where it is exact, on the second page (it is the first page), and
// is null elsewhere.
func v2010Page(path string, filters url.Values, p page, n int, more bool, lastSID string, rawQuery string) pageURIs {
	env := pageURIs{
		FirstPageURI: path + "?" + pageQuery(filters, p.size, 0, ""),
		PageSize:     p.size,
		Page:         p.num,
		Start:        p.num * p.size,
	}
	env.URI = path
	if rawQuery != "" {
		env.URI += "?" + rawQuery
	}
	env.End = env.Start
	if n > 0 {
		env.End = env.Start + n - 1
	}
	if more {
		next := path + "?" + pageQuery(filters, p.size, p.num+1, "PA"+lastSID)
		env.NextPageURI = &next
	}
	if p.num == 1 {
		prev := env.FirstPageURI
		env.PreviousPageURI = &prev
	}
	return env
}
