package orgmodel

import "time"

// Role is a user's role in its organization (R-ROLE-1).
type Role string

const (
	RoleOwner         Role = "owner"
	RoleAdministrator Role = "administrator"
	RoleStandard      Role = "standard"
)

// ParseRole accepts the organization roles a user may be given by invitation
// or role change; Owner is never given, only transferred (R-ROLE-4).
func ParseRole(field, s string) (Role, error) {
	switch Role(s) {
	case RoleAdministrator, RoleStandard:
		return Role(s), nil
	case "admin":
		return RoleAdministrator, nil
	case RoleOwner:
		return "", Breaks("R-ROLE-4", KindInvalid, "the Owner role is never assigned; use an ownership transfer")
	}
	return "", Invalid(field, "%s %q is not a role (administrator or standard)", field, s)
}

// AccountRole is the access a user is granted on one account (R-ROLE-3).
type AccountRole string

const (
	AccountAdministrator AccountRole = "administrator"
	AccountDeveloper     AccountRole = "developer"
	AccountBilling       AccountRole = "billing"
	AccountSupport       AccountRole = "support"
)

// ParseAccountRole accepts an account-scope role; "" means developer.
func ParseAccountRole(field, s string) (AccountRole, error) {
	switch AccountRole(s) {
	case "":
		return AccountDeveloper, nil
	case AccountAdministrator, AccountDeveloper, AccountBilling, AccountSupport:
		return AccountRole(s), nil
	case "admin":
		return AccountAdministrator, nil
	}
	return "", Invalid(field, "%s %q is not an account role (administrator, developer, billing or support)", field, s)
}

// Built-in role SIDs, as Twilio numbers them.
const (
	RoleSIDOwner         RoleSID = "IX00000000000000000000000000000101"
	RoleSIDAdministrator RoleSID = "IX00000000000000000000000000000102"
	RoleSIDDeveloper     RoleSID = "IX00000000000000000000000000000103"
	RoleSIDBilling       RoleSID = "IX00000000000000000000000000000104"
	RoleSIDSupport       RoleSID = "IX00000000000000000000000000000105"
)

// Org is an organization: the top of the hierarchy (R-HIER-1).
type Org struct {
	SID               OrgSID     `json:"sid"`
	FriendlyName      string     `json:"friendly_name"`
	OwnerSID          UserSID    `json:"owner_sid"`
	AccountLimit      int        `json:"account_limit"`
	BAAAt             *time.Time `json:"baa_at,omitempty"`
	BulkImportEnabled bool       `json:"bulk_import_enabled"`
	CreatedAt         time.Time  `json:"date_created"`
	UpdatedAt         time.Time  `json:"date_updated"`
}

// DefaultAccountLimit is R-HIER-3's default number of managed accounts.
const DefaultAccountLimit = 10

// UserStatus is a managed user's state.
type UserStatus string

const (
	UserActive   UserStatus = "active"
	UserInactive UserStatus = "inactive" // deactivated (SCIM active=false): cannot log in
)

// User is a login (R-USER-1) and its one membership (R-USER-2).
type User struct {
	SID         UserSID    `json:"sid"`
	Email       string     `json:"email"`
	OrgSID      OrgSID     `json:"organization_sid"`
	Role        Role       `json:"role"`
	Status      UserStatus `json:"status"`
	GivenName   string     `json:"given_name,omitempty"`
	FamilyName  string     `json:"family_name,omitempty"`
	DisplayName string     `json:"display_name,omitempty"`
	ExternalID  string     `json:"external_id,omitempty"`
	Locale      string     `json:"locale,omitempty"`
	Timezone    string     `json:"timezone,omitempty"`
	// Extra holds attributes the model does not interpret (the SCIM
	// enterprise extension, for example), as a JSON object.
	Extra string `json:"-"`
	// Version changes on every write; SCIM uses it as the ETag.
	Version int64 `json:"version"`

	PasswordHash string `json:"-"` // argon2id PHC string; "" when no password works
	TOTPSecret   string `json:"-"` // base32; "" when no second factor is enrolled
	// MFAEnrolRequired forces enrolment of a second factor at the next
	// login (R-USER-5).
	MFAEnrolRequired bool `json:"mfa_enrol_required"`

	CreatedAt time.Time `json:"date_created"`
	UpdatedAt time.Time `json:"date_updated"`
}

