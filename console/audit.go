package console

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/orgd/orgd/orgmodel"
)

// auditPageSize is how many events one page of the log shows.
const auditPageSize = 50

// auditExportBatch is how many events the CSV export reads at a time.
const auditExportBatch = 500

type auditData struct {
	Events []*orgmodel.AuditEvent
	Names  map[string]string // user SIDs (actors and targets) to their emails
	Older  string            // the query of the next (older) page; "" at the end
	Export string            // the CSV export of the same filter
}

// auditFilter reads the filter form: actor, action (exact, or a prefix
// ending in "."), target, and a time range (UTC).
func auditFilter(q url.Values, org orgmodel.OrgSID) (orgmodel.AuditFilter, error) {
	f := orgmodel.AuditFilter{OrgSID: org, Actor: strings.TrimSpace(q.Get("actor")),
		Action: strings.TrimSpace(q.Get("action")), Target: strings.TrimSpace(q.Get("target"))}
	var err error
	if f.Since, err = parseWhen("since", q.Get("since"), false); err != nil {
		return f, err
	}
	if f.Until, err = parseWhen("until", q.Get("until"), true); err != nil {
		return f, err
	}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			return f, orgmodel.Invalid("before", "before must be an event number")
		}
		f.BeforeSeq = n
	}
	for _, s := range []string{f.Actor, f.Action, f.Target} {
		if len(s) > 256 {
			return f, orgmodel.Invalid("filter", "a filter is at most 256 characters")
		}
	}
	return f, nil
}

// parseWhen reads a datetime-local (or a date) as UTC; a bare date as the
// end of a range means the end of that day.
func parseWhen(field, s string, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		if end {
			t = t.Add(24*time.Hour - time.Millisecond)
		}
		return t, nil
	}
	return time.Time{}, orgmodel.Invalid(field, "%s %q is not a date and time (YYYY-MM-DDThh:mm, UTC)", field, s)
}

// auditPage shows the audit log, newest first, filtered and paged.
func (h *handler) auditPage(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	q := r.URL.Query()
	v := h.newView(w, r, "Audit log", "audit")
	v.Form = q
	d := &auditData{}
	v.Data = d
	f, err := auditFilter(q, me.org)
	if err == nil {
		f.Limit = auditPageSize
		d.Events, err = h.svc.ListAudit(r.Context(), me.actor, f)
	}
	if err != nil {
		v.Err = h.refuse(r, err, "filter")
		v.status = v.Err.Status
		if v.Err.Status == http.StatusNotFound || v.Err.Status == http.StatusForbidden {
			h.errorPage(w, r, err)
			return
		}
		h.render(w, r, "audit.html", v)
		return
	}
	export := url.Values{}
	for _, k := range []string{"actor", "action", "target", "since", "until"} {
		if q.Get(k) != "" {
			export.Set(k, q.Get(k))
		}
	}
	d.Export = "/console/audit.csv"
	if len(export) > 0 {
		d.Export += "?" + export.Encode()
	}
	d.Names = map[string]string{}
	for sid, email := range h.emails(r, me) {
		d.Names[string(sid)] = email
	}
	if len(d.Events) == auditPageSize {
		export.Set("before", strconv.FormatInt(d.Events[len(d.Events)-1].Seq, 10))
		d.Older = "/console/audit?" + export.Encode()
	}
	h.render(w, r, "audit.html", v)
}

// auditCSV streams the filtered log as CSV, newest first, reading it in
// batches so that a long log never sits in memory. Every cell that a
// spreadsheet would read as a formula is neutralised (csvCell).
func (h *handler) auditCSV(w http.ResponseWriter, r *http.Request) {
	me := whoOf(r)
	f, err := auditFilter(r.URL.Query(), me.org)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	f.Limit = auditExportBatch
	// The first batch is read before anything is written, so that a
	// refusal is still a page of its own.
	batch, err := h.svc.ListAudit(r.Context(), me.actor, f)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="orgd-audit-`+string(me.org)+`.csv"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	rc := http.NewResponseController(w)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"seq", "sid", "at", "actor", "via", "remote_addr", "action", "target", "before", "after"})
	for {
		for _, e := range batch {
			_ = cw.Write([]string{
				strconv.FormatInt(e.Seq, 10), csvCell(string(e.SID)), e.At.UTC().Format(time.RFC3339Nano), csvCell(e.Actor),
				csvCell(e.Via), csvCell(e.RemoteAddr), csvCell(e.Action), csvCell(e.Target), csvCell(e.Before), csvCell(e.After),
			})
		}
		cw.Flush()
		if cw.Error() != nil || len(batch) < f.Limit {
			break
		}
		_ = rc.Flush()
		f.BeforeSeq = batch[len(batch)-1].Seq
		if batch, err = h.svc.ListAudit(r.Context(), me.actor, f); err != nil {
			// Headers are sent: end the file with a line that says so; the
			// cause goes to the log.
			ref := h.refuse(r, err, "")
			_ = cw.Write([]string{"", "", "", "", "", "", "export.incomplete", csvCell("reference " + ref.Ref), "", ""})
			cw.Flush()
			return
		}
	}
}

// csvCell neutralises a value a spreadsheet would evaluate (formula
// injection, OWASP): a cell starting with =, +, -, @, tab or carriage
// return gets a leading apostrophe, which spreadsheets show as text.
func csvCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
