package password

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHashVerify(t *testing.T) {
	h, err := Fast.Hash("Corr3ct-Horse-Battery")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$"), h)
	ok, err := Fast.Verify(h, "Corr3ct-Horse-Battery")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = Fast.Verify(h, "Corr3ct-Horse-Batterx")
	require.NoError(t, err)
	assert.False(t, ok)

	h2, err := Fast.Hash("Corr3ct-Horse-Battery")
	require.NoError(t, err)
	assert.NotEqual(t, h, h2, "salts must differ")
}

func TestVerifyRefusesMalformedAndAbusiveHashes(t *testing.T) {
	for _, h := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$a2V5",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdA$a2V5",
		"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdA$a2V5", // 4 GiB
		"$argon2id$v=19$m=64,t=99,p=1$c2FsdA$a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!$a2V5",
	} {
		ok, err := Fast.Verify(h, "x")
		assert.False(t, ok, h)
		assert.ErrorIs(t, err, ErrFormat, h)
	}
}

func BenchmarkHashDefault(b *testing.B) {
	for b.Loop() {
		_, _ = Default.Hash("Corr3ct-Horse-Battery")
	}
}
