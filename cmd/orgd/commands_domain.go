package main

import (
	"context"

	"github.com/orgd/orgd/orgmodel"
)

func domainFlag(f *flagSet) *string {
	return f.str("domain", "the email `domain`, bare (corp.example)", true)
}

var domainCommands = []*command{
	{
		name: "domain add", synopsis: "--org OR… --domain D",
		summary: "register an email domain; prints the TXT record that proves it (R-DOM-1, R-DOM-2)",
		setup: func(f *flagSet) action {
			org, domain := orgFlag(f), domainFlag(f)
			return func(ctx context.Context, c *call) (any, error) { return c.svc.AddDomain(ctx, c.actor, *org, *domain) }
		},
	},
	{
		name: "domain verify", synopsis: "--org OR… --domain D [--dns-server HOST:PORT]",
		summary: "look up the domain's TXT record now and mark it verified when it holds the token (R-DOM-1)",
		setup: func(f *flagSet) action {
			org, domain := orgFlag(f), domainFlag(f)
			f.dnsServer()
			return func(ctx context.Context, c *call) (any, error) {
				return c.svc.VerifyDomain(ctx, c.actor, *org, *domain)
			}
		},
	},
	{
		name: "domain set", synopsis: "--org OR… --domain D [--signup restricted|auto-enrollment|blocked] [--sso-enforced=true|false]",
		summary: "change a verified domain's sign-up setting and SSO enforcement (R-DOM-3, R-DOM-4, R-DOM-5)",
		setup: func(f *flagSet) action {
			org, domain := orgFlag(f), domainFlag(f)
			signup := f.str("signup", "the sign-up `setting`: restricted, auto-enrollment or blocked", false)
			sso := f.optBool("sso-enforced", "whether its users must log in through the organization's IdP (`=true|false`)", false)
			f.check(func() error {
				if *signup == "" && *sso == nil {
					return f.usageErr("nothing to change: give --signup and/or --sso-enforced")
				}
				return nil
			})
			return func(ctx context.Context, c *call) (any, error) {
				set := orgmodel.DomainSettings{SSOEnforced: *sso}
				if *signup != "" {
					s, err := orgmodel.ParseSignupSetting(*signup)
					if err != nil {
						return nil, err
					}
					set.Signup = &s
				}
				return c.svc.ConfigureDomain(ctx, c.actor, *org, *domain, set)
			}
		},
	},
	onOrg("domain list", "list an organization's domains with their state and TXT records",
		func(ctx context.Context, c *call, org orgmodel.OrgSID) (any, error) {
			ds, err := c.svc.ListDomains(ctx, c.actor, org)
			return listed("domains", ds, err)
		}),
	{
		name: "domain remove", synopsis: "--org OR… --domain D",
		summary: "unregister a domain; what it enforced stops with it",
		setup: func(f *flagSet) action {
			org, domain := orgFlag(f), domainFlag(f)
			return func(ctx context.Context, c *call) (any, error) {
				if err := c.svc.RemoveDomain(ctx, c.actor, *org, *domain); err != nil {
					return nil, err
				}
				name, _ := orgmodel.NormalizeDomain("domain", *domain) // it was accepted, so it normalises
				return map[string]string{"domain": name, "status": "removed"}, nil
			}
		},
	},
}