// Domain returns the domain part of the user's email.
func (u *User) Domain() string { return EmailDomain(u.Email) }

// Relation is how an account relates to an organization (R-ACCT-1).
type Relation string

const (
	RelationManaged     Relation = "managed"
	RelationIndependent Relation = "independent"
	RelationPending     Relation = "pending"
	RelationSubaccount  Relation = "subaccount" // for listings: an account under a managed parent
)

// Usage is what a new account is for (R-ACCT-2).
type Usage string

const (
	UsageTwilio Usage = "twilio"
	UsageFlex   Usage = "flex"
)

// ParseUsage accepts twilio or flex; "" means twilio.
func ParseUsage(s string) (Usage, error) {
	switch Usage(s) {
	case "":
		return UsageTwilio, nil
	case UsageTwilio, UsageFlex:
		return Usage(s), nil
	}
	return "", Invalid("usage", "usage %q is not twilio or flex", s)
}

// AccountType is Twilio's account type.
type AccountType string

const (
	AccountTrial AccountType = "Trial"
	AccountFull  AccountType = "Full"
)

// AccountStatus is R-ACCT-9's lifecycle.
type AccountStatus string

const (
	AccountActive    AccountStatus = "active"
	AccountSuspended AccountStatus = "suspended"
	AccountClosed    AccountStatus = "closed"
)

// Account is an account or, when ParentSID is set, a subaccount.
type Account struct {
	SID          AccountSID    `json:"sid"`
	FriendlyName string        `json:"friendly_name"`
	OrgSID       OrgSID        `json:"organization_sid"`
	OwnerSID     UserSID       `json:"owner_sid,omitempty"` // "" for subaccounts (they have no owner of their own)
	ParentSID    AccountSID    `json:"parent_sid,omitempty"`
	Usage        Usage         `json:"usage"`
	Type         AccountType   `json:"type"`
	Status       AccountStatus `json:"status"`
	HIPAA        bool          `json:"hipaa"`
	// SuspendedWithParent marks a subaccount suspended because its parent
	// was (R-ACCT-9); reactivating the parent reactivates it.
	SuspendedWithParent bool `json:"-"`
	// SubaccountLimit overrides R-HIER-4's default when > 0 (operator only).
	SubaccountLimit int       `json:"subaccount_limit,omitempty"`
	AuthTokenHash   string    `json:"-"` // SHA-256 hex of the auth token
	CreatedAt       time.Time `json:"date_created"`
	UpdatedAt       time.Time `json:"date_updated"`
}

// Default subaccount limits (R-HIER-4).
const (
	TrialSubaccountLimit = 1
	FullSubaccountLimit  = 1000
)

// MaxSubaccounts is R-HIER-4's limit for this parent.
func (a *Account) MaxSubaccounts() int {
	if a.SubaccountLimit > 0 {
		return a.SubaccountLimit
	}
	if a.Type == AccountFull {
		return FullSubaccountLimit
	}
	return TrialSubaccountLimit
}

// AccountView is an account as one organization sees it.
type AccountView struct {
	Account
	Relation Relation `json:"relation"`
}

