package http

const (
	tokenHeader   = "X-Auth-Token"
	secretHeader  = "X-Webhook-Secret"
	passwordField = "password"
)

var apiKeyName = "api_key"
var sessionTokenTTL = 3600
