package orgmodel

import "strings"

// commonMailDomains lists free and consumer mail providers whose domains no
// organization can register or verify, and from which nobody can be invited
// (R-DOM-2, R-USER-7). Keep it sorted; a test checks that it is, that every
// entry is a normalised domain, and that the well-known ones are present.
var commonMailDomains = []string{
	"126.com", "139.com", "163.com", "aim.com", "alice.it", "aol.com", "aol.de", "att.net",
	"bellsouth.net", "bigpond.com", "blueyonder.co.uk", "btinternet.com", "charter.net",
	"comcast.net", "cox.net", "earthlink.net", "email.com", "fastmail.com", "fastmail.fm", "free.fr",
	"freenet.de", "gmail.com", "gmx.at", "gmx.ch", "gmx.com", "gmx.de", "gmx.net", "googlemail.com",
	"hey.com", "hotmail.co.uk", "hotmail.com", "hotmail.de", "hotmail.es", "hotmail.fr", "hotmail.it",
	"hushmail.com", "icloud.com", "inbox.com", "juno.com", "laposte.net", "libero.it", "live.ca",
	"live.co.uk", "live.com", "live.com.au", "live.de", "live.fr", "live.it", "live.nl", "mac.com",
	"mail.com", "mail.ru", "me.com", "msn.com", "naver.com", "netscape.net", "ntlworld.com",
	"optonline.net", "orange.fr", "outlook.co.uk", "outlook.com", "outlook.de", "outlook.es",
	"outlook.fr", "outlook.it", "pm.me", "proton.me", "protonmail.ch", "protonmail.com", "qq.com",
	"rambler.ru", "rediffmail.com", "rocketmail.com", "sbcglobal.net", "sfr.fr", "shaw.ca", "sky.com",
	"t-online.de", "tuta.io", "tutanota.com", "tutanota.de", "verizon.net", "virginmedia.com",
	"wanadoo.fr", "web.de", "yahoo.ca", "yahoo.co.in", "yahoo.co.jp", "yahoo.co.uk", "yahoo.com",
	"yahoo.com.au", "yahoo.com.br", "yahoo.de", "yahoo.es", "yahoo.fr", "yahoo.in", "yahoo.it",
	"yandex.com", "yandex.ru", "ymail.com", "zoho.com", "zohomail.com",
}

var commonMailSet = func() map[string]struct{} {
	m := make(map[string]struct{}, len(commonMailDomains))
	for _, d := range commonMailDomains {
		m[d] = struct{}{}
	}
	return m
}()

// IsCommonMailDomain reports whether d (normalised) is a common mail domain,
// or a subdomain of one (mail.gmail.com is no more an organization's than
// gmail.com is).
func IsCommonMailDomain(d string) bool {
	for {
		if _, ok := commonMailSet[d]; ok {
			return true
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			return false
		}
		d = d[i+1:]
	}
}

// CommonMailDomains returns a copy of the list, for documentation and tests.
func CommonMailDomains() []string { return append([]string(nil), commonMailDomains...) }
