#!/usr/bin/env python3
"""Generate the labelled secret corpus (files/ and labels.txt).

Every secret here is synthetic: drawn from a seeded PRNG in the documented
shape of its provider's tokens, never issued by anyone, so none is valid.
So that push-protection scanners do not flag the repository, every secret
is stored with the two characters "@@" inserted in its middle (the PEM
BEGIN lines too); the corpus test removes every "@@" before scanning.
Line numbers are unaffected.

Run from this directory: python3 generate.py  (deterministic output).
"""
import base64
import os
import random
import shutil
import string

R = random.Random(20261101)
AN = string.ascii_letters + string.digits
UP = string.ascii_uppercase
UPD = UP + string.digits
LO = string.ascii_lowercase
LOD = LO + string.digits
HEX = "0123456789abcdef"
US = AN + "_-"
B64 = AN + "+/"
LETTERS = string.ascii_letters
BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"
SPLIT = "@@"


def t(alpha, n, need_digit=False):
    while True:
        s = "".join(R.choice(alpha) for _ in range(n))
        if need_digit and not any(c.isdigit() for c in s):
            continue
        if not any(c.isalpha() for c in s) or not any(c.isdigit() for c in s):
            # mixed values look like real tokens; keep the corpus realistic
            if any(c.isalpha() for c in alpha) and any(c.isdigit() for c in alpha):
                continue
        return s


def d(n):
    return str(R.randint(1, 9)) + t(string.digits, n - 1)


def uuid():
    return "-".join(t(HEX, k) for k in (8, 4, 4, 4, 12))


