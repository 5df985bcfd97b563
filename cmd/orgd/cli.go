package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/orgd/orgd/orgmodel"
	"github.com/orgd/orgd/sso/password"
	"github.com/orgd/orgd/store"
)

// Defaults of the settings every verb shares.
const (
	defaultDB      = "sqlite:./orgd.db"
	defaultBaseURL = "http://127.0.0.1:8080"
)

// passwordHasher hashes passwords for every verb and the server. Tests
// swap in password.Fast; nothing else changes it.
var passwordHasher orgmodel.PasswordHasher = password.Default

// command is one verb of the CLI, such as "domain add".
type command struct {
	name     string
	synopsis string // its flags, for usage lines
	summary  string // one sentence: what it does and prints
	// noActor marks verbs that take no --as: they act on no organization
	// (signup, accepting an invitation) or are the operator's alone.
	noActor bool
	// raw marks verbs that open what they need and print their own output
	// (serve); the others get an opened service and print one JSON object.
	raw bool
	// setup defines the verb's flags on f and returns what runs once they
	// are parsed and checked.
	setup func(f *flagSet) action
}

// action runs a parsed verb and returns the object to print.
type action func(ctx context.Context, c *call) (any, error)

// call is what an action works with.
type call struct {
	opts   *options
	stdout io.Writer
	stderr io.Writer
	db     *store.DB
	svc    *orgmodel.Service
	actor  orgmodel.Actor
}

// options are the settings every verb shares, from flags or environment.
type options struct {
	db        string
	keyFile   string
	baseURL   string
	as        string
	dnsServer string
}

// commands lists every verb, grouped by noun, in the order help shows them.
func commands() []*command {
	return slices.Concat(signupCommands, orgCommands, userCommands, accountCommands,
		domainCommands, groupCommands, credentialCommands, opsCommands, dataCommands)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printUsage(stderr)
		return &exitError{2}
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if cmd, _ := lookup(args[1:]); cmd != nil {
				f, _ := cmd.define(getenv, &options{})
				printCommandUsage(stdout, cmd, f)
				return nil
			}
		}
		printUsage(stdout)
		return nil
	}
	cmd, rest := lookup(args)
	if cmd == nil {
		return report(stderr, getenv, unknownCommand(args))
	}
	opts := &options{}
	f, act := cmd.define(getenv, opts)
	if err := f.parse(rest); errors.Is(err, flag.ErrHelp) {
		printCommandUsage(stdout, cmd, f)
		return nil
	} else if err != nil {
		return report(stderr, getenv, err)
	}
	c := &call{opts: opts, stdout: stdout, stderr: stderr, actor: orgmodel.OperatorActor("cli")}
	if opts.as != "" {
		c.actor = orgmodel.Actor{UserSID: orgmodel.UserSID(opts.as), Via: "cli"}
	}
	if !cmd.raw {
		if err := c.open(ctx, slog.New(slog.DiscardHandler)); err != nil {
			return report(stderr, getenv, err)
		}
		defer c.db.Close()
	}
	res, err := act(ctx, c)
	if err != nil {
		return report(stderr, getenv, err)
	}
	if cmd.raw {
		return nil
	}
	if err := writeJSON(stdout, res); err != nil {
		return report(stderr, getenv, err)
	}
	return nil
}

// lookup finds the verb named by the first one to three words of args and
// returns it with the arguments that follow.
func lookup(args []string) (*command, []string) {
	for n := min(3, len(args)); n >= 1; n-- {
		name := strings.Join(args[:n], " ")
		for _, c := range commands() {
			if c.name == name {
				return c, args[n:]
			}
		}
	}
	return nil, nil
}

