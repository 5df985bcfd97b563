package orgmodel

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxImportRows bounds one bulk import.
const MaxImportRows = 10000

// ImportRow is one line of a bulk import (R-USER-6).
type ImportRow struct {
	Line    int    `json:"line"`
	Email   string `json:"email"`
	Role    string `json:"role"`
	Account string `json:"account,omitempty"`
}

// ImportResult is one row's outcome.
type ImportResult struct {
	Line   int           `json:"line"`
	Email  string        `json:"email"`
	Result string        `json:"result"` // invited, refused
	Rule   string        `json:"rule,omitempty"`
	Error  string        `json:"error,omitempty"`
	SID    InvitationSID `json:"sid,omitempty"`
}

// ParseImportCSV reads a CSV with the header email,role[,account]. Rows
// are numbered by their line in the file. Malformed files (no header, wrong
// columns, too many rows) are refused whole; row-level problems are left to
// ImportUsers so that each row gets its own result.
func ParseImportCSV(r io.Reader) ([]ImportRow, error) {
	cr := csv.NewReader(io.LimitReader(r, 8<<20))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, Invalid("file", "the file is empty; it needs the header email,role[,account]")
	} else if err != nil {
		return nil, Invalid("file", "the file is not valid CSV: %v", err)
	}
	cols := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch h {
		case "email", "role", "account":
			if _, dup := cols[h]; dup {
				return nil, Invalid("file", "the header names column %q twice", h)
			}
			cols[h] = i
		default:
			return nil, Invalid("file", "the header has unknown column %q; it must be email,role[,account]", h)
		}
	}
	if _, ok := cols["email"]; !ok {
		return nil, Invalid("file", "the header has no email column; it must be email,role[,account]")
	}
	var rows []ImportRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, Invalid("file", "line %d is not valid CSV: %v", pe.Line, pe.Err)
			}
			return nil, Invalid("file", "the file could not be read: %v", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rows) == MaxImportRows {
			return nil, Invalid("file", "the file has more than %d rows; split it", MaxImportRows)
		}
		get := func(c string) string {
			if i, ok := cols[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		rows = append(rows, ImportRow{Line: line, Email: get("email"), Role: get("role"), Account: get("account")})
	}
	return rows, nil
}

// ImportUsers invites many people at once (R-USER-6), once an operator
// has enabled bulk import for org. Each row is checked by the same rules as
// InviteUser and committed on its own, so one bad row does not undo the
// good ones.
func (s *Service) ImportUsers(ctx context.Context, a Actor, org OrgSID, rows []ImportRow) ([]ImportResult, error) {
	if err := org.check("org"); err != nil {
		return nil, err
	}
	if len(rows) > MaxImportRows {
		return nil, Invalid("rows", "more than %d rows; split the import", MaxImportRows)
	}
	if err := s.store.Read(ctx, func(tx Tx) error {
		o, err := tx.GetOrg(ctx, org)
		if err != nil {
			return notFoundAs(err, "organization", string(org))
		}
		if _, err := s.authorize(ctx, tx, a, org, permAdmin, "import users"); err != nil {
			return err
		}
		if !o.BulkImportEnabled {
			return Breaks("R-USER-6", KindForbidden, "bulk import is not enabled for this organization; ask the operator to enable it")
		}
		return nil
	}); err != nil {
		return nil, err
	}
	out := make([]ImportResult, 0, len(rows))
	for _, row := range rows {
		res := ImportResult{Line: row.Line, Email: row.Email}
		r, err := s.importRow(ctx, a, org, row)
		if err != nil {
			var re *RuleError
			if !errors.As(err, &re) {
				return out, err // the database failed; stop, rows so far stand
			}
			res.Result, res.Rule, res.Error = "refused", re.Rule, re.Msg
		} else {
			res.Result, res.SID, res.Email = "invited", r.SID, r.Email
		}
		out = append(out, res)
	}
	return out, nil
}

func (s *Service) importRow(ctx context.Context, a Actor, org OrgSID, row ImportRow) (*InviteResult, error) {
	email, err := NormalizeEmail("email", row.Email)
	if err != nil {
		return nil, err
	}
	role := RoleStandard
	if row.Role != "" {
		if role, err = ParseRole("role", strings.ToLower(row.Role)); err != nil {
			return nil, err
		}
	}
	var grants []InviteGrant
	if row.Account != "" {
		if err := CheckSID("account", PrefixAccount, row.Account); err != nil {
			return nil, err
		}
		grants = append(grants, InviteGrant{AccountSID: AccountSID(row.Account), Role: AccountDeveloper})
	}
	var res *InviteResult
	err = s.store.InTx(ctx, func(tx Tx) error {
		r, err := s.inviteTx(ctx, tx, a, org, email, role, grants)
		res = r
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (r ImportRow) String() string { return fmt.Sprintf("line %d (%s)", r.Line, r.Email) }