def split(s):
    m = max(1, len(s) // 2)
    return s[:m] + SPLIT + s[m:]


def pw(n=20):
    return t(AN + "-_.+=", n, need_digit=True)


# ---------------------------------------------------------------- files
files = {}   # path -> list of lines
labels = []  # (path, line, rule)

FILLERS = {
    "app/.env": ["NODE_ENV=production", "LOG_LEVEL=info", "PORT=8080", "# --- integrations ---",
                 "FEATURE_FLAGS=checkout,wishlist", "TZ=Europe/Berlin"],
    "root/.aws/credentials": [],
    "etc/app/config.yaml": ["  timeout: 30s", "  retries: 3", "  enabled: true"],
    "root/.bash_history": ["ls -la", "cd /srv/app", "git pull --rebase", "docker ps", "kubectl get pods -n shop",
                           "vim config.yaml", "make deploy"],
    "srv/app/settings.py": ["DEBUG = False", "ALLOWED_HOSTS = ['shop.acme.dev']", "USE_TZ = True",
                            "TIME_ZONE = 'UTC'"],
    "app/src/config.js": ["  region: 'eu-west-1',", "  retries: 3,", "  debug: false,"],
    "app/config/integrations.toml": ["timeout_ms = 5000", "enabled = true"],
    "app/.gitlab-ci.yml": ["  stage: deploy", "  image: node:20-alpine"],
    "app/appsettings.json": [],
}

HEADERS = {
    "app/.env": ["# Shop backend configuration (production)", "APP_NAME=acme-shop"],
    "root/.aws/credentials": ["[default]"],
    "etc/app/config.yaml": ["# acme-shop service configuration", "service:", "  name: acme-shop",
                            "integrations:"],
    "root/.bash_history": ["sudo apt-get update", "cd /srv/app"],
    "srv/app/settings.py": ['"""Django settings for acme_shop."""', "import os", "from pathlib import Path", "",
                            "BASE_DIR = Path(__file__).resolve().parent.parent"],
    "app/src/config.js": ["'use strict';", "", "module.exports = {"],
    "app/config/integrations.toml": ["# third-party integrations", "[integrations]"],
    "app/.gitlab-ci.yml": ["deploy:", "  variables:"],
    "app/appsettings.json": ["{", '  "Logging": { "LogLevel": { "Default": "Information" } },',
                             '  "ConnectionStrings": {'],
}
FOOTERS = {
    "app/src/config.js": ["};"],
    "app/appsettings.json": ['    "Unused": ""', "  }", "}"],
}


def add(path, rule, template, secret, filler=True):
    lines = files.setdefault(path, list(HEADERS.get(path, [])))
    pre, _, _ = template.partition("{S}")
    line_no = len(lines) + 1 + pre.count("\n")
    for l in template.replace("{S}", split(secret)).split("\n"):
        lines.append(l)
    labels.append((path, line_no, rule))
    fl = FILLERS.get(path)
    if filler and fl:
        lines.append(fl[len(lines) % len(fl)])


def whole(path, rule, content, secret, secret_line):
    """A file of its own; `content` holds {S}; label at `secret_line`."""
    files[path] = content.replace("{S}", secret).split("\n")
    labels.append((path, secret_line, rule))


ENV, AWS, YAML, HIST, PY = "app/.env", "root/.aws/credentials", "etc/app/config.yaml", "root/.bash_history", "srv/app/settings.py"
JS, TOML, CI, NET = "app/src/config.js", "app/config/integrations.toml", "app/.gitlab-ci.yml", "app/appsettings.json"
PROPS = "app/src/main/resources/application.properties"

# ------------------------------------------------------------------- AWS
add(AWS, "aws-access-key-id", "aws_access_key_id = {S}", "AKIA" + t(UP + "234567", 16))
add(AWS, "aws-secret-access-key", "aws_secret_access_key = {S}", t(AN + "/+", 40, True))
add(AWS, "aws-session-token", "aws_session_token = {S}", "IQoJb3JpZ2luX2VjE" + t(B64, 320))
add(ENV, "aws-mws-auth-token", "MWS_AUTH_TOKEN={S}", "amzn.mws." + uuid())
# ------------------------------------------------------------------- GCP
gcp_body = "\\n".join(t(B64, 64) for _ in range(20))
gcp = "-----BEGIN PRIVATE KEY-----\\n" + gcp_body + "\\n-----END PRIVATE KEY-----\\n"
whole("srv/app/gcp-service-account.json", "gcp-service-account",
      "{\n  \"type\": \"service_account\",\n  \"project_id\": \"acme-shop-prod\",\n"
      "  \"private_key_id\": \"" + t(HEX, 40) + "\",\n  \"private_key\": \"{S}\",\n"
      "  \"client_email\": \"shop-api@acme-shop-prod.iam.gserviceaccount.com\",\n"
      "  \"client_id\": \"" + d(21) + "\",\n  \"token_uri\": \"https://oauth2.googleapis.com/token\"\n}\n",
      gcp.replace("PRIVATE KEY-----\\n", "PRIV" + SPLIT + "ATE KEY-----\\n", 1), 5)
add(JS, "gcp-api-key", "  firebase: { apiKey: '{S}', authDomain: 'acme-shop.firebaseapp.com' },", "AIza" + t(US, 35))
add(PY, "gcp-oauth-client-secret", "GOOGLE_CLIENT_SECRET = \"{S}\"", "GOCSPX-" + t(US, 28))
add(HIST, "google-oauth-access-token", "curl -H \"Authorization: Bearer {S}\" https://www.googleapis.com/drive/v3/files",
    "ya29." + t(US, 120))
add(ENV, "firebase-fcm-server-key", "FCM_SERVER_KEY={S}", "AAAA" + t(US, 7) + ":APA91b" + t(US, 134))
# ------------------------------------------------------------------ Azure
add(NET, "azure-storage-account-key",
    '    "Storage": "DefaultEndpointsProtocol=https;AccountName=acmeshop;AccountKey={S};EndpointSuffix=core.windows.net",',
    t(B64, 86) + "==")
add(NET, "azure-shared-access-key",
    '    "ServiceBus": "Endpoint=sb://acme-shop.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={S}",',
    t(B64, 43) + "=")
add(NET, "azure-sas-token",
    '    "Exports": "https://acmeshop.blob.core.windows.net/exports?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2027-01-01T00:00:00Z&spr=https&sig={S}",',
    t(AN, 43) + "%3D")
add(NET, "azure-client-secret", '    "ClientSecret": "{S}",', t(AN, 3) + "8Q~" + t(AN + "_~.-", 33) + "a")
add(NET, "sqlserver-connection-password",
    '    "Default": "Server=sql.acme.internal;Database=Shop;User Id=shop;Password={S};",', pw(18))
add(CI, "azure-devops-pat", "    AZURE_DEVOPS_EXT_PAT: {S}", t(AN, 76) + "AZDO" + t(AN, 4))
# ----------------------------------------------------------------- GitHub
add(ENV, "github-pat", "GITHUB_TOKEN={S}", "ghp_" + t(AN, 36))
add(HIST, "github-fine-grained-pat", "echo {S} | gh auth login --with-token", "github_pat_" + t(AN, 22) + "_" + t(AN, 59))
HOSTS = "root/.config/gh/hosts.yml"
files[HOSTS] = ["github.com:", "    user: acme-bot", "    git_protocol: https"]
add(HOSTS, "github-oauth-token", "    oauth_token: {S}", "gho_" + t(AN, 36))
add(HOSTS, "github-refresh-token", "    refresh_token: {S}", "ghr_" + t(AN, 76))
add(CI, "github-app-token", "    GH_INSTALLATION_TOKEN: {S}", "ghs_" + t(AN, 36))
# ----------------------------------------------------------------- GitLab
add(HIST, "gitlab-pat", "git clone https://oauth2:{S}@gitlab.com/acme/shop.git", "glpat-" + t(US, 20))
RUNNER = "etc/gitlab-runner/config.toml"
files[RUNNER] = ["concurrent = 4", "", "[[runners]]", '  name = "build-01"', '  url = "https://gitlab.com"']
add(RUNNER, "gitlab-runner-token", '  token = "{S}"', "glrt-" + t(US, 20))
add(HIST, "gitlab-runner-registration-token",
    "gitlab-runner register --url https://gitlab.com --registration-token {S}", "GR1348941" + t(US, 20))
add(CI, "gitlab-deploy-token", "    DEPLOY_TOKEN: {S}", "gldt-" + t(US, 20))
add(HIST, "gitlab-pipeline-trigger-token",
    "curl -X POST --fail -F token={S} -F ref=main https://gitlab.com/api/v4/projects/42/trigger/pipeline",
    "glptt-" + t(HEX, 40))
add(YAML, "gitlab-feed-token", "  gitlab_feed_token: {S}", "glft-" + t(US, 20))
add(YAML, "gitlab-oauth-app-secret", "  gitlab_oauth_secret: {S}", "gloas-" + t(US, 64))
add(HIST, "gitlab-cicd-job-token", "curl --header \"JOB-TOKEN: {S}\" https://gitlab.com/api/v4/job",
    "glcbt-" + t(AN, 2) + "_" + t(US, 20))
AGENT = "app/k8s/gitlab-agent-values.yaml"
files[AGENT] = ["config:", "  kasAddress: wss://kas.gitlab.com"]
add(AGENT, "gitlab-agent-token", "  token: {S}", "glagent-" + t(US, 50))
add(ENV, "gitlab-scim-token", "GITLAB_SCIM_TOKEN={S}", "glsoat-" + t(US, 20))
# ------------------------------------------------------ Bitbucket, Atlassian
add(HIST, "bitbucket-app-password", "git clone https://deploy-bot:{S}@bitbucket.org/acme/shop.git", "ATBB" + t(AN, 32))
add(CI, "bitbucket-access-token", "    BITBUCKET_ACCESS_TOKEN: {S}", "ATCTT3" + t(US, 180))
add(ENV, "atlassian-api-token", "JIRA_API_TOKEN={S}", "ATATT3" + t(US, 183))
# ------------------------------------------------------------------ Slack
add(ENV, "slack-bot-token", "SLACK_BOT_TOKEN={S}", "xoxb-" + d(12) + "-" + d(13) + "-" + t(AN, 24))
add(PY, "slack-user-token", "SLACK_USER_TOKEN = \"{S}\"", "xoxp-" + d(12) + "-" + d(12) + "-" + d(13) + "-" + t(HEX, 32))
add(YAML, "slack-app-token", "  slack_app_token: {S}", "xapp-1-" + t(UPD, 11) + "-" + d(13) + "-" + t(HEX, 64))
add(HIST, "slack-config-token", "export SLACK_CONFIG_TOKEN={S}", "xoxe.xoxp-1-" + t(UPD, 164))
add(JS, "slack-legacy-token", "  legacySlackToken: '{S}',", "xoxs-" + d(10) + "-" + d(12) + "-" + t(AN, 32))
add(YAML, "slack-web-hook", "  slack_webhook: https://hooks.slack.com/services/{S}",
    "T" + t(UPD, 8) + "/B" + t(UPD, 10) + "/" + t(AN, 24))
# ---------------------------------------------------------- chat, mail
add(ENV, "discord-bot-token", "DISCORD_BOT_TOKEN={S}", "M" + t(US, 25) + "." + t(US, 6) + "." + t(US, 38))
add(YAML, "discord-webhook", "  discord_webhook: https://discord.com/api/webhooks/" + d(18) + "/{S}", t(US, 68))
add(ENV, "twilio-api-key", "TWILIO_API_KEY={S}", "SK" + t(HEX, 32))
add(ENV, "twilio-auth-token", "TWILIO_AUTH_TOKEN={S}", t(HEX, 32))
add(PY, "sendgrid-api-key", "SENDGRID_API_KEY = \"{S}\"", "SG." + t(US, 22) + "." + t(US, 43))
add(PY, "mailgun-api-key", "ANYMAIL = {\"MAILGUN_API_KEY\": \"{S}\"}", "key-" + t(HEX, 32))
add(ENV, "mailgun-api-key-v2", "MAILGUN_API_KEY={S}", t(HEX, 32) + "-" + t(HEX, 8) + "-" + t(HEX, 8))
add(PY, "mailchimp-api-key", "MAILCHIMP_API_KEY = \"{S}\"", t(HEX, 32) + "-us21")
add(ENV, "brevo-api-key", "BREVO_API_KEY={S}", "xkeysib-" + t(HEX, 64) + "-" + t(AN, 16))
add(PROPS, "brevo-smtp-key", "spring.mail.password={S}", "xsmtpsib-" + t(HEX, 64) + "-" + t(AN, 16))
add(HIST, "telegram-bot-token", "curl https://api.telegram.org/bot{S}/sendMessage -d chat_id=42 -d text=deployed",
    d(10) + ":AA" + t(US, 33))
add(YAML, "microsoft-teams-webhook",
    "  teams_webhook: https://acme.webhook.office.com/webhookb2/" + uuid() + "@" + uuid() + "/IncomingWebhook/{S}",
    t(AN, 32) + "/" + uuid())
# --------------------------------------------------------------- payments
add(ENV, "stripe-secret-key", "STRIPE_SECRET_KEY={S}", "sk_live_" + t(AN, 99))
add(PY, "stripe-restricted-key", "STRIPE_RESTRICTED_KEY = \"{S}\"", "rk_live_" + t(AN, 48))
add(ENV, "stripe-webhook-secret", "STRIPE_WEBHOOK_SECRET={S}", "whsec_" + t(AN, 32))
files.setdefault(TOML, list(HEADERS[TOML]))
files[TOML].append("[shopify]")
add(TOML, "shopify-access-token", "access_token = \"{S}\"", "shpat_" + t(HEX, 32))
add(TOML, "shopify-custom-app-token", "custom_app_token = \"{S}\"", "shpca_" + t(HEX, 32))
add(TOML, "shopify-private-app-token", "private_app_password = \"{S}\"", "shppa_" + t(HEX, 32))
add(TOML, "shopify-shared-secret", "shared_secret = \"{S}\"", "shpss_" + t(HEX, 32))
files[TOML].append("[square]")
add(TOML, "square-access-token", "access_token = \"{S}\"", "EAAA" + t(US, 60))
add(TOML, "square-oauth-secret", "oauth_secret = \"{S}\"", "sq0csp-" + t(US, 43))
add(ENV, "braintree-access-token", "BRAINTREE_ACCESS_TOKEN={S}", "access_token$production$" + t(LOD, 16) + "$" + t(HEX, 32))
add(ENV, "paypal-client-secret", "PAYPAL_CLIENT_SECRET={S}", "E" + t(US, 79))
add(PY, "plaid-access-token", "PLAID_ACCESS_TOKEN = \"{S}\"", "access-production-" + uuid())
add(ENV, "flutterwave-secret-key", "FLW_SECRET_KEY={S}", "FLWSECK-" + t("abcdefgh0123456789", 32) + "-X")
add(ENV, "shippo-api-token", "SHIPPO_TOKEN={S}", "shippo_live_" + t(HEX, 40))
add(ENV, "easypost-api-key", "EASYPOST_API_KEY={S}", "EZAK" + t(AN, 54))
add(ENV, "duffel-api-token", "DUFFEL_ACCESS_TOKEN={S}", "duffel_live_" + t(US, 43))
# ------------------------------------------------------------- registries
NPMRC = "home/node/.npmrc"
files[NPMRC] = ["registry=https://registry.npmjs.org/", "save-exact=true"]
add(NPMRC, "npm-access-token", "//registry.npmjs.org/:_authToken={S}", "npm_" + t(AN, 36))
add(NPMRC, "npmrc-auth", "//npm.pkg.acme.dev/:_auth={S}",
    base64.b64encode(("ci-bot:" + t(AN, 20)).encode()).decode())
PYPIRC = "root/.pypirc"
files[PYPIRC] = ["[distutils]", "index-servers = pypi", "", "[pypi]", "username = __token__"]
add(PYPIRC, "pypi-upload-token", "password = {S}", "pypi-AgEIcHlwaS5vcmc" + t(US, 150))
GEMCRED = "root/.gem/credentials"
files[GEMCRED] = ["---"]
add(GEMCRED, "rubygems-api-key", ":rubygems_api_key: {S}", "rubygems_" + t(HEX, 48))
add(HIST, "nuget-api-key",
    "dotnet nuget push bin/Release/Acme.Shop.1.4.2.nupkg --api-key {S} --source https://api.nuget.org/v3/index.json",
    "oy2" + t(LOD, 43))
NUGET = "root/.nuget/NuGet/NuGet.Config"
files[NUGET] = ['<?xml version="1.0" encoding="utf-8"?>', "<configuration>", "  <packageSourceCredentials>",
                "    <acme>", '      <add key="Username" value="ci-bot" />']
add(NUGET, "nuget-config-password", '      <add key="ClearTextPassword" value="{S}" />', pw(22))
files[NUGET] += ["    </acme>", "  </packageSourceCredentials>", "</configuration>"]
DOCKER = "root/.docker/config.json"
files[DOCKER] = ["{", '  "auths": {', '    "registry.acme.dev": {']
add(DOCKER, "docker-config-auth", '      "auth": "{S}"', base64.b64encode(("deploy:" + t(AN, 24)).encode()).decode())
files[DOCKER] += ["    }", "  },", '  "credsStore": ""', "}"]
add(HIST, "docker-hub-pat", "echo {S} | docker login -u acmebot --password-stdin", "dckr_pat_" + t(US, 27))
M2 = "root/.m2/settings.xml"
files[M2] = ["<settings>", "  <servers>", "    <server>", "      <id>acme-releases</id>",
             "      <username>deployer</username>"]
add(M2, "maven-settings-password", "      <password>{S}</password>", pw(18))
files[M2] += ["    </server>", "    <server>", "      <id>artifactory</id>", "      <username>ci</username>"]
add(M2, "artifactory-api-key", "      <password>{S}</password>", "AKCp" + t(AN, 69))
files[M2] += ["    </server>", "  </servers>", "</settings>"]
add(ENV, "artifactory-reference-token", "JFROG_ACCESS_TOKEN={S}", "cmVmdGtu" + t(AN, 56))
add(CI, "pulumi-access-token", "    PULUMI_ACCESS_TOKEN: {S}", "pul-" + t(HEX, 40))
CARGO = "root/.cargo/credentials.toml"
files[CARGO] = ["[registry]"]
add(CARGO, "crates-io-api-token", 'token = "{S}"', "cio" + t(AN, 32))
add(HIST, "clojars-api-token", "export CLOJARS_PASSWORD={S}", "CLOJARS_" + t(LOD, 60))
COMPOSER = "root/.composer/auth.json"
files[COMPOSER] = ["{", '  "http-basic": {', '    "repo.packagist.com": {', '      "username": "token",']
add(COMPOSER, "private-packagist-token", '      "password": "{S}"', "packagist_uut_" + t(HEX, 68))
files[COMPOSER] += ["    }", "  }", "}"]
# -------------------------------------------------------------------- AI
files[TOML].append("[ai]")
add(TOML, "openai-api-key", "openai_api_key = \"{S}\"", "sk-proj-" + t(US, 40) + "T3BlbkFJ" + t(US, 40))
add(TOML, "anthropic-api-key", "anthropic_api_key = \"{S}\"", "sk-ant-api03-" + t(US, 93) + "AA")
add(ENV, "anthropic-admin-key", "ANTHROPIC_ADMIN_KEY={S}", "sk-ant-admin01-" + t(US, 93) + "AA")
add(HIST, "huggingface-access-token", "huggingface-cli login --token {S}", "hf_" + t(LETTERS, 34))
add(PY, "huggingface-org-token", "HF_ORG_TOKEN = \"{S}\"", "api_org_" + t(LETTERS, 34))
add(TOML, "groq-api-key", "groq_api_key = \"{S}\"", "gsk_" + t(AN, 52))
add(TOML, "perplexity-api-key", "perplexity_api_key = \"{S}\"", "pplx-" + t(AN, 48))
add(ENV, "replicate-api-token", "REPLICATE_API_TOKEN={S}", "r8_" + t(AN, 37))
add(TOML, "xai-api-key", "xai_api_key = \"{S}\"", "xai-" + t(AN, 80))
add(ENV, "langsmith-api-key", "LANGSMITH_API_KEY={S}", "lsv2_pt_" + t(HEX, 32) + "_" + t(HEX, 10))
# -------------------------------------------------------------- HashiCorp
add(HIST, "vault-service-token", "export VAULT_TOKEN={S}", "hvs." + t(US, 95))
add(CI, "vault-batch-token", "    VAULT_BATCH_TOKEN: {S}", "hvb." + t(US, 150))
add(ENV, "vault-legacy-token", "VAULT_TOKEN={S}", "s." + t(AN, 24))
TFRC = "root/.terraformrc"
files[TFRC] = ['plugin_cache_dir = "$HOME/.terraform.d/plugin-cache"', 'credentials "app.terraform.io" {']
add(TFRC, "terraform-cloud-token", '  token = "{S}"', t(AN, 14) + ".atlasv1." + t(US, 67))
files[TFRC] += ["}"]
# ---------------------------------------------------------- cloud, PaaS
add(ENV, "alibaba-access-key-id", "ALIBABA_CLOUD_ACCESS_KEY_ID={S}", "LTAI" + t(AN, 20))
add(ENV, "tencent-secret-id", "TENCENTCLOUD_SECRET_ID={S}", "AKID" + t(AN, 32))
add(HIST, "digitalocean-pat", "doctl auth init --access-token {S}", "dop_v1_" + t(HEX, 64))
add(ENV, "digitalocean-oauth-token", "DO_OAUTH_TOKEN={S}", "doo_v1_" + t(HEX, 64))
add(YAML, "digitalocean-refresh-token", "  do_refresh_token: {S}", "dor_v1_" + t(HEX, 64))
add(ENV, "heroku-api-key", "HEROKU_API_KEY={S}", uuid())
add(CI, "heroku-api-key-v2", "    HEROKU_API_KEY: {S}", "HRKU-" + t(US, 60))
add(ENV, "cloudflare-origin-ca-key", "ORIGIN_CA_KEY={S}", "v1.0-" + t(HEX, 24) + "-" + t(HEX, 146))
add(ENV, "cloudflare-api-token", "CLOUDFLARE_API_TOKEN={S}", t(US, 40))
add(CI, "netlify-access-token", "    NETLIFY_AUTH_TOKEN: {S}", "nfp_" + t(AN, 36))
add(HIST, "fly-io-access-token", "fly deploy --access-token {S}", "fo1_" + t(US, 43))
add(ENV, "planetscale-api-token", "PLANETSCALE_SERVICE_TOKEN={S}", "pscale_tkn_" + t(US, 43))
add(PROPS, "planetscale-password", "spring.datasource.password={S}", "pscale_pw_" + t(US, 43))
add(HIST, "supabase-access-token", "supabase login --token {S}", "sbp_" + t(HEX, 40))
add(CI, "render-api-key", "    RENDER_API_KEY: {S}", "rnd_" + t(AN, 32))
add(ENV, "scalingo-api-token", "SCALINGO_API_TOKEN={S}", "tk-us-" + t(US, 48))
DBCFG = "root/.databrickscfg"
files[DBCFG] = ["[DEFAULT]", "host = https://adb-1234567890123456.7.azuredatabricks.net"]
add(DBCFG, "databricks-api-token", "token = {S}", "dapi" + t(HEX, 32))
DOCKERFILE = "app/Dockerfile"
files[DOCKERFILE] = ["FROM python:3.12-slim", "WORKDIR /srv/app", "COPY requirements.txt ."]
add(DOCKERFILE, "doppler-token", "ENV DOPPLER_TOKEN={S}", "dp.pt." + t(AN, 43))
add(DOCKERFILE, "tailscale-key", "ENV TS_AUTHKEY={S}", "tskey-auth-" + t(AN, 11) + "-" + t(AN, 30))
files[DOCKERFILE] += ["RUN pip install --no-cache-dir -r requirements.txt", 'CMD ["gunicorn", "acme_shop.wsgi"]']
add(ENV, "onepassword-service-account-token", "OP_SERVICE_ACCOUNT_TOKEN={S}", "ops_eyJ" + t(B64, 300))
add(PY, "okta-api-token", "OKTA_API_TOKEN = \"{S}\"", "00" + t(US, 40))
# --------------------------------------------------- observability, tools
add(YAML, "datadog-api-key", "  dd_api_key: {S}", t(HEX, 32))
add(YAML, "datadog-app-key", "  dd_app_key: {S}", t(HEX, 40))
add(ENV, "new-relic-user-api-key", "NEW_RELIC_API_KEY={S}", "NRAK-" + t(UPD, 27))
add(YAML, "new-relic-insert-key", "  newrelic_insert_key: {S}", "NRII-" + t(US, 32))
add(JS, "new-relic-browser-key", "  newRelic: { licenseKey: '{S}' },", "NRJS-" + t(HEX, 19))
add(HIST, "sentry-auth-token", "export SENTRY_AUTH_TOKEN={S}", "sntryu_" + t(HEX, 64))
add(ENV, "grafana-api-key", "GRAFANA_API_KEY={S}", "eyJrIjoi" + t(AN, 80))
add(YAML, "grafana-cloud-token", "  grafana_cloud_token: {S}", "glc_" + t(B64, 120))
add(ENV, "grafana-service-account-token", "GRAFANA_SA_TOKEN={S}", "glsa_" + t(AN, 32) + "_" + t(HEX, 8))
add(YAML, "dynatrace-api-token", "  dynatrace_token: {S}", "dt0c01." + t(UPD, 24) + "." + t(UPD, 64))
add(HIST, "postman-api-key", "postman login --with-api-key {S}", "PMAK-" + t(HEX, 24) + "-" + t(HEX, 34))
add(ENV, "linear-api-key", "LINEAR_API_KEY={S}", "lin_api_" + t(AN, 40))
add(PY, "notion-api-token", "NOTION_TOKEN = \"{S}\"", "ntn_" + d(11) + t(AN, 35))
add(JS, "airtable-pat", "  airtable: { token: '{S}' },", "pat" + t(AN, 14) + "." + t(HEX, 64))
add(ENV, "figma-pat", "FIGMA_TOKEN={S}", "figd_" + t(US, 40))
add(CI, "contentful-pat", "    CONTENTFUL_MANAGEMENT_TOKEN: {S}", "CFPAT-" + t(US, 43))
add(ENV, "typeform-api-token", "TYPEFORM_TOKEN={S}", "tfp_" + t(AN, 59))
add(ENV, "frameio-api-token", "FRAMEIO_TOKEN={S}", "fio-u-" + t(US, 64))
add(CI, "readme-api-key", "    README_API_KEY: {S}", "rdme_" + t(LOD, 70))
add(HIST, "prefect-api-key", "prefect cloud login --key {S}", "pnu_" + t(AN, 36))
add(CI, "infracost-api-token", "    INFRACOST_API_KEY: {S}", "ico-" + t(AN, 32))
add(ENV, "harness-api-key", "HARNESS_PAT={S}", "pat." + t(US, 22) + "." + t(HEX, 24) + "." + t(AN, 20))
SONAR = "app/sonar-project.properties"
files[SONAR] = ["sonar.projectKey=acme_shop", "sonar.sources=src"]
add(SONAR, "sonarqube-token", "sonar.token={S}", "sqp_" + t(HEX, 40))
add(HIST, "circleci-pat", "circleci setup --token {S} --host https://circleci.com", "CCIPAT_" + t(AN, 22) + "_" + t(HEX, 40))
add(ENV, "buildkite-api-token", "BUILDKITE_API_TOKEN={S}", "bkua_" + t(HEX, 40))
add(PY, "adobe-client-secret", "ADOBE_CLIENT_SECRET = \"{S}\"", "p8e-" + t(AN, 32))
add(PY, "facebook-access-token", "FACEBOOK_PAGE_TOKEN = \"{S}\"", "EAAB" + t(AN, 150))
add(ENV, "twitter-bearer-token", "TWITTER_BEARER_TOKEN={S}", "A" * 21 + t(AN, 40) + "%2F" + t(AN, 40) + "%3D" + t(AN, 8))
add(ENV, "dropbox-api-token", "DROPBOX_ACCESS_TOKEN={S}", "sl." + t(US, 140))
add(JS, "mapbox-secret-token", "  mapboxUploadToken: '{S}',", "sk.eyJ1IjoiYWNtZS" + t(US, 60) + "." + t(US, 22))
add(YAML, "jwt-token", "  service_token: {S}",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ" + t(US, 80) + "." + t(US, 43))
AGE = "root/.config/sops/age/keys.txt"
whole(AGE, "age-secret-key",
      "# created: 2026-10-02T09:12:44Z\n# public key: age1" + t(LOD, 58) + "\n{S}\n",
      split("AGE-SECRET-KEY-1" + t(BECH32, 58)), 3)
KUBE = "root/.kube/config"
files[KUBE] = ["apiVersion: v1", "kind: Config", "users:", "- name: admin", "  user:",
               "    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t" + t(B64, 60)]
add(KUBE, "kubeconfig-client-key", "    client-key-data: {S}", "LS0tLS1CRUdJTiBSU0Eg" + t(B64, 200) + "==")


# ------------------------------------------------------------ private keys
def pem(label, lines=25, first="MII"):
    body = [first + t(B64, 61)] + [t(B64, 64) for _ in range(lines - 2)] + [t(B64, 40) + "=="]
    return ["-----BEGIN " + label.replace("PRIVATE", "PRIV" + SPLIT + "ATE", 1) + "-----"] + body + \
           ["-----END " + label + "-----"]


def keyfile(path, rule, label, pre=None, **kw):
    lines = list(pre or []) + pem(label, **kw)
    files[path] = lines + [""]
    labels.append((path, len(pre or []) + 2, rule))


keyfile("root/.ssh/id_rsa", "rsa-private-key", "RSA PRIVATE KEY")
keyfile("etc/nginx/ssl/ec.key", "ec-private-key", "EC PRIVATE KEY", lines=5, first="MHc")
keyfile("opt/legacy/keys/dsa.pem", "dsa-private-key", "DSA PRIVATE KEY", lines=12, first="MII")
keyfile("home/deploy/.ssh/id_ed25519", "openssh-private-key", "OPENSSH PRIVATE KEY", lines=7, first="b3B")
keyfile("etc/ssl/private/shop.acme.dev.key", "pkcs8-private-key", "PRIVATE KEY", lines=26)
keyfile("srv/app/certs/signing.pem", "pkcs8-encrypted-private-key", "ENCRYPTED PRIVATE KEY", lines=29)
# A key pasted into an app config (YAML block scalar).
files["etc/app/tls.yaml"] = ["tls:", "  cert_file: /etc/app/tls.crt", "  key: |"] + \
    ["    " + l for l in pem("RSA PRIVATE KEY", lines=10)] + ["  min_version: '1.2'"]
labels.append(("etc/app/tls.yaml", 5, "rsa-private-key"))
pgp = ["-----BEGIN PGP PRIV" + SPLIT + "ATE KEY BLOCK-----", "", "lQOYBG" + t(B64, 58)] + \
      [t(B64, 64) for _ in range(14)] + ["=" + t(B64, 4), "-----END PGP PRIVATE KEY BLOCK-----", ""]
files["root/.gnupg/release-signing.asc"] = pgp
labels.append(("root/.gnupg/release-signing.asc", 3, "pgp-private-key"))
ssh2 = ["---- BEGIN SSH2 ENCRYPTED PRIV" + SPLIT + "ATE KEY ----", 'Comment: "rsa-key-20260101"',
        "P2/56wAAA" + t(B64, 61)] + [t(B64, 70) for _ in range(8)] + ["---- END SSH2 ENCRYPTED PRIVATE KEY ----", ""]
files["home/deploy/.ssh/legacy.key"] = ssh2
labels.append(("home/deploy/.ssh/legacy.key", 2, "ssh2-private-key"))
ppk = ["PuTTY-User-Key-File-3: ssh-ed25519", "Encryption: none", "Comment: deploy@build-01", "Public-Lines: 2",
       "AAAAC3NzaC1lZDI1NTE5AAAAI" + t(B64, 39), t(B64, 20), "Private-Lines: 1",
       split("AAAAI" + t(B64, 43)), "Private-MAC: " + t(HEX, 64), ""]
files["home/deploy/.ssh/deploy.ppk"] = ppk
labels.append(("home/deploy/.ssh/deploy.ppk", 8, "putty-private-key"))
# ----------------------------------------------------------- DB and URLs
add(YAML, "postgres-uri-password", "  database_url: postgresql://shop:{S}@db.acme.internal:5432/shop", pw(20))
add(PROPS, "mysql-uri-password", "spring.datasource.url=jdbc:mysql://shop:{S}@mysql.acme.internal:3306/shop", pw(16))
add(ENV, "mongodb-uri-password", "MONGO_URL=mongodb+srv://shop:{S}@cluster0.a1b2c.mongodb.net/shop", pw(16))
add(PY, "redis-uri-password", "CACHES = {\"default\": {\"LOCATION\": \"redis://:{S}@redis.acme.internal:6379/0\"}}", pw(24))
add(PY, "amqp-uri-password", "CELERY_BROKER_URL = \"amqp://shop:{S}@rabbitmq.acme.internal:5672//\"", pw(18))
add(HIST, "url-basic-auth", "pip install --index-url https://ci:{S}@pypi.acme.dev/simple acme-shop", pw(22))
PGPASS = "root/.pgpass"
files[PGPASS] = ["# hostname:port:database:username:password"]
add(PGPASS, "pgpass-password", "db.acme.internal:5432:shop:shop:{S}", pw(20))
NETRC = "root/.netrc"
files[NETRC] = ["machine github.com login acme-bot password " + "ghp_" + SPLIT + t(AN, 36)]
labels.append((NETRC, 1, "github-pat"))
add(NETRC, "netrc-password", "machine api.acme.dev login deploy password {S}", pw(20))
WP = "var/www/html/wp-config.php"
files[WP] = ["<?php", "define( 'DB_NAME', 'wordpress' );", "define( 'DB_USER', 'wp' );"]
add(WP, "wordpress-db-password", "define( 'DB_PASSWORD', '{S}' );", pw(20))
files[WP] += ["define( 'DB_HOST', 'mysql' );", "$table_prefix = 'wp_';"]
whole("srv/rails/config/master.key", "rails-master-key", split(t(HEX, 32)) + "\n", "", 1)
files["srv/rails/config/master.key"] = [files["srv/rails/config/master.key"][0], ""]
KAGGLE = "root/.kaggle/kaggle.json"
whole(KAGGLE, "kaggle-api-key", '{"username":"datasci","key":"{S}"}\n', split(t(HEX, 32)), 1)
# ----------------------------------------------------------------- generic
add(PY, "generic-password-assignment", "EMAIL_HOST_PASSWORD = \"{S}\"", pw(20))
add(YAML, "generic-password-config", "  smtp_password: {S}", pw(18))
GO = "app/internal/webhooks/verify.go"
files[GO] = ["package webhooks", "", "import \"crypto/hmac\"", ""]
add(GO, "generic-secret-assignment", "const signingSecret = \"{S}\"", t(AN, 32, need_digit=True))
files[GO] += ["", "func Verify(body []byte, sig string) bool {", "\treturn hmac.Equal([]byte(sig), sign(body))", "}"]
add(YAML, "generic-secret-config", "  session_secret: {S}", t(AN, 40, need_digit=True))

for path, foot in FOOTERS.items():
    files[path] += foot

# ------------------------------------------------------------ near misses
N = {}


def neg(path, text):
    N[path] = text.split("\n")


def b64img(n):
    raw = bytes(R.getrandbits(8) for _ in range(n))
    return base64.b64encode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + raw).decode()


neg("app/.env.sample", """# Copy to .env and fill in
AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
STRIPE_SECRET_KEY=sk_live_000000000000000000000000
SLACK_BOT_TOKEN=xoxb-your-bot-token
OPENAI_API_KEY=<your-openai-api-key>
DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app
REDIS_URL=redis://localhost:6379/0
DB_PASSWORD=changeme
ADMIN_PASSWORD=
API_TOKEN=${API_TOKEN}
SECRET_KEY={{ secret_key }}
SENDGRID_API_KEY=SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
JWT_SECRET=your-jwt-secret-here
""")
neg("app/config/settings_prod.py", """import os

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "PASSWORD": os.getenv("DB_PASSWORD"),
        "HOST": os.getenv("DB_HOST", "localhost"),
    }
}
AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]
PASSWORD_RESET_TIMEOUT = 259200
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
password_min_length = 12
SESSION_COOKIE_NAME = "sessionid"
token_url = "https://oauth2.googleapis.com/token"
API_KEY_HEADER = "X-Api-Key"
""")
neg("app/src/auth.py", """from flask import request

def login():
    password = request.form["password"]
    token = generate_token(user)
    if password == confirm_password:
        return redirect("/")
    secret = settings.SECRET_KEY
    api_key = request.headers.get("X-Api-Key")
    access_token: str = session["access_token"]
    return render_template("login.html", error="Invalid password")

def check_password(password: str, password_hash: str) -> bool:
    return bcrypt.checkpw(password.encode(), password_hash.encode())
""")
neg("app/checksums.txt", "\n".join(
    f"{t(HEX, 64)}  dist/acme-shop-1.4.{i}-py3-none-any.whl" for i in range(8)) + "\n" + "\n".join(
    f"sha1:{t(HEX, 40)}  commit {t(HEX, 7)}" for _ in range(4)) + "\n")
neg("app/requirements.txt", "\n".join(
    f"{p}==1.{i}.0 \\\n    --hash=sha256:{t(HEX, 64)}" for i, p in enumerate(["django", "celery", "redis", "requests"])) + "\n")
neg("app/data/ids.json", "[\n" + ",\n".join(
    '  {"id": "%s", "request_id": "%s", "client_token": "%s", "etag": "W/\\"%s\\""}' % (uuid(), uuid(), uuid(), t(HEX, 32))
    for _ in range(12)) + "\n]\n")
neg("app/static/logo.html", '<!doctype html>\n<img alt="logo" src="data:image/png;base64,' + b64img(6000) +
    '">\n<img src="data:image/gif;base64,' + b64img(900) + '">\n')
neg("app/static/css/app.css", ".logo{background:url(data:image/png;base64," + b64img(3000) + ")}\n.btn{color:#fff}\n")
js_parts = []
for i in range(400):
    js_parts.append(R.choice([
        "function %s(e,t){return e.token=t.token,e}" % t(LO, 2),
        "var %s={password:\"\",token:null,apiKey:void 0,secret:!1};" % t(LO, 2),
        "e.headers.Authorization=\"Bearer \"+t.accessToken;",
        "if(t.password!==t.passwordConfirm)throw new Error(\"password mismatch\");",
        "n.prototype.path=function(){return this.pattern.replace(/\\//g,\".\")};",
        "const %s=\"%s\";" % (t(LO, 1), uuid()),
        "o.integrity=\"sha512-%s\";" % t(B64, 86),
        "r.sourceMappingURL=\"data:application/json;base64,%s\";" % t(B64, 120),
        "a.compat=function(p){return p.patch||p.pathname};",
    ]))
neg("app/static/js/vendor.min.js", "!function(){" + "".join(js_parts) + "}();\n")
neg("home/ci/.npmrc", "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=${NPM_TOKEN}\nalways-auth=true\n")
neg("home/ci/.docker/config.json", '{\n  "auths": {\n    "ghcr.io": {},\n    "registry.acme.dev": {}\n  },\n  "credsStore": "desktop",\n  "currentContext": "default"\n}\n')
neg("home/ci/.m2/settings.xml", "<settings>\n  <servers>\n    <server>\n      <id>acme</id>\n      <username>${env.MAVEN_USERNAME}</username>\n      <password>${env.MAVEN_PASSWORD}</password>\n    </server>\n  </servers>\n</settings>\n")
cert = ["-----BEGIN CERTIFICATE-----", "MII" + t(B64, 61)] + [t(B64, 64) for _ in range(18)] + [t(B64, 20) + "==", "-----END CERTIFICATE-----"]
pub = ["-----BEGIN PUBLIC KEY-----", "MII" + t(B64, 61)] + [t(B64, 64) for _ in range(5)] + ["-----END PUBLIC KEY-----"]
neg("etc/ssl/acme/shop.acme.dev.crt", "\n".join(cert + pub) + "\n")
neg("root/.ssh/authorized_keys", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + t(B64, 43) + " deploy@build-01\nssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ" + t(B64, 500) + " admin@laptop\n")
neg("app/k8s/deployment.yaml", """apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: shop
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: shop-db
                  key: password
            - name: API_TOKEN
              valueFrom:
                secretKeyRef: {name: shop-api, key: token}
""")
neg("app/docker-compose.yml", """services:
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set it}
  app:
    environment:
      DATABASE_URL: postgres://shop:${DB_PASS}@db:5432/shop
      RABBITMQ_URL: amqp://guest:guest@rabbitmq:5672/
      CACHE_URL: redis://redis:6379/1
      SMTP_URL: smtp://mailer:Sup3rS3cretPw42@mail.example.com:587
      DOCS_DB_URL: postgres://docs:Tr0ub4dor-and-3@db.staging.test/docs
""")
neg("app/git-log.txt", "\n".join(f"commit {t(HEX, 40)}\nMerge: {t(HEX, 7)} {t(HEX, 7)}\nChange-Id: I{t(HEX, 40)}" for _ in range(6)) + "\n")
neg("app/internal/http/headers.go", """package http

const (
	tokenHeader   = "X-Auth-Token"
	secretHeader  = "X-Webhook-Secret"
	passwordField = "password"
)

var apiKeyName = "api_key"
var sessionTokenTTL = 3600
""")
neg("app/src/jwt.js", "// header of every token we issue\nconst JWT_HEADER = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9';\nconst ALG = 'HS256';\n")
neg("app/templates/secrets.yaml.tmpl", "apiVersion: v1\nkind: Secret\nstringData:\n  password: {{ .Values.db.password }}\n  token: \"{{ .Values.api.token }}\"\n  api_key: <%= ENV['API_KEY'] %>\n")
# Files whose paths are allowed: realistic tokens that must not be reported.
neg("app/README.md", "# Setup\n\nExport a token first:\n\n    export GITHUB_TOKEN=ghp_" + SPLIT + t(AN, 36) + "\n")
neg("app/tests/fixtures/id_rsa", "\n".join(pem("RSA PRIVATE KEY", lines=8)) + "\n")
neg("usr/share/doc/acme/examples/app.env", "STRIPE_SECRET_KEY=sk_live_" + SPLIT + t(AN, 40) + "\n")
neg("usr/lib/python3.11/test/keycert.pem", "\n".join(pem("PRIVATE KEY", lines=8)) + "\n")

# ------------------------------------------- formats added for issue 14
# New files only, drawn after every value above: the earlier files, their
# values and line numbers stay as they were.
NEW, SH2, K8S = "srv/app/issue14.env", "srv/app/deploy.sh", "srv/app/k8s/db-secret.yaml"
add(NEW, "slack-legacy-bot-token", "SLACK_LEGACY_BOT={S}", "xoxb-" + d(11) + "-" + t(AN, 24))
add(NEW, "azure-container-registry-password", "ACR_PASSWORD={S}", t(B64, 42) + "+ACR" + t(AN, 6))
add(NEW, "azure-app-configuration-connection-string",
    "APP_CONFIG=Endpoint=https://acme-prod.azconfig.io;Id=" + t(AN, 4) + "-l0-s0:" + t(AN, 20) + ";Secret={S}",
    t(B64, 43) + "=")
add(NEW, "onepassword-secret-key", "OP_SECRET_KEY={S}",
    "A3-" + t(UPD, 6) + "-" + t(UPD, 11) + "-" + t(UPD, 5) + "-" + t(UPD, 5) + "-" + t(UPD, 5))
add(NEW, "openshift-user-token", "OC_TOKEN={S}", "sha256~" + t(US, 43))
add(NEW, "facebook-app-access-token", "FACEBOOK_APP_TOKEN={S}", d(16) + "|" + t(US, 27))
add(NEW, "messagebird-api-token", "MESSAGEBIRD_API_KEY={S}", t(AN, 25))
add(NEW, "sidekiq-secret", "BUNDLE_ENTERPRISE__CONTRIBSYS__COM={S}", t(HEX, 8) + ":" + t(HEX, 8))
add(NEW, "sidekiq-sensitive-url", "GEM_SOURCE=https://{S}@enterprise.contribsys.com/", t(HEX, 8) + ":" + t(HEX, 8))
add(SH2, "curl-basic-auth", "curl -fsS -u deploy:{S} https://ci.acme.dev/api/v1/builds", t(AN, 18))
add(SH2, "curl-auth-header", "curl -fsS -H \"Authorization: Bearer {S}\" https://ci.acme.dev/api/v1/builds", t(AN, 40))
add(SH2, "authorization-header", "export AUTH_HEADER=\"Authorization: Token {S}\"", t(AN, 40))
add(SH2, "docker-config-json-base64", "kubectl patch secret regcred -p '{\".dockerconfigjson\": \"{S}\"}'",
    base64.b64encode(("{\"auths\":{\"registry.acme.dev\":{\"auth\":\"" + t(B64, 32) + "\"}}}").encode()).decode())
files[K8S] = ["apiVersion: v1", "kind: Secret", "metadata:", "  name: db", "type: Opaque", "data:",
              "  username: YWNtZQ==", "  db-password: " + split(base64.b64encode(t(AN, 18).encode()).decode()), ""]
labels.append((K8S, 8, "kubernetes-secret-data"))
add("srv/app/conf/app.xml", "generic-xml-credential", "<config>\n  <apiToken>\n    {S}\n  </apiToken>\n</config>", t(AN, 32))

# ------------------------------------------------------------------ write
here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "files")
shutil.rmtree(out, ignore_errors=True)
for path, lines in list(files.items()) + list(N.items()):
    full = os.path.join(out, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    text = "\n".join(lines)
    if not text.endswith("\n"):
        text += "\n"
    with open(full, "w") as f:
        f.write(text)
with open(os.path.join(here, "labels.txt"), "w") as f:
    f.write("# path:line rule-id -- generated by generate.py; every other finding is a false positive\n")
    for path, line, rule in sorted(labels):
        f.write(f"{path}:{line} {rule}\n")
with open(os.path.join(here, "near-misses.txt"), "w") as f:
    f.write("# files that must produce no finding -- generated by generate.py\n")
    for path in sorted(N):
        f.write(path + "\n")
print(len(labels), "labels,", len(files), "positive files,", len(N), "near-miss files")