// unknownCommand explains an unknown verb, listing the verbs of its noun
// when the first word is one.
func unknownCommand(args []string) error {
	var verbs []string
	for _, c := range commands() {
		if rest, ok := strings.CutPrefix(c.name, args[0]+" "); ok {
			verbs = append(verbs, rest)
		}
	}
	if len(verbs) > 0 {
		if len(args) == 1 || strings.HasPrefix(args[1], "-") {
			return &usageError{fmt.Sprintf("%q needs a verb: %s (see 'orgd help')", "orgd "+args[0], strings.Join(verbs, ", "))}
		}
		return &usageError{fmt.Sprintf("unknown command %q; %q takes: %s (see 'orgd help')", "orgd "+args[0]+" "+args[1], "orgd "+args[0], strings.Join(verbs, ", "))}
	}
	return &usageError{fmt.Sprintf("unknown command %q (see 'orgd help')", args[0])}
}

// flagSet wraps flag.FlagSet with required flags and checks that run
// after parsing, so that every command-line mistake is reported the same
// way, naming the flag.
type flagSet struct {
	cmd      *command
	fs       *flag.FlagSet
	opts     *options
	getenv   func(string) string
	required []string
	checks   []func() error
}

func newFlagSet(cmd *command, getenv func(string) string, o *options) *flagSet {
	fs := flag.NewFlagSet("orgd "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := &flagSet{cmd: cmd, fs: fs, opts: o, getenv: getenv}
	fs.StringVar(&o.db, "db", envOr(getenv, "ORGD_DB", defaultDB),
		"the database `DSN`: sqlite:PATH or postgres://… (env ORGD_DB; default "+defaultDB+")")
	fs.StringVar(&o.baseURL, "base-url", envOr(getenv, "ORGD_BASE_URL", defaultBaseURL),
		"the server's public `URL`, which prefixes mailed links (env ORGD_BASE_URL; default "+defaultBaseURL+")")
	f.check(func() error { return checkBaseURL(o.baseURL) })
	fs.StringVar(&o.keyFile, "secret-key-file", getenv("ORGD_SECRET_KEY_FILE"),
		"the `FILE` of the key that seals TOTP secrets, token signing keys and mailed links in the database, made (0600) when missing (env ORGD_SECRET_KEY_FILE; default: the SQLite file's path + .key; PostgreSQL: none, secrets in clear)")
	if !cmd.noActor {
		fs.StringVar(&o.as, "as", "", "act as the user `US…`, with exactly that user's permissions (default: the operator)")
		f.check(func() error {
			if o.as == "" {
				return nil
			}
			return orgmodel.CheckSID("--as", orgmodel.PrefixUser, o.as)
		})
	}
	return f
}

// define returns the flags and action of cmd, for parsing or for help.
func (cmd *command) define(getenv func(string) string, o *options) (*flagSet, action) {
	f := newFlagSet(cmd, getenv, o)
	return f, cmd.setup(f)
}

func (f *flagSet) check(fn func() error) { f.checks = append(f.checks, fn) }

func (f *flagSet) need(name string) { f.required = append(f.required, name) }

// str defines a string flag.
func (f *flagSet) str(name, usage string, required bool) *string {
	if required {
		f.need(name)
	}
	return f.fs.String(name, "", usage)
}

// integer defines an int flag.
func (f *flagSet) integer(name, usage string, required bool) *int {
	if required {
		f.need(name)
	}
	return f.fs.Int(name, 0, usage)
}

// boolean defines a flag that is true when given.
func (f *flagSet) boolean(name, usage string) *bool { return f.fs.Bool(name, false, usage) }

// optBool defines a flag written --name, --name=true or --name=false,
// which stays unset (nil) when not given.
func (f *flagSet) optBool(name, usage string, required bool) **bool {
	v := &triBool{}
	if required {
		f.need(name)
	}
	f.fs.Var(v, name, usage)
	return &v.v
}

// list defines a repeatable string flag.
func (f *flagSet) list(name, usage string) *[]string {
	var vs []string
	f.fs.Func(name, usage, func(s string) error { vs = append(vs, s); return nil })
	return &vs
}

// sidFlag defines a flag holding a SID with prefix, checked after parsing
// (the message names the flag).
func sidFlag[T ~string](f *flagSet, name, prefix, usage string, required bool) *T {
	p := new(T)
	f.fs.Func(name, usage, func(s string) error { *p = T(s); return nil })
	if required {
		f.need(name)
	}
	f.check(func() error {
		if *p == "" && !required {
			return nil
		}
		return orgmodel.CheckSID("--"+name, prefix, string(*p))
	})
	return p
}

// dnsServer defines --dns-server, where domain verification sends its
// TXT queries (env ORGD_DNS_SERVER; default: the system resolver).
func (f *flagSet) dnsServer() {
	f.fs.StringVar(&f.opts.dnsServer, "dns-server", f.getenv("ORGD_DNS_SERVER"),
		"send domain verification TXT look-ups to this DNS server `HOST:PORT` (env ORGD_DNS_SERVER; default: the system resolver)")
	f.check(func() error {
		_, err := newResolver(f.opts.dnsServer)
		return err
	})
}

// triBool is a bool flag that remembers whether it was given.
type triBool struct{ v *bool }

func (b *triBool) String() string {
	if b == nil || b.v == nil {
		return ""
	}
	return strconv.FormatBool(*b.v)
}

func (b *triBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false")
	}
	b.v = &v
	return nil
}

