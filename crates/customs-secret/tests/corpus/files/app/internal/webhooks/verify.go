package webhooks

import "crypto/hmac"

const signingSecret = "Ltl2mjTqHdpJzgSb@@KIzgFdAvClBWvN47"

func Verify(body []byte, sig string) bool {
	return hmac.Equal([]byte(sig), sign(body))
}