// AccountLink ties an account to an organization that does not manage it:
// pending (an import waiting for the owner, R-ACCT-3) or independent
// (an outside account the organization's users may be granted, R-ACCT-8).
type AccountLink struct {
	OrgSID      OrgSID     `json:"organization_sid"`
	AccountSID  AccountSID `json:"account_sid"`
	Relation    Relation   `json:"relation"`
	RequestedBy string     `json:"requested_by"`
	TokenHash   string     `json:"-"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	CreatedAt   time.Time  `json:"date_created"`
}

// Grant gives a user access to one account (R-ROLE-3).
type Grant struct {
	SID        RoleAssignmentSID `json:"sid"`
	AccountSID AccountSID        `json:"account_sid"`
	UserSID    UserSID           `json:"user_sid"`
	OrgSID     OrgSID            `json:"organization_sid"` // the organization that granted it
	Role       AccountRole       `json:"role"`
	CreatedAt  time.Time         `json:"date_created"`
}

// DomainStatus is R-DOM-1's verification state.
type DomainStatus string

const (
	DomainUnverified DomainStatus = "unverified"
	DomainVerified   DomainStatus = "verified"
)

// SignupSetting is R-DOM-3's per-domain setting.
type SignupSetting string

const (
	SignupRestricted     SignupSetting = "restricted"
	SignupAutoEnrollment SignupSetting = "auto-enrollment"
	SignupBlocked        SignupSetting = "blocked"
)

// ParseSignupSetting accepts the three settings of R-DOM-3.
func ParseSignupSetting(s string) (SignupSetting, error) {
	switch SignupSetting(s) {
	case SignupRestricted, SignupAutoEnrollment, SignupBlocked:
		return SignupSetting(s), nil
	case "auto_enrollment", "autoenrollment":
		return SignupAutoEnrollment, nil
	}
	return "", Invalid("signup", "signup %q is not restricted, auto-enrollment or blocked", s)
}

// Domain is an email domain an organization registered (R-DOM-1).
type Domain struct {
	SID         DomainSID     `json:"sid"`
	OrgSID      OrgSID        `json:"organization_sid"`
	Name        string        `json:"domain"`
	Token       string        `json:"-"` // the 32-hex verification token (public once published in DNS)
	Status      DomainStatus  `json:"status"`
	Signup      SignupSetting `json:"signup"`
	SSOEnforced bool          `json:"sso_enforced"`
	VerifiedAt  *time.Time    `json:"verified_at,omitempty"`
	CheckedAt   *time.Time    `json:"checked_at,omitempty"`
	// MissingSince is when a re-check first failed to find the record;
	// after DomainGrace the domain stops being verified.
	MissingSince *time.Time `json:"missing_since,omitempty"`
	CreatedAt    time.Time  `json:"date_created"`
	UpdatedAt    time.Time  `json:"date_updated"`
}

// TXTName is the DNS name that must hold the verification record.
func (d *Domain) TXTName() string { return TXTPrefix + d.Name }

// TXTValue is the value the record must hold.
func (d *Domain) TXTValue() string { return TXTValuePrefix + d.Token }

// Verification record format (CONTRACT.md).
const (
	TXTPrefix      = "_orgd."
	TXTValuePrefix = "orgd-domain-verification="
)

// Domain timing: re-check every DomainRecheck; stop trusting a record gone for DomainGrace.
const (
	DomainRecheck = 24 * time.Hour
	DomainGrace   = 30 * 24 * time.Hour
	// MaxDomainsPerOrg bounds registrations, as Twilio does.
	MaxDomainsPerOrg = 100
)

// InvitationStatus is an invitation's state.
type InvitationStatus string

const (
	InvitationPending  InvitationStatus = "pending"
	InvitationAccepted InvitationStatus = "accepted"
	InvitationRevoked  InvitationStatus = "revoked"
)

// Invitation asks a person to join an organization (R-USER-7).
type Invitation struct {
	SID        InvitationSID    `json:"sid"`
	OrgSID     OrgSID           `json:"organization_sid"`
	Email      string           `json:"email"`
	Role       Role             `json:"role"`
	Grants     []InviteGrant    `json:"accounts,omitempty"`
	Status     InvitationStatus `json:"status"`
	InvitedBy  string           `json:"invited_by"`
	TokenHash  string           `json:"-"`
	ExpiresAt  time.Time        `json:"expires_at"`
	AcceptedBy UserSID          `json:"accepted_by,omitempty"`
	CreatedAt  time.Time        `json:"date_created"`
}

// InviteGrant is an account access an invitation carries.
type InviteGrant struct {
	AccountSID AccountSID  `json:"account_sid"`
	Role       AccountRole `json:"role"`
}

// Lifetimes of the links the model mails.
const (
	InvitationTTL  = 7 * 24 * time.Hour
	ImportTTL      = 7 * 24 * time.Hour // R-ACCT-3
	ResetLinkTTL   = 24 * time.Hour     // R-USER-4
	SessionIdleTTL = 12 * time.Hour
	SessionMaxTTL  = 7 * 24 * time.Hour
	// HIPAAIdleTTL is the idle log-off for sessions that reached a
	// HIPAA-flagged account.
	HIPAAIdleTTL = 15 * time.Minute
)

// SCIMToken is a bearer credential of one organization's SCIM client.
type SCIMToken struct {
	ID         string     `json:"id"`
	OrgSID     OrgSID     `json:"organization_sid"`
	Name       string     `json:"name"`
	TokenHash  string     `json:"-"`
	CreatedAt  time.Time  `json:"date_created"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// OAuthClient is a client-credentials client of the Organizations API.
type OAuthClient struct {
	SID        OAuthClientSID `json:"client_id"`
	OrgSID     OrgSID         `json:"organization_sid"`
	Name       string         `json:"name"`
	SecretHash string         `json:"-"`
	CreatedAt  time.Time      `json:"date_created"`
	RevokedAt  *time.Time     `json:"revoked_at,omitempty"`
}

// APIKey is a credential of one account (Twilio's SK…:secret).
type APIKey struct {
	SID          APIKeySID  `json:"sid"`
	AccountSID   AccountSID `json:"account_sid"`
	FriendlyName string     `json:"friendly_name"`
	SecretHash   string     `json:"-"`
	CreatedAt    time.Time  `json:"date_created"`
	UpdatedAt    time.Time  `json:"date_updated"`
}

// Session is a server-side login session; rules end it by setting EndedAt.
type Session struct {
	ID         string     `json:"id"`
	TokenHash  string     `json:"-"`
	UserSID    UserSID    `json:"user_sid"`
	Via        string     `json:"via"` // password, sso
	CreatedAt  time.Time  `json:"created_at"`
	LastSeenAt time.Time  `json:"last_seen_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	IdleTTL    int64      `json:"idle_ttl_seconds"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
	EndReason  string     `json:"end_reason,omitempty"`
}

// ResetToken is a single-use password-reset link (R-USER-4).
type ResetToken struct {
	TokenHash string     `json:"-"`
	UserSID   UserSID    `json:"user_sid"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// AuditEvent is one entry of the append-only audit log (R-AUDIT-1).
type AuditEvent struct {
	SID        AuditSID  `json:"sid"`
	Seq        int64     `json:"seq"`
	OrgSID     OrgSID    `json:"organization_sid,omitempty"`
	Actor      string    `json:"actor"` // US…, "operator", "scim:<token id>", "oauth:OQ…", "system"
	Via        string    `json:"via"`   // cli, scim, sso, api, console, job
	RemoteAddr string    `json:"remote_addr,omitempty"`
	Action     string    `json:"action"`
	Target     string    `json:"target"`
	Before     string    `json:"before,omitempty"` // JSON
	After      string    `json:"after,omitempty"`  // JSON
	At         time.Time `json:"at"`
	// PrevHash is the Hash of the event before this one in its
	// organization's chain ("" for the first); Hash is AuditHash of this
	// event. The store fills both when it appends the event.
	PrevHash string `json:"prev_hash,omitempty"`
	Hash     string `json:"hash,omitempty"`
}

// Mail is an outbox entry, delivered after the transaction that wrote it commits.
type Mail struct {
	ID            int64      `json:"id"`
	Kind          string     `json:"kind"` // invitation, import-confirmation, password-reset
	To            string     `json:"to"`
	Subject       string     `json:"subject"`
	Body          string     `json:"body"`
	CreatedAt     time.Time  `json:"created_at"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	SentAt        *time.Time `json:"sent_at,omitempty"`
	LoggedAt      *time.Time `json:"logged_at,omitempty"` // written to the log (no SMTP configured)
	LastError     string     `json:"last_error,omitempty"`
}

// IdP is an organization's SAML identity provider (R-SSO-1).
type IdP struct {
	OrgSID            OrgSID     `json:"organization_sid"`
	EntityID          string     `json:"entity_id"`
	SSOURL            string     `json:"sso_url"`
	MetadataXML       string     `json:"-"`
	MetadataURL       string     `json:"metadata_url,omitempty"`
	AllowIdPInitiated bool       `json:"allow_idp_initiated"`
	EmailAttribute    string     `json:"email_attribute,omitempty"` // "" = NameID
	TestedAt          *time.Time `json:"tested_at,omitempty"`
	CreatedAt         time.Time  `json:"date_created"`
	UpdatedAt         time.Time  `json:"date_updated"`
}