func (b *triBool) IsBoolFlag() bool { return true }

func (f *flagSet) parse(args []string) error {
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		// The flag package writes flags with one dash; orgd's usage uses two.
		return f.usageErr("%s", strings.Replace(err.Error(), " -", " --", 1))
	}
	if f.fs.NArg() > 0 {
		return f.usageErr("unexpected argument %q (flags are written --name value)", f.fs.Arg(0))
	}
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	for _, name := range f.required {
		if !set[name] {
			return f.usageErr("missing required flag --%s", name)
		}
	}
	for _, check := range f.checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (f *flagSet) usageErr(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...) + fmt.Sprintf(" (see 'orgd %s -h')", f.cmd.name)}
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return &usageError{fmt.Sprintf("--base-url %q is not an http(s) URL such as https://orgd.corp.example", s)}
	}
	return nil
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, "orgd — identity governance server and operator CLI\n\n"+
		"usage: orgd VERB [flags]      (orgd help VERB, or orgd VERB -h, lists a verb's flags)\n\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-28s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nEvery verb reads --db or ORGD_DB (default "+defaultDB+"; postgres://… selects PostgreSQL)\n"+
		"and acts as the operator, or with --as US… as that user. Verbs print one JSON object on stdout;\n"+
		"a failure prints {\"error\",\"rule\"} on stderr and exits 2 (invalid input), 3 (refused by a rule,\n"+
		"forbidden or conflicting), 4 (not found) or 1 (internal error).\n")
}

func printCommandUsage(w io.Writer, cmd *command, f *flagSet) {
	fmt.Fprintf(w, "usage: orgd %s %s\n\n%s\n\nflags:\n", cmd.name, cmd.synopsis, cmd.summary)
	f.fs.VisitAll(func(fl *flag.Flag) {
		arg, usage := flag.UnquoteUsage(fl)
		name := "--" + fl.Name
		switch {
		case strings.HasPrefix(arg, "="):
			name += "[" + arg + "]"
		case arg != "":
			name += " " + arg
		}
		if slices.Contains(f.required, fl.Name) {
			usage += " (required)"
		}
		fmt.Fprintf(w, "  %-26s %s\n", name, usage)
	})
}

// open connects to the database (migrating it) and builds the service.
func (c *call) open(ctx context.Context, log *slog.Logger) error {
	res, err := newResolver(c.opts.dnsServer)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, c.opts.db, log)
	if err != nil {
		return &operatorError{"cannot open the database: " + err.Error()}
	}
	c.db = db
	if err := c.useKeys(ctx, log); err != nil {
		db.Close()
		return err
	}
	c.svc = orgmodel.NewService(db, orgmodel.Config{BaseURL: c.opts.baseURL, Hasher: passwordHasher, Resolver: res})
	return nil
}

// useKeys loads the secret key file (made when missing) and has the store
// seal secrets with it, re-sealing what is in clear or under an older key.
// SQLite's default file sits next to the database; PostgreSQL has no
// default, since every replica needs the same file: serve refuses to run
// without one, and a CLI verb without one writes in clear (serve seals it).
func (c *call) useKeys(ctx context.Context, log *slog.Logger) error {
	return useKeys(ctx, c.db, c.opts.db, c.opts.keyFile, log)
}

