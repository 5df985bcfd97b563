package api

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/orgd/orgd/orgmodel"
)

func TestCredCache_ACheckThatStartedBeforeAnInvalidationIsNotKept(t *testing.T) {
	var c credCache
	c.m = map[[32]byte]credEntry{}
	now := time.Now()
	k := [32]byte{1}
	gen := c.generation()
	c.clear() // the credential changed while it was being checked
	c.put(k, credEntry{actor: orgmodel.Actor{AccountSID: "AC1"}, expires: now.Add(time.Hour)}, gen, now)
	_, ok := c.get(k, now)
	assert.False(t, ok)

	gen = c.generation()
	c.put(k, credEntry{actor: orgmodel.Actor{AccountSID: "AC1"}, expires: now.Add(time.Hour)}, gen, now)
	a, ok := c.get(k, now)
	assert.True(t, ok)
	assert.Equal(t, orgmodel.AccountSID("AC1"), a.AccountSID)
	_, ok = c.get(k, now.Add(time.Hour))
	assert.False(t, ok, "expired")
}

func TestCredCache_StaysBounded(t *testing.T) {
	var c credCache
	c.m = map[[32]byte]credEntry{}
	now := time.Now()
	for i := range maxCachedCredentials + 10 {
		k := [32]byte{byte(i), byte(i >> 8), byte(i >> 16)}
		c.put(k, credEntry{expires: now.Add(time.Hour)}, c.generation(), now)
	}
	assert.LessOrEqual(t, len(c.m), maxCachedCredentials)
}
