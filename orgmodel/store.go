package orgmodel

import (
	"context"
	"time"
)

// Store is what orgmodel needs from persistence. store.DB implements it on
// SQLite and PostgreSQL; store/storetest checks any implementation.
type Store interface {
	// InTx runs fn in one read-write transaction: all its writes commit or
	// none do (R-MERGE-7). fn MAY run more than once (retries after
	// contention), so it must not act outside tx: mail goes to the outbox.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// Read runs fn in a read-only transaction, off the write path. Writes
	// inside fn fail.
	Read(ctx context.Context, fn func(tx Tx) error) error
	// SCIMTokenByHash is Tx.GetSCIMTokenByHash as one statement, without a
	// transaction around it: the read every SCIM request makes
	// (Service.AuthenticateSCIM), never cached so that a revoked token is
	// refused at once.
	SCIMTokenByHash(ctx context.Context, h string) (*SCIMToken, error)
}

// Tx is what one command may read and write. Get* return an error
// satisfying errors.Is(err, ErrNotFound) on a miss. Writes that break a
// backstop constraint return a *RuleError naming the rule it backs, or
// ErrConflict. Lists are ordered by SID unless said otherwise.
type Tx interface {
	// LockOrg reads the organization and holds it until the transaction
	// ends (SELECT … FOR UPDATE on PostgreSQL; SQLite serialises writers),
	// so commands on one organization never interleave.
	LockOrg(ctx context.Context, sid OrgSID) (*Org, error)
	GetOrg(ctx context.Context, sid OrgSID) (*Org, error)
	CreateOrg(ctx context.Context, o *Org) error
	UpdateOrg(ctx context.Context, o *Org) error
	// DeleteOrg removes an organization that holds nothing any more (the
	// candidate of a merge, R-MERGE-5).
	DeleteOrg(ctx context.Context, sid OrgSID) error

	GetUser(ctx context.Context, sid UserSID) (*User, error)
	// GetUserByEmail finds a user by EmailKey(email).
	GetUserByEmail(ctx context.Context, email string) (*User, error)
	// OrgOfEmail returns the organization of the user with EmailKey(email):
	// GetUserByEmail's answer to "is this person a user, and where", one
	// column instead of the whole user.
	OrgOfEmail(ctx context.Context, email string) (OrgSID, error)
	CreateUser(ctx context.Context, u *User) error
	// CreateUserWithTerms is CreateUser given terms = UserTerms(u),
	// computed before the write (on SQLite, off its single writer).
	CreateUserWithTerms(ctx context.Context, u *User, terms []Term) error
	UpdateUser(ctx context.Context, u *User) error
	DeleteUser(ctx context.Context, sid UserSID) error
	ListUsers(ctx context.Context, f UserFilter) ([]*User, error)
	CountUsers(ctx context.Context, f UserFilter) (int, error)
	// MoveUsers moves every user of from into to, keeping roles; the
	// caller has already changed from's Owner (R-MERGE-5).
	MoveUsers(ctx context.Context, from, to OrgSID, now time.Time) (int, error)

	GetAccount(ctx context.Context, sid AccountSID) (*Account, error)
	CreateAccount(ctx context.Context, a *Account) error
	UpdateAccount(ctx context.Context, a *Account) error
	ListAccounts(ctx context.Context, f AccountFilter) ([]*Account, error)
	CountAccounts(ctx context.Context, f AccountFilter) (int, error)
	// MoveAccounts moves every account (and subaccount) of from into to.
	MoveAccounts(ctx context.Context, from, to OrgSID, now time.Time) (int, error)
	// MoveAccountTree moves one account and its subaccounts into org.
	MoveAccountTree(ctx context.Context, sid AccountSID, org OrgSID, now time.Time) error
	// ReassignAccounts gives every account of org owned by from to to.
	ReassignAccounts(ctx context.Context, org OrgSID, from, to UserSID, now time.Time) (int, error)

	PutLink(ctx context.Context, l *AccountLink) error
	GetLink(ctx context.Context, org OrgSID, acct AccountSID) (*AccountLink, error)
	GetLinkByTokenHash(ctx context.Context, h string) (*AccountLink, error)
	DeleteLink(ctx context.Context, org OrgSID, acct AccountSID) error
	// ListLinkedAccounts lists the accounts linked to org (pending and
	// independent), with their relation.
	ListLinkedAccounts(ctx context.Context, org OrgSID) ([]*AccountView, error)
	// ListLinks lists links of one account (to every organization), or of
	// one organization when acct is "".
	ListLinks(ctx context.Context, org OrgSID, acct AccountSID) ([]*AccountLink, error)
	// DeleteExpiredLinks removes pending links that expired before now and
	// returns them.
	DeleteExpiredLinks(ctx context.Context, now time.Time, limit int) ([]*AccountLink, error)

	PutGrant(ctx context.Context, g *Grant) error // insert or replace (account, user)
	GetGrant(ctx context.Context, acct AccountSID, user UserSID) (*Grant, error)
	GetGrantBySID(ctx context.Context, sid RoleAssignmentSID) (*Grant, error)
	DeleteGrant(ctx context.Context, acct AccountSID, user UserSID) error
	ListGrants(ctx context.Context, f GrantFilter) ([]*Grant, error)
	// DeleteUserGrants removes every grant of user.
	DeleteUserGrants(ctx context.Context, user UserSID) (int, error)
	// MoveGrants hands the grants from made to to (R-MERGE-5).
	MoveGrants(ctx context.Context, from, to OrgSID) error

	CreateDomain(ctx context.Context, d *Domain) error
	GetDomain(ctx context.Context, org OrgSID, name string) (*Domain, error)
	UpdateDomain(ctx context.Context, d *Domain) error
	DeleteDomain(ctx context.Context, sid DomainSID) error
	ListDomains(ctx context.Context, org OrgSID) ([]*Domain, error)
	// ListDomainClaims lists every organization's registration of name.
	ListDomainClaims(ctx context.Context, name string) ([]*Domain, error)
	// ClaimDomainChecks returns up to limit verified domains last checked
	// before due, and marks them checked at now so that no other replica
	// takes them (SKIP LOCKED on PostgreSQL).
	ClaimDomainChecks(ctx context.Context, due, now time.Time, limit int) ([]*Domain, error)

	CreateInvitation(ctx context.Context, i *Invitation) error
	GetInvitation(ctx context.Context, sid InvitationSID) (*Invitation, error)
	GetInvitationByTokenHash(ctx context.Context, h string) (*Invitation, error)
	UpdateInvitation(ctx context.Context, i *Invitation) error
	// ListInvitations lists org's invitations; email filters by EmailKey
	// and status by state when not "".
	ListInvitations(ctx context.Context, org OrgSID, email string, status InvitationStatus) ([]*Invitation, error)
	// PendingInvitationsFor lists every organization's pending invitations
	// of email that have not expired at now.
	PendingInvitationsFor(ctx context.Context, email string, now time.Time) ([]*Invitation, error)

	CreateSCIMToken(ctx context.Context, t *SCIMToken) error
	GetSCIMTokenByHash(ctx context.Context, h string) (*SCIMToken, error)
	ListSCIMTokens(ctx context.Context, org OrgSID) ([]*SCIMToken, error)
	UpdateSCIMToken(ctx context.Context, t *SCIMToken) error

	CreateOAuthClient(ctx context.Context, c *OAuthClient) error
	GetOAuthClient(ctx context.Context, sid OAuthClientSID) (*OAuthClient, error)
	ListOAuthClients(ctx context.Context, org OrgSID) ([]*OAuthClient, error)
	UpdateOAuthClient(ctx context.Context, c *OAuthClient) error

	CreateAPIKey(ctx context.Context, k *APIKey) error
	GetAPIKey(ctx context.Context, sid APIKeySID) (*APIKey, error)
	ListAPIKeys(ctx context.Context, acct AccountSID) ([]*APIKey, error)
	DeleteAPIKey(ctx context.Context, sid APIKeySID) error

	CreateSession(ctx context.Context, s *Session) error
	GetSessionByTokenHash(ctx context.Context, h string) (*Session, error)
	UpdateSession(ctx context.Context, s *Session) error
	// EndUserSessions ends every live session of user and returns how many.
	EndUserSessions(ctx context.Context, user UserSID, reason string, now time.Time) (int, error)

	CreateResetToken(ctx context.Context, r *ResetToken) error
	GetResetToken(ctx context.Context, h string) (*ResetToken, error)
	UpdateResetToken(ctx context.Context, r *ResetToken) error
	// DeleteResetTokens removes every reset link of user.
	DeleteResetTokens(ctx context.Context, user UserSID) error

	GetIdP(ctx context.Context, org OrgSID) (*IdP, error)
	PutIdP(ctx context.Context, p *IdP) error
	DeleteIdP(ctx context.Context, org OrgSID) error

	// --- SSO and login (issue 4) ---

	// ConsumeOnce records key as used until expiresAt. It reports false when
	// key is already recorded and not yet expired at now: a primary key
	// makes the check hold across replicas (SAML assertion and TOTP code
	// replay).
	ConsumeOnce(ctx context.Context, key string, expiresAt, now time.Time) (bool, error)
	CreateSAMLRequest(ctx context.Context, r *SAMLRequest) error
	// GetSAMLRequest returns org's AuthnRequest id, used or not.
	GetSAMLRequest(ctx context.Context, org OrgSID, id string) (*SAMLRequest, error)
	// UseSAMLRequest marks org's AuthnRequest id used at now, once: it
	// returns ErrNotFound when there is no such request, it was used
	// already or it expired before now.
	UseSAMLRequest(ctx context.Context, org OrgSID, id string, now time.Time) error
	// AddLoginFailure counts one failed attempt under key at now, in one
	// statement (so that concurrent failures on several replicas all
	// count); a count whose last failure is before resetBefore starts
	// again from 1. It returns the row after the change.
	AddLoginFailure(ctx context.Context, key string, now, resetBefore time.Time) (*LoginThrottle, error)
	GetLoginThrottle(ctx context.Context, key string) (*LoginThrottle, error)
	DeleteLoginThrottle(ctx context.Context, key string) error
	CreateTrustedDevice(ctx context.Context, d *TrustedDevice) error
	GetTrustedDevice(ctx context.Context, tokenHash string) (*TrustedDevice, error)
	CreateSignupConfirmation(ctx context.Context, c *SignupConfirmation) error
	GetSignupConfirmation(ctx context.Context, tokenHash string) (*SignupConfirmation, error)
	// UseSignupConfirmation marks a confirmation used at now, once
	// (ErrNotFound when it is unknown or already used).
	UseSignupConfirmation(ctx context.Context, tokenHash string, now time.Time) error
	GetLoginSettings(ctx context.Context, org OrgSID) (*LoginSettings, error)
	PutLoginSettings(ctx context.Context, l *LoginSettings) error
	// ListIdPs lists identity providers ordered by organization SID, after
	// after (keyset paging); withURL keeps only those with a metadata URL.
	ListIdPs(ctx context.Context, after OrgSID, withURL bool, limit int) ([]*IdP, error)
	// PurgeLoginState deletes what expired before now: used keys, SAML
	// requests, sign-up confirmations, trusted devices, and failure counts
	// whose last failure is before idleBefore. It returns how many rows went.
	PurgeLoginState(ctx context.Context, now, idleBefore time.Time) (int, error)
	// --- end SSO and login (issue 4) ---

	// --- Console (issue 6) ---

	// CreateSetupLink stores a new setup link (its token hash is unique).
	CreateSetupLink(ctx context.Context, l *SetupLink) error
	// GetSetupLinkByHash finds a setup link by the SHA-256 of its token.
	GetSetupLinkByHash(ctx context.Context, h string) (*SetupLink, error)
	// ListSetupLinks lists org's setup links, newest first.
	ListSetupLinks(ctx context.Context, org OrgSID) ([]*SetupLink, error)
	// UpdateSetupLink writes a link's name, revocation and last use.
	UpdateSetupLink(ctx context.Context, l *SetupLink) error
	// CountGroupMembers returns how many members each of groups has (a
	// group without members, or unknown, is absent), without reading them.
	CountGroupMembers(ctx context.Context, groups ...GroupSID) (map[GroupSID]int, error)
	// GroupMembersAfter returns up to limit members of group g whose SID
	// sorts after after, in SID order (keyset paging on the membership key).
	GroupMembersAfter(ctx context.Context, g GroupSID, after UserSID, limit int) ([]*User, error)
	// --- end Console (issue 6) ---

	// AppendAudit adds e to the audit log, filling SID and Seq.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)

	// --- SCIM (issue 3) ---
	// A user's terms (UserTerms) are written by CreateUser and UpdateUser
	// and go with the user. When either fails, the transaction must end
	// with the error: some of the terms may be written.

	// SearchUsers returns the page of org's users that q selects, in q.Sort
	// order (ties by SID).
	SearchUsers(ctx context.Context, org OrgSID, q Query) ([]*User, error)
	// CountUsersWhere counts org's users satisfying c (nil: all).
	CountUsersWhere(ctx context.Context, org OrgSID, c Cond) (int, error)
	// OrgUserSIDs returns those of sids that are users of org.
	OrgUserSIDs(ctx context.Context, org OrgSID, sids []UserSID) ([]UserSID, error)

	CreateGroup(ctx context.Context, g *Group) error
	// GetGroup returns a group with its account mapping (not its members).
	GetGroup(ctx context.Context, sid GroupSID) (*Group, error)
	// GetGroupByName finds org's group whose FoldKey(displayName) is key.
	GetGroupByName(ctx context.Context, org OrgSID, key string) (*Group, error)
	// UpdateGroup writes name, external id, role, version and update time.
	UpdateGroup(ctx context.Context, g *Group) error
	// DeleteGroup deletes a group, its memberships and its mapping.
	DeleteGroup(ctx context.Context, sid GroupSID) error
	SearchGroups(ctx context.Context, org OrgSID, q Query) ([]*Group, error)
	CountGroupsWhere(ctx context.Context, org OrgSID, c Cond) (int, error)
	// SetGroupAccounts replaces the account access a group gives.
	SetGroupAccounts(ctx context.Context, g GroupSID, access []GroupAccess) error
	// ListGroupMembers returns the members of each group, by user SID.
	ListGroupMembers(ctx context.Context, groups ...GroupSID) (map[GroupSID][]GroupMember, error)
	// AddGroupMembers adds users (of org) to a group and returns those
	// that were not members yet.
	AddGroupMembers(ctx context.Context, org OrgSID, g GroupSID, users []UserSID, now time.Time) ([]UserSID, error)
	// RemoveGroupMembers removes users from a group and returns those that
	// were members.
	RemoveGroupMembers(ctx context.Context, g GroupSID, users []UserSID) ([]UserSID, error)
	// UserGroups returns the groups of org each user belongs to.
	UserGroups(ctx context.Context, org OrgSID, users []UserSID) (map[UserSID][]GroupRef, error)
	// UserGroupMappings tells whether one of user's groups gives the
	// Administrator role, and lists the account access its groups give.
	UserGroupMappings(ctx context.Context, user UserSID) (admin bool, access []GroupAccess, err error)
	// GroupRoleMarked tells whether user's Administrator role was given by
	// a group; SetGroupRoleMark records or clears that.
	GroupRoleMarked(ctx context.Context, user UserSID) (bool, error)
	SetGroupRoleMark(ctx context.Context, user UserSID, on bool) error
	// GroupGrantMarks lists the accounts on which user's grant was given
	// by a group; SetGroupGrantMark records or clears one.
	GroupGrantMarks(ctx context.Context, user UserSID) ([]AccountSID, error)
	SetGroupGrantMark(ctx context.Context, acct AccountSID, user UserSID, on bool) error
	// --- end SCIM (issue 3) ---

	// EnqueueMail adds m to the outbox, filling ID.
	EnqueueMail(ctx context.Context, m *Mail) error
	// ClaimMail returns up to limit unsent mails due at now and pushes their
	// next attempt to leaseUntil, so that no other sender takes them.
	ClaimMail(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*Mail, error)
	// ClaimUnloggedMail marks up to limit unsent mails that were never
	// written to the log as logged at now, and returns them.
	ClaimUnloggedMail(ctx context.Context, now time.Time, limit int) ([]*Mail, error)
	// FinishMail records the outcome of one delivery attempt.
	FinishMail(ctx context.Context, m *Mail) error
	ListMail(ctx context.Context, f MailFilter) ([]*Mail, error)

	// --- Twilio API (issue 5) ---

	// UpdateAPIKey changes an API key's friendly name and update time.
	UpdateAPIKey(ctx context.Context, k *APIKey) error
	// CreateSigningKey adds a token signing key. A key of the same
	// generation already there is ErrConflict: another replica rotated first.
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// ListSigningKeys lists every signing key, newest generation first.
	ListSigningKeys(ctx context.Context) ([]*SigningKey, error)
	// DeleteSigningKey removes a key no live token can carry any more.
	DeleteSigningKey(ctx context.Context, kid string) error
	// --- end Twilio API (issue 5) ---

	// --- hardening: tamper-evident audit log ---
	// AppendAudit (above) also chains the event: it locks its
	// organization's head, sets PrevHash and Hash (AuditHash) and moves the
	// head, in the same transaction.

	// AuditHeads returns the head of every audit chain, and a head with
	// zero events for any organization that has events but no head.
	AuditHeads(ctx context.Context) ([]*AuditHead, error)
	// AuditChain returns up to limit events of org's chain with seq after
	// afterSeq and at most upToSeq, in seq order.
	AuditChain(ctx context.Context, org OrgSID, afterSeq, upToSeq int64, limit int) ([]*AuditEvent, error)
	// --- end hardening ---
}

// UserFilter selects users; zero fields do not filter.
type UserFilter struct {
	OrgSID   OrgSID
	Role     Role
	Status   UserStatus
	AfterSID UserSID // keyset paging
	Limit    int     // 0 = no limit
}

// AccountFilter selects accounts; zero fields do not filter.
type AccountFilter struct {
	OrgSID       OrgSID
	OwnerSID     UserSID
	ParentSID    AccountSID
	TopLevel     bool // only accounts without a parent
	NotClosed    bool
	Status       AccountStatus
	FriendlyName string
	AfterSID     AccountSID
	Limit        int
}

// GrantFilter selects grants; zero fields do not filter.
type GrantFilter struct {
	OrgSID     OrgSID
	UserSID    UserSID
	AccountSID AccountSID
	AfterSID   RoleAssignmentSID
	Limit      int
}

// AuditFilter selects audit events, newest first.
type AuditFilter struct {
	OrgSID    OrgSID
	Actor     string
	Action    string // exact, or a prefix ending in "."
	Target    string
	Since     time.Time
	Until     time.Time
	BeforeSeq int64 // keyset paging, newest first
	Limit     int
}

// MailFilter selects outbox entries, newest first.
type MailFilter struct {
	To     string
	Unsent bool
	Limit  int
}