func useKeys(ctx context.Context, db *store.DB, dsn, path string, log *slog.Logger) error {
	if path == "" {
		p, err := sqlitePath("--db", dsn)
		if err != nil {
			// serve refuses to run without one; a CLI verb writes what it
			// must in clear, and serve seals it when it starts.
			log.Warn("no --secret-key-file: TOTP secrets, token signing keys and mailed links this command writes stay in clear until orgd serve (which needs the key file on PostgreSQL) seals them")
			return nil
		}
		path = p + ".key"
	}
	k, err := store.LoadKeyFile(path, true)
	if err != nil {
		return &operatorError{err.Error()}
	}
	n, err := db.UseKeys(ctx, k)
	if err != nil {
		return &operatorError{"cannot seal the database's secrets: " + err.Error()}
	}
	if n > 0 {
		log.Info("sealed secrets with the secret key", "values", n, "key", k.Primary(), "file", path)
	}
	return nil
}

// writeJSON prints v as one indented JSON object.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// usageError is a malformed command line (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// operatorError is a failure the operator must see as it is: the database
// cannot be opened, the address is taken (exit 1).
type operatorError struct{ msg string }

func (e *operatorError) Error() string { return e.msg }

// exitError is the exit status of a failure run has already reported.
type exitError struct{ code int }

func (e *exitError) Error() string { return "exit status " + strconv.Itoa(e.code) }

// exitCode is the process exit status for run's error.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	}
	return 1
}

// errorBody is the CLI's error format: {"error","rule"} on stderr.
type errorBody struct {
	Error  string `json:"error"`
	Rule   string `json:"rule,omitempty"`
	Ref    string `json:"ref,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// report prints err as the CLI's one JSON error object on w and returns
// the exit status. It is the CLI's only translation of errors: rule
// refusals keep their rule id; anything unexpected gets a generic message
// and a reference (its cause only with ORGD_DEBUG set), never SQL.
func report(w io.Writer, getenv func(string) string, err error) error {
	body, code := describe(err)
	if body.Ref != "" && getenv("ORGD_DEBUG") != "" {
		body.Detail = err.Error()
	}
	b, _ := json.Marshal(body)
	fmt.Fprintf(w, "%s\n", b)
	return &exitError{code}
}

func describe(err error) (errorBody, int) {
	var ue *usageError
	var re *orgmodel.RuleError
	var oe *operatorError
	switch {
	case errors.As(err, &ue):
		return errorBody{Error: ue.msg}, 2
	case errors.As(err, &re):
		return errorBody{Error: re.Msg, Rule: re.Rule}, kindExit(re.Kind)
	case errors.As(err, &oe):
		return errorBody{Error: oe.msg}, 1
	case errors.Is(err, context.Canceled):
		return errorBody{Error: "interrupted"}, 1
	case errors.Is(err, orgmodel.ErrConflict):
		return errorBody{Error: "the change collided with a concurrent one and was not made; try again"}, 3
	case errors.Is(err, orgmodel.ErrRetry):
		return errorBody{Error: "the database stayed busy and the change was not made; try again"}, 1
	case errors.Is(err, orgmodel.ErrNotFound):
		return errorBody{Error: "not found"}, 4
	}
	ref := newRef()
	return errorBody{Error: "internal error (reference " + ref + "; set ORGD_DEBUG=1 to see its cause)", Ref: ref}, 1
}

// kindExit maps an error kind to the exit status: 2 invalid input, 3
// refused (rule, permission, conflict, credential), 4 not found, 1 internal.
func kindExit(k orgmodel.Kind) int {
	switch k {
	case orgmodel.KindInvalid:
		return 2
	case orgmodel.KindNotFound:
		return 4
	case orgmodel.KindInternal:
		return 1
	}
	return 3
}

// newRef returns a reference that ties an error a client saw to its log line.
func newRef() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
