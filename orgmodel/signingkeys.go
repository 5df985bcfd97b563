package orgmodel

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"time"
)

// SigningKey signs the short-lived access tokens of the Organizations API
// (Ed25519). Keys live in the database so that every replica signs and
// verifies with the same ones.
type SigningKey struct {
	KID        string    `json:"kid"`
	Generation int64     `json:"generation"`
	Seed       []byte    `json:"-"` // the Ed25519 private key seed: a secret
	CreatedAt  time.Time `json:"created_at"`
}

// PrivateKey returns the key to sign with.
func (k *SigningKey) PrivateKey() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(k.Seed) }

// PublicKey returns the key to verify with.
func (k *SigningKey) PublicKey() ed25519.PublicKey {
	return k.PrivateKey().Public().(ed25519.PublicKey)
}

// Token and key lifetimes. A key signs for SigningKeyRotation; once its
// successor exists it still verifies for AccessTokenTTL plus
// SigningKeyOverlap, so that every token it signed expires before it goes:
// rotation never logs anyone out. The overlap covers replicas that keep
// signing with a key they cached (they refresh at least every
// SigningKeyRefresh) and clock skew between replicas.
const (
	AccessTokenTTL     = time.Hour
	SigningKeyRotation = 24 * time.Hour
	SigningKeyRefresh  = time.Minute
	SigningKeyOverlap  = 5 * time.Minute
)

// KeyRing is the signing key to use now and every key a live token may
// carry, newest first.
type KeyRing struct {
	Current *SigningKey
	Verify  []*SigningKey
	// RotateAt is when Current stops being the key to sign with.
	RotateAt time.Time
}

// Lookup returns the verification key named kid.
func (r *KeyRing) Lookup(kid string) *SigningKey {
	for _, k := range r.Verify {
		if k.KID == kid {
			return k
		}
	}
	return nil
}

// ring builds the key ring of keys (newest first) at now.
func ring(keys []*SigningKey, now time.Time) *KeyRing {
	r := &KeyRing{}
	for i, k := range keys {
		if i == 0 {
			r.Current = k
			r.RotateAt = k.CreatedAt.Add(SigningKeyRotation)
			r.Verify = append(r.Verify, k)
			continue
		}
		if now.Before(keys[i-1].CreatedAt.Add(AccessTokenTTL + SigningKeyOverlap)) {
			r.Verify = append(r.Verify, k)
		}
	}
	return r
}

// SigningKeys returns the key ring, creating the first key or rotating the
// current one when it is due. Replicas racing to rotate agree on one new
// key: the generation number is unique, and the loser reads the winner's.
func (s *Service) SigningKeys(ctx context.Context) (*KeyRing, error) {
	now := s.Now()
	var keys []*SigningKey
	if err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		keys, err = tx.ListSigningKeys(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	if len(keys) > 0 && now.Before(keys[0].CreatedAt.Add(SigningKeyRotation)) {
		return ring(keys, now), nil
	}
	return s.rotateKeys(ctx, SystemActor, false, false)
}

// RotateSigningKey makes a new signing key current at once (operator only).
// Tokens signed with the previous keys keep working until they expire,
// unless retire is set: then every earlier key is deleted and every token
// they signed stops working on each replica within SigningKeyRefresh (for a
// leaked key).
func (s *Service) RotateSigningKey(ctx context.Context, a Actor, retire bool) (*SigningKey, error) {
	if !a.Operator {
		return nil, &RuleError{Kind: KindForbidden, Msg: "only an operator rotates the token signing keys"}
	}
	r, err := s.rotateKeys(ctx, a, true, retire)
	if err != nil {
		return nil, err
	}
	return r.Current, nil
}

func (s *Service) rotateKeys(ctx context.Context, a Actor, force, retire bool) (*KeyRing, error) {
	var out *KeyRing
	for attempt := 0; attempt < 3; attempt++ {
		err := s.store.InTx(ctx, func(tx Tx) error {
			now := s.Now()
			keys, err := tx.ListSigningKeys(ctx)
			if err != nil {
				return err
			}
			if !force && len(keys) > 0 && now.Before(keys[0].CreatedAt.Add(SigningKeyRotation)) {
				out = ring(keys, now) // another replica rotated meanwhile
				return nil
			}
			gen := int64(1)
			if len(keys) > 0 {
				gen = keys[0].Generation + 1
			}
			seed := make([]byte, ed25519.SeedSize)
			if _, err := rand.Read(seed); err != nil {
				return fmt.Errorf("orgmodel: crypto/rand failed: %w", err)
			}
			k := &SigningKey{KID: fmt.Sprintf("k%d-%s", gen, randomHex(4)), Generation: gen, Seed: seed, CreatedAt: now}
			if err := tx.CreateSigningKey(ctx, k); err != nil {
				return err
			}
			keys = append([]*SigningKey{k}, keys...)
			out = ring(keys, now)
			var dropped []string
			for _, old := range keys[1:] {
				if retire || out.Lookup(old.KID) == nil {
					if err := tx.DeleteSigningKey(ctx, old.KID); err != nil {
						return err
					}
					dropped = append(dropped, old.KID)
				}
			}
			if retire {
				out.Verify = out.Verify[:1]
			}
			return s.audit(ctx, tx, a, "", "signing_key.rotate", k.KID, nil,
				map[string]any{"kid": k.KID, "generation": gen, "retired": dropped})
		})
		if errors.Is(err, ErrConflict) {
			continue // another replica created this generation first: read it
		}
		return out, err
	}
	return nil, fmt.Errorf("orgmodel: signing key rotation kept conflicting: %w", ErrRetry)
}
