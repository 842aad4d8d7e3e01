//! The built-in rule set: rules as data, one entry per token kind.
//!
//! Every regex here is ours, written from the provider's documented token
//! format (prefix, alphabet, length). Conventions:
//!
//! - the named group `secret` is the part that gets masked and reported;
//! - rules are compiled with `unicode(false)` (bytes, ASCII `\b`/`\w`/`\s`)
//!   and `multi_line(true)` (`^`/`$` at line boundaries);
//! - `keywords` are lowercase and matched ASCII-case-insensitively by the
//!   Aho-Corasick prefilter; a rule runs only around a line where one of its
//!   keywords occurs, so every keyword must occur in (or on the line of)
//!   every match. Two rules have no keywords: both are restricted by a path
//!   filter to one small well-known file (`.pgpass`, Rails `master.key`);
//! - the table order is the priority: when two rules report overlapping
//!   secrets the earlier one wins (specific token formats come before the
//!   generic assignments at the end).

use crate::judge::Check;
use customs_model::Severity;
use Severity::{Critical as C, High as H, Low as L, Medium as M};

/// One built-in rule as static data (compiled into a [`crate::Rule`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Builtin {
    pub id: &'static str,
    pub category: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub regex: &'static str,
    pub keywords: &'static [&'static str],
    pub path: Option<&'static str>,
    pub allow: &'static [&'static str],
    pub entropy: Option<f64>,
    /// Allow patterns tested on the whole match (not only the secret).
    pub allow_match: &'static [&'static str],
    /// Extra lines after the keyword's line that the regex may span.
    pub lines_after: usize,
    /// Code-aware checks of each match ([`crate::judge`]).
    pub check: Check,
    /// Lengths of named groups, checked after the match ([`Bound`]).
    pub bounds: &'static [Bound],
}

/// The longest a named group of a rule's regex may be, checked after the
/// match instead of as a counted repetition in the regex: `[a-z]{0,40}`
/// makes the regex's lazy DFA track every count, and the bounded generic
/// rules cost 2.7 MB of DFA cache per scanning thread on the library corpus
/// against 0.4 MB written as `[a-z]*` with a bound.
///
/// A match whose group is out of bounds is dropped and the search resumes
/// at that group's start. Every bounded group therefore follows a fixed
/// anchor (`://`, `curl`, the keyword, the opening quote): a later start
/// inside the group could not give a match the counted repetition would
/// have found.
///
/// Minimums stay in the regex (`[a-z]{8,}`): a short count costs a few
/// states, and a match too short to count is then never found, so it
/// cannot hide a later one (the lazy gap of the curl rules goes on to the
/// next `-u`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bound {
    pub group: &'static str,
    pub max: usize,
}

/// Group `group` spans at most `max` bytes.
const fn max_len(group: &'static str, max: usize) -> Bound {
    Bound { group, max }
}

const fn r(
    id: &'static str,
    category: &'static str,
    title: &'static str,
    severity: Severity,
    regex: &'static str,
    keywords: &'static [&'static str],
) -> Builtin {
    Builtin {
        id,
        category,
        title,
        severity,
        regex,
        keywords,
        path: None,
        allow: &[],
        allow_match: &[],
        entropy: None,
        lines_after: 0,
        check: Check::None,
        bounds: &[],
    }
}

impl Builtin {
    const fn path(mut self, p: &'static str) -> Self {
        self.path = Some(p);
        self
    }
    const fn allow(mut self, a: &'static [&'static str]) -> Self {
        self.allow = a;
        self
    }
    const fn allow_match(mut self, a: &'static [&'static str]) -> Self {
        self.allow_match = a;
        self
    }
    const fn lines(mut self, n: usize) -> Self {
        self.lines_after = n;
        self
    }
    const fn check(mut self, c: Check) -> Self {
        self.check = c;
        self
    }
    const fn bounds(mut self, b: &'static [Bound]) -> Self {
        self.bounds = b;
        self
    }
}

/// End of a token whose alphabet is `[A-Za-z0-9_-]`.
// Long counted repetitions (`{8,4096}`) are avoided: each repetition is a
// state of the regex's automata, and one JWT rule bounded that way cost
// 1.7 MB per scanning thread. Upper bounds, where they matter, are checked
// after the match (`judge::jwt_ok`).
macro_rules! e {
    () => {
        r"(?:[^A-Za-z0-9_-]|$)"
    };
}

/// `KEY ... = ` where KEY (case-insensitive) starts the assignment: the key
/// may carry a suffix (`TWILIO_AUTH_TOKEN`), be quoted, and be assigned with
/// `=`, `:`, `:=` or `=>`; the value may be quoted.
macro_rules! kv {
    ($k:literal) => {
        concat!(
            r"(?i:",
            $k,
            r")[\w.-]{0,25}[\x22'\]]?\s*(?::=|=>|=|:)\s*[\x22'`]?"
        )
    };
}

/// A PEM-style armored private key block.
macro_rules! pem {
    ($label:literal) => {
        concat!(
            r"-----BEGIN ",
            $label,
            r"-----(?:\\r|\\n|\s)*(?P<secret>[A-Za-z0-9+/=\\:,\s-]{64,}?)(?:\\r|\\n|\s)*-----END ",
            $label,
            r"-----"
        )
    };
}

/// `SCHEME://user:password@host` (the password is the secret).
macro_rules! url {
    ($scheme:literal) => {
        concat!(
            r"(?i:\b(?:",
            $scheme,
            r")://)(?P<user>[^:@/\s\x22'<>]*):(?P<secret>[^@/\s\x22'<>]{3,})@[^\s\x22'<>/:]{2,}"
        )
    };
}

/// The user and password lengths of [`url!`].
const URL_BOUNDS: &[Bound] = &[max_len("user", 64), max_len("secret", 128)];

/// URLs whose host is a reserved documentation name (RFC 2606).
const EXAMPLE_HOST: &[&str] = &[
    r"(?i)@(?:[a-z0-9-]+\.)*(?:example\.(?:com|org|net)|[a-z0-9-]+\.(?:example|test|invalid))(?:[:/]|$)",
];

/// Placeholder-looking values of the generic assignment rules.
const GENERIC_ALLOW: &[&str] = &[
    // references to variables, templates, and format strings
    r"^(?:\$|%\(|%[sd]|\{|<|@)",
    // UUIDs are identifiers far more often than secrets
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    // file paths and URLs, dotted identifiers (`settings.TOKEN`), also as a
    // code argument (`key_password=self.key_password,` in urllib3)
    r"^/|://|^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+[,;]?$",
    // snake/kebab-case words
    r"^[a-z]+(?:[_-][a-z]+)*$",
    // all digits (lengths, ports)
    r"^[0-9]+$",
    // function calls and expressions
    r"[()]",
];

/// Extra allow patterns of the generic `secret`/`token` rules: identifiers in
/// camelCase or CONSTANT_CASE without a digit are names, not values.
const GENERIC_SECRET_ALLOW: &[&str] = &[
    r"^(?:\$|%\(|%[sd]|\{|<|@)",
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    r"^/|://|^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+[,;]?$",
    r"^[a-z]+(?:[_-][a-z]+)*$",
    r"^[0-9]+$",
    r"[()]",
    r"^[^0-9]*$",
];

pub(crate) static BUILTIN_RULES: &[Builtin] = &[
    // ---------------------------------------------------------------- AWS
    r("aws-access-key-id", "AWS", "AWS Access Key ID", C,
      r"\b(?P<secret>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16})\b",
      &["akia", "asia", "abia", "acca", "a3t", "agpa", "aida", "aroa", "aipa", "anpa", "anva"]),
    r("aws-secret-access-key", "AWS", "AWS Secret Access Key", C,
      concat!(kv!(r"secret[_.-]?access[_.-]?key|aws[_.-]?secret(?:[_.-]?key)?"),
              r"(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"),
      &["secret_access_key", "secretaccesskey", "secret-access-key", "aws_secret", "aws-secret"]),
    r("aws-session-token", "AWS", "AWS Session Token", H,
      r"(?P<secret>(?:IQoJb3JpZ2lu|FwoGZXIvYXdz|FQoGZXIvYXdz)[A-Za-z0-9/+=]{100,})",
      &["iqojb3jpz2lu", "fwogzxivyxdz", "fqogzxivyxdz"]),
    r("aws-mws-auth-token", "AWS", "Amazon MWS Auth Token", H,
      r"\b(?P<secret>amzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b",
      &["amzn.mws."]),
    // --------------------------------------------------------- Google Cloud
    r("gcp-service-account", "GoogleCloud", "GCP service account private key", C,
      r#""private_key"\s*:\s*"(?P<secret>-----BEGIN (?:RSA )?PRIVATE KEY-----\\n[A-Za-z0-9+/=\\]{64,}?\\n-----END (?:RSA )?PRIVATE KEY-----(?:\\n)?)""#,
      &["\"private_key\""]),
    r("gcp-api-key", "GoogleCloud", "Google API key", H,
      concat!(r"\b(?P<secret>AIza[0-9A-Za-z_-]{35})", e!()),
      &["aiza"]),
    r("gcp-oauth-client-secret", "GoogleCloud", "Google OAuth client secret", H,
      concat!(r"\b(?P<secret>GOCSPX-[A-Za-z0-9_-]{28})", e!()),
      &["gocspx-"]),
    r("google-oauth-access-token", "GoogleCloud", "Google OAuth access token", H,
      concat!(r"\b(?P<secret>ya29\.[0-9A-Za-z_-]{30,})", e!()),
      &["ya29."]),
    r("firebase-fcm-server-key", "Firebase", "Firebase Cloud Messaging server key", H,
      concat!(r"\b(?P<secret>AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{134})", e!()),
      &[":apa91b"]),
    // --------------------------------------------------------------- Azure
    r("azure-storage-account-key", "Azure", "Azure storage account key", C,
      r"(?i:AccountKey)=(?P<secret>[A-Za-z0-9+/]{86}==)",
      &["accountkey="]),
    r("azure-shared-access-key", "Azure", "Azure Service Bus / Event Hubs shared access key", H,
      r"(?i:SharedAccessKey)=(?P<secret>[A-Za-z0-9+/]{43}=)",
      &["sharedaccesskey="]),
    r("azure-sas-token", "Azure", "Azure shared access signature", H,
      r"\bsv=20[0-9]{2}-[0-9]{2}-[0-9]{2}&(?P<gap>[^\s\x22'<>]*?)\bsig=(?P<secret>[A-Za-z0-9%+/]{40,100})",
      &["sig="]).bounds(&[max_len("gap", 400)]),
    r("azure-client-secret", "Azure", "Azure AD (Entra ID) client secret", H,
      r"(?:^|[^A-Za-z0-9_~.-])(?P<secret>[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})(?:[^A-Za-z0-9_~.-]|$)",
      &["q~"]),
    r("azure-container-registry-password", "Azure", "Azure Container Registry password", H,
      r"(?:^|[^A-Za-z0-9+/])(?P<secret>[A-Za-z0-9+/]{42}\+ACR[A-Za-z0-9]{6})(?:[^A-Za-z0-9+/=]|$)",
      &["+acr"]),
    r("azure-app-configuration-connection-string", "Azure", "Azure App Configuration connection string", H,
      r"(?i:Endpoint=https://[A-Za-z0-9-]+\.azconfig\.io;Id=)[^;\s\x22']{4,64};(?i:Secret=)(?P<secret>[A-Za-z0-9+/]{40,100}={0,2})",
      &["azconfig.io"]),
    r("azure-devops-pat", "Azure", "Azure DevOps personal access token", H,
      r"\b(?P<secret>[A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4})\b",
      &["azdo"]),
    // -------------------------------------------------------------- GitHub
    r("github-pat", "GitHub", "GitHub Personal Access Token", C,
      r"(?P<secret>ghp_[A-Za-z0-9]{36})\b", &["ghp_"]),
    r("github-fine-grained-pat", "GitHub", "GitHub Fine-grained personal access token", C,
      r"(?P<secret>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b", &["github_pat_"]),
    r("github-oauth-token", "GitHub", "GitHub OAuth Access Token", H,
      r"(?P<secret>gho_[A-Za-z0-9]{36})\b", &["gho_"]),
    r("github-app-token", "GitHub", "GitHub App Token", H,
      r"(?P<secret>(?:ghu|ghs)_[A-Za-z0-9]{36})\b", &["ghu_", "ghs_"]),
    r("github-refresh-token", "GitHub", "GitHub Refresh Token", H,
      r"(?P<secret>ghr_[A-Za-z0-9]{36,76})\b", &["ghr_"]),
    // -------------------------------------------------------------- GitLab
    r("gitlab-pat", "GitLab", "GitLab Personal Access Token", C,
      concat!(r"\b(?P<secret>glpat-[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+)*)", e!()), &["glpat-"]),
    r("gitlab-runner-token", "GitLab", "GitLab Runner Authentication Token", H,
      concat!(r"\b(?P<secret>glrt-[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+)*)", e!()), &["glrt-"]),
    r("gitlab-runner-registration-token", "GitLab", "GitLab Runner Registration Token", H,
      concat!(r"\b(?P<secret>GR1348941[A-Za-z0-9_-]{20})", e!()), &["gr1348941"]),
    r("gitlab-deploy-token", "GitLab", "GitLab Deploy Token", H,
      concat!(r"\b(?P<secret>gldt-[A-Za-z0-9_-]{20,})", e!()), &["gldt-"]),
    r("gitlab-pipeline-trigger-token", "GitLab", "GitLab Pipeline Trigger Token", H,
      r"\b(?P<secret>glptt-[0-9a-f]{40})\b", &["glptt-"]),
    r("gitlab-feed-token", "GitLab", "GitLab Feed Token", M,
      concat!(r"\b(?P<secret>glft-[A-Za-z0-9_-]{20,})", e!()), &["glft-"]),
    r("gitlab-oauth-app-secret", "GitLab", "GitLab OAuth Application Secret", H,
      concat!(r"\b(?P<secret>gloas-[A-Za-z0-9_-]{64})", e!()), &["gloas-"]),
    r("gitlab-cicd-job-token", "GitLab", "GitLab CI/CD Job Token", H,
      concat!(r"\b(?P<secret>glcbt-[0-9A-Za-z]{1,5}_[0-9A-Za-z_-]{20})", e!()), &["glcbt-"]),
    r("gitlab-agent-token", "GitLab", "GitLab Agent for Kubernetes Token", H,
      concat!(r"\b(?P<secret>glagent-[A-Za-z0-9_-]{50})", e!()), &["glagent-"]),
    r("gitlab-scim-token", "GitLab", "GitLab SCIM OAuth Token", H,
      concat!(r"\b(?P<secret>glsoat-[A-Za-z0-9_-]{20})", e!()), &["glsoat-"]),
    // ------------------------------------------------- Bitbucket, Atlassian
    r("bitbucket-app-password", "Bitbucket", "Bitbucket App Password", H,
      r"\b(?P<secret>ATBB[A-Za-z0-9_=.-]{32})(?:[^A-Za-z0-9_=.-]|$)", &["atbb"]),
    r("bitbucket-access-token", "Bitbucket", "Bitbucket Repository/Workspace Access Token", H,
      r"\b(?P<secret>ATCTT3[A-Za-z0-9_=-]{150,250})(?:[^A-Za-z0-9_=-]|$)", &["atctt3"]),
    r("atlassian-api-token", "Atlassian", "Atlassian API Token", H,
      r"\b(?P<secret>ATATT3[A-Za-z0-9_=-]{150,250})(?:[^A-Za-z0-9_=-]|$)", &["atatt3"]),
    // --------------------------------------------------------------- Slack
    r("slack-bot-token", "Slack", "Slack Bot Token", H,
      r"\b(?P<secret>xoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24})\b", &["xoxb-"]),
    r("slack-legacy-bot-token", "Slack", "Slack Legacy Bot Token", H,
      r"\b(?P<secret>xoxb-[0-9]{8,14}-[A-Za-z0-9]{18,26})\b", &["xoxb-"]),
    r("slack-user-token", "Slack", "Slack User Token", H,
      r"\b(?P<secret>xox[pe]-[0-9]{10,13}-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{28,34})\b",
      &["xoxp-", "xoxe-"]),
    r("slack-app-token", "Slack", "Slack App-level Token", H,
      r"\b(?P<secret>xapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,14}-[a-f0-9]{64})\b", &["xapp-"]),
    r("slack-config-token", "Slack", "Slack Configuration Token", H,
      r"\b(?P<secret>xoxe\.xox[bp]-[0-9]-[A-Z0-9]{163,166})\b", &["xoxe.xox"]),
    r("slack-legacy-token", "Slack", "Slack Legacy Token", H,
      r"\b(?P<secret>xox[aors]-(?:[0-9]+-)+[A-Za-z0-9]{8,64})\b",
      &["xoxa-", "xoxo-", "xoxr-", "xoxs-"]),
    r("slack-web-hook", "Slack", "Slack Incoming Webhook", M,
      r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<secret>[A-Za-z0-9]{8,12}/[A-Za-z0-9+/]{24,110})",
      &["hooks.slack.com"]),
    // ------------------------------------------------------------- Discord
    r("discord-bot-token", "Discord", "Discord Bot Token", H,
      concat!(kv!("discord"), r"(?:Bot\s+)?(?P<secret>[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38})", e!()),
      &["discord"]),
    r("discord-webhook", "Discord", "Discord Webhook", M,
      concat!(r"discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/(?P<secret>[A-Za-z0-9_-]{60,68})", e!()),
      &["/api/webhooks/"]),
    // ----------------------------------------------------- messaging, mail
    r("twilio-api-key", "Twilio", "Twilio API Key", H,
      concat!(kv!("twilio"), r"(?P<secret>SK[0-9a-fA-F]{32})\b"), &["twilio"]),
    r("twilio-auth-token", "Twilio", "Twilio Auth Token", H,
      concat!(r"(?i:twilio)[\w.-]{0,20}(?i:auth|token|secret)", kv!(""), r"(?P<secret>[0-9a-f]{32})\b"),
      &["twilio"]),
    r("sendgrid-api-key", "SendGrid", "SendGrid API Key", H,
      concat!(r"\b(?P<secret>SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})", e!()), &["sg."]),
    r("mailgun-api-key", "Mailgun", "Mailgun API Key", H,
      r"\b(?P<secret>key-[0-9a-f]{32})\b", &["key-"]),
    r("mailgun-api-key-v2", "Mailgun", "Mailgun API Key (v2)", H,
      concat!(kv!("mailgun"), r"(?P<secret>[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8})\b"), &["mailgun"]),
    r("mailchimp-api-key", "Mailchimp", "Mailchimp API Key", H,
      r"\b(?P<secret>[0-9a-f]{32}-us[0-9]{1,2})\b", &["-us"]),
    r("brevo-api-key", "Brevo", "Brevo (Sendinblue) API Key", H,
      r"\b(?P<secret>xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16})\b", &["xkeysib-"]),
    r("brevo-smtp-key", "Brevo", "Brevo (Sendinblue) SMTP Key", H,
      r"\b(?P<secret>xsmtpsib-[a-f0-9]{64}-[A-Za-z0-9]{16})\b", &["xsmtpsib-"]),
    r("telegram-bot-token", "Telegram", "Telegram Bot Token", H,
      concat!(r"(?:^|[^0-9])(?P<secret>[0-9]{8,10}:AA[A-Za-z0-9_-]{33})", e!()), &[":aa"]),
    r("microsoft-teams-webhook", "MicrosoftTeams", "Microsoft Teams Incoming Webhook", M,
      r"\.webhook\.office\.com/webhookb2/[A-Za-z0-9@-]{20,100}/IncomingWebhook/(?P<secret>[A-Za-z0-9]{32}/[A-Za-z0-9-]{36})",
      &["webhook.office.com"]),
    // ------------------------------------------------------------ payments
    r("stripe-secret-key", "Stripe", "Stripe Secret Key", C,
      r"\b(?P<secret>sk_(?:live|test|prod)_[0-9A-Za-z]{10,99})\b", &["sk_live_", "sk_test_", "sk_prod_"]),
    r("stripe-restricted-key", "Stripe", "Stripe Restricted Key", H,
      r"\b(?P<secret>rk_(?:live|test|prod)_[0-9A-Za-z]{10,99})\b", &["rk_live_", "rk_test_", "rk_prod_"]),
    r("stripe-webhook-secret", "Stripe", "Stripe Webhook Signing Secret", M,
      r"\b(?P<secret>whsec_[A-Za-z0-9+/]{32,64})\b", &["whsec_"]),
    r("shopify-access-token", "Shopify", "Shopify Access Token", H,
      r"\b(?P<secret>shpat_[a-fA-F0-9]{32})\b", &["shpat_"]),
    r("shopify-custom-app-token", "Shopify", "Shopify Custom App Access Token", H,
      r"\b(?P<secret>shpca_[a-fA-F0-9]{32})\b", &["shpca_"]),
    r("shopify-private-app-token", "Shopify", "Shopify Private App Access Token", H,
      r"\b(?P<secret>shppa_[a-fA-F0-9]{32})\b", &["shppa_"]),
    r("shopify-shared-secret", "Shopify", "Shopify Shared Secret", H,
      r"\b(?P<secret>shpss_[a-fA-F0-9]{32})\b", &["shpss_"]),
    r("square-access-token", "Square", "Square Access Token", H,
      concat!(r"\b(?P<secret>(?:EAAA|sq0atp-)[A-Za-z0-9_-]{22,60})", e!()), &["eaaa", "sq0atp-"]),
    r("square-oauth-secret", "Square", "Square OAuth Secret", H,
      concat!(r"\b(?P<secret>sq0csp-[A-Za-z0-9_-]{43})", e!()), &["sq0csp-"]),
    r("braintree-access-token", "Braintree", "PayPal Braintree Access Token", C,
      r"\b(?P<secret>access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32})\b",
      &["access_token$production$"]),
    r("paypal-client-secret", "PayPal", "PayPal REST API Client Secret", H,
      concat!(r"(?i:paypal)[\w.-]{0,20}(?i:secret)", kv!(""), r"(?P<secret>E[A-Za-z0-9_-]{79})", e!()),
      &["paypal"]),
    r("plaid-access-token", "Plaid", "Plaid Access Token", H,
      r"\b(?P<secret>access-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b",
      &["access-production-", "access-development-", "access-sandbox-"]),
    r("flutterwave-secret-key", "Flutterwave", "Flutterwave Secret Key", H,
      r"\b(?P<secret>FLWSECK(?:_TEST)?-[a-h0-9]{32}-X)\b", &["flwseck"]),
    r("shippo-api-token", "Shippo", "Shippo API Token", H,
      r"\b(?P<secret>shippo_(?:live|test)_[a-f0-9]{40})\b", &["shippo_"]),
    r("easypost-api-key", "EasyPost", "EasyPost API Key", H,
      r"\b(?P<secret>EZAK[A-Za-z0-9]{54})\b", &["ezak"]),
    r("duffel-api-token", "Duffel", "Duffel API Token", H,
      concat!(r"\b(?P<secret>duffel_(?:test|live)_[A-Za-z0-9_=-]{43})", e!()), &["duffel_"]),
    // --------------------------------------------------- package registries
    r("npm-access-token", "npm", "npm Access Token", C,
      r"\b(?P<secret>npm_[A-Za-z0-9]{36})\b", &["npm_"]),
    r("pypi-upload-token", "PyPI", "PyPI upload token", C,
      concat!(r"\b(?P<secret>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})", e!()),
      &["pypi-ageichlwas5vcmc"]),
    r("rubygems-api-key", "RubyGems", "RubyGems API Key", H,
      r"\b(?P<secret>rubygems_[0-9a-f]{48})\b", &["rubygems_"]),
    r("nuget-api-key", "NuGet", "NuGet API Key", H,
      r"\b(?P<secret>oy2[a-z0-9]{43})\b", &["oy2"]),
    r("docker-hub-pat", "Docker", "Docker Hub Access Token", H,
      concat!(r"\b(?P<secret>dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,32})", e!()), &["dckr_"]),
    r("artifactory-api-key", "JFrog", "JFrog Artifactory API Key", H,
      r"\b(?P<secret>AKCp[A-Za-z0-9]{69})\b", &["akcp"]),
    r("artifactory-reference-token", "JFrog", "JFrog Artifactory Reference Token", H,
      r"\b(?P<secret>cmVmdGtu[A-Za-z0-9]{56})\b", &["cmvmdgtu"]),
    r("pulumi-access-token", "Pulumi", "Pulumi Access Token", H,
      r"\b(?P<secret>pul-[a-f0-9]{40})\b", &["pul-"]),
    r("crates-io-api-token", "CratesIO", "crates.io API Token", H,
      r"\b(?P<secret>cio[A-Za-z0-9]{32})\b", &["cio"]),
    r("clojars-api-token", "Clojars", "Clojars Deploy Token", H,
      r"\b(?P<secret>CLOJARS_[a-z0-9]{60})\b", &["clojars_"]),
    r("private-packagist-token", "PrivatePackagist", "Private Packagist Token", H,
      r"\b(?P<secret>packagist_[ou][ru]t_[a-f0-9]{68})\b", &["packagist_"]),
    // --------------------------------------------------------- AI providers
    r("openai-api-key", "OpenAI", "OpenAI API Key", C,
      concat!(r"\b(?P<secret>sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,74}T3BlbkFJ[A-Za-z0-9_-]{20,74})", e!()),
      &["t3blbkfj"]),
    r("anthropic-api-key", "Anthropic", "Anthropic API Key", C,
      concat!(r"\b(?P<secret>sk-ant-api03-[A-Za-z0-9_-]{93}AA)", e!()), &["sk-ant-api03"]),
    r("anthropic-admin-key", "Anthropic", "Anthropic Admin API Key", C,
      concat!(r"\b(?P<secret>sk-ant-admin01-[A-Za-z0-9_-]{93}AA)", e!()), &["sk-ant-admin01"]),
    r("huggingface-access-token", "HuggingFace", "Hugging Face Access Token", H,
      r"\b(?P<secret>hf_[A-Za-z]{34})\b", &["hf_"]),
    r("huggingface-org-token", "HuggingFace", "Hugging Face Organization API Token", H,
      r"\b(?P<secret>api_org_[A-Za-z]{34})\b", &["api_org_"]),
    r("groq-api-key", "Groq", "Groq API Key", H,
      r"\b(?P<secret>gsk_[A-Za-z0-9]{52})\b", &["gsk_"]),
    r("perplexity-api-key", "Perplexity", "Perplexity API Key", H,
      r"\b(?P<secret>pplx-[A-Za-z0-9]{48})\b", &["pplx-"]),
    r("replicate-api-token", "Replicate", "Replicate API Token", H,
      r"\b(?P<secret>r8_[A-Za-z0-9]{37})\b", &["r8_"]),
    r("xai-api-key", "xAI", "xAI API Key", H,
      r"\b(?P<secret>xai-[A-Za-z0-9]{80})\b", &["xai-"]),
    r("langsmith-api-key", "LangChain", "LangSmith API Key", H,
      r"\b(?P<secret>lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10})\b", &["lsv2_"]),
    // ------------------------------------------------------------ HashiCorp
    r("vault-service-token", "HashiCorp", "HashiCorp Vault Service Token", C,
      concat!(r"\b(?P<secret>hvs\.[A-Za-z0-9_-]{90,120})", e!()), &["hvs."]),
    r("vault-batch-token", "HashiCorp", "HashiCorp Vault Batch Token", H,
      concat!(r"\b(?P<secret>hvb\.[A-Za-z0-9_-]{138,300})", e!()), &["hvb."]),
    r("vault-legacy-token", "HashiCorp", "HashiCorp Vault Token (legacy format)", H,
      concat!(r"(?i:vault)[\w.-]{0,10}(?i:token)", kv!(""), r"(?P<secret>s\.[A-Za-z0-9]{24})\b"),
      &["vault"]),
    r("terraform-cloud-token", "HashiCorp", "Terraform Cloud / Enterprise API Token", C,
      concat!(r"\b(?P<secret>[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})", e!()),
      &[".atlasv1."]),
    // ------------------------------------------------------- cloud and PaaS
    r("alibaba-access-key-id", "Alibaba", "Alibaba Cloud AccessKey ID", H,
      r"\b(?P<secret>LTAI[A-Za-z0-9]{12,20})\b", &["ltai"]),
    r("tencent-secret-id", "Tencent", "Tencent Cloud SecretId", H,
      r"\b(?P<secret>AKID[A-Za-z0-9]{32})\b", &["akid"]),
    r("digitalocean-pat", "DigitalOcean", "DigitalOcean Personal Access Token", C,
      r"\b(?P<secret>dop_v1_[a-f0-9]{64})\b", &["dop_v1_"]),
    r("digitalocean-oauth-token", "DigitalOcean", "DigitalOcean OAuth Token", H,
      r"\b(?P<secret>doo_v1_[a-f0-9]{64})\b", &["doo_v1_"]),
    r("digitalocean-refresh-token", "DigitalOcean", "DigitalOcean OAuth Refresh Token", H,
      r"\b(?P<secret>dor_v1_[a-f0-9]{64})\b", &["dor_v1_"]),
    r("heroku-api-key", "Heroku", "Heroku API Key", H,
      concat!(kv!("heroku"), r"(?P<secret>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"),
      &["heroku"]),
    r("heroku-api-key-v2", "Heroku", "Heroku API Key (HRKU)", H,
      concat!(r"\b(?P<secret>HRKU-[A-Za-z0-9_-]{60})", e!()), &["hrku-"]),
    r("cloudflare-origin-ca-key", "Cloudflare", "Cloudflare Origin CA Key", H,
      r"\b(?P<secret>v1\.0-[a-f0-9]{24}-[a-f0-9]{146})\b", &["v1.0-"]),
    r("cloudflare-api-token", "Cloudflare", "Cloudflare API Token", H,
      concat!(kv!(r"cloudflare|cf_api"), r"(?P<secret>[A-Za-z0-9_-]{40})", e!()),
      &["cloudflare", "cf_api"]),
    r("netlify-access-token", "Netlify", "Netlify Personal Access Token", H,
      r"\b(?P<secret>nfp_[A-Za-z0-9]{36})\b", &["nfp_"]),
    r("fly-io-access-token", "FlyIO", "Fly.io Access Token", H,
      concat!(r"\b(?P<secret>fo1_[A-Za-z0-9_-]{43})", e!()), &["fo1_"]),
    r("planetscale-api-token", "PlanetScale", "PlanetScale API / OAuth Token", H,
      r"\b(?P<secret>pscale_(?:tkn|oauth)_[A-Za-z0-9_.-]{32,64})(?:[^A-Za-z0-9_.-]|$)",
      &["pscale_tkn_", "pscale_oauth_"]),
    r("planetscale-password", "PlanetScale", "PlanetScale Database Password", H,
      r"\b(?P<secret>pscale_pw_[A-Za-z0-9_.-]{32,64})(?:[^A-Za-z0-9_.-]|$)", &["pscale_pw_"]),
    r("supabase-access-token", "Supabase", "Supabase Access Token", H,
      r"\b(?P<secret>sbp_[a-f0-9]{40})\b", &["sbp_"]),
    r("render-api-key", "Render", "Render API Key", H,
      r"\b(?P<secret>rnd_[A-Za-z0-9]{32})\b", &["rnd_"]),
    r("scalingo-api-token", "Scalingo", "Scalingo API Token", H,
      concat!(r"\b(?P<secret>tk-us-[A-Za-z0-9_-]{48})", e!()), &["tk-us-"]),
    r("databricks-api-token", "Databricks", "Databricks API Token", H,
      r"\b(?P<secret>dapi[a-f0-9]{32}(?:-[0-9])?)\b", &["dapi"]),
    r("doppler-token", "Doppler", "Doppler Token", H,
      r"\b(?P<secret>dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})\b",
      &["dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."]),
    r("onepassword-service-account-token", "1Password", "1Password Service Account Token", C,
      r"\b(?P<secret>ops_eyJ[A-Za-z0-9+/]{250,}={0,3})", &["ops_eyj"]),
    r("tailscale-key", "Tailscale", "Tailscale Auth / API Key", H,
      r"\b(?P<secret>tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{8,}-[A-Za-z0-9]{20,})\b",
      &["tskey-"]),
    r("okta-api-token", "Okta", "Okta API Token", H,
      concat!(kv!("okta"), r"(?P<secret>00[A-Za-z0-9_-]{40})", e!()), &["okta"]),
    // ------------------------------------------- observability, dev tooling
    r("datadog-api-key", "Datadog", "Datadog API Key", H,
      concat!(r"(?i:datadog|dd)[\w.-]{0,20}(?i:api[_.-]?key)", kv!(""), r"(?P<secret>[0-9a-f]{32})\b"),
      &["datadog", "dd_api_key", "dd-api-key"]),
    r("datadog-app-key", "Datadog", "Datadog Application Key", H,
      concat!(r"(?i:datadog|dd)[\w.-]{0,20}(?i:app(?:lication)?[_.-]?key)", kv!(""), r"(?P<secret>[0-9a-f]{40})\b"),
      &["datadog", "dd_app_key", "dd-app-key"]),
    r("new-relic-user-api-key", "NewRelic", "New Relic User API Key", H,
      r"\b(?P<secret>NRAK-[A-Z0-9]{27})\b", &["nrak-"]),
    r("new-relic-insert-key", "NewRelic", "New Relic Insights Insert Key", M,
      concat!(r"\b(?P<secret>NRII-[A-Za-z0-9_-]{32})", e!()), &["nrii-"]),
    r("new-relic-browser-key", "NewRelic", "New Relic Browser API Key", L,
      r"\b(?P<secret>NRJS-[a-f0-9]{19})\b", &["nrjs-"]),
    r("sentry-auth-token", "Sentry", "Sentry Auth Token", H,
      r"\b(?P<secret>sntryu_[a-f0-9]{64}|sntrys_eyJ[A-Za-z0-9+/=_]{60,})", &["sntryu_", "sntrys_"]),
    r("grafana-api-key", "Grafana", "Grafana API Key", H,
      r"\b(?P<secret>eyJrIjoi[A-Za-z0-9]{60,400}={0,2})", &["eyjrijoi"]),
    r("grafana-cloud-token", "Grafana", "Grafana Cloud Access Policy Token", H,
      r"\b(?P<secret>glc_[A-Za-z0-9+/]{32,400}={0,2})", &["glc_"]),
    r("grafana-service-account-token", "Grafana", "Grafana Service Account Token", H,
      r"\b(?P<secret>glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})\b", &["glsa_"]),
    r("dynatrace-api-token", "Dynatrace", "Dynatrace API Token", H,
      r"\b(?P<secret>dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})\b", &["dt0c01."]),
    r("postman-api-key", "Postman", "Postman API Key", H,
      r"\b(?P<secret>PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b", &["pmak-"]),
    r("linear-api-key", "Linear", "Linear API Key", H,
      r"\b(?P<secret>lin_api_[A-Za-z0-9]{40})\b", &["lin_api_"]),
    r("notion-api-token", "Notion", "Notion Integration Token", H,
      r"\b(?P<secret>ntn_[0-9]{11}[A-Za-z0-9]{35})\b", &["ntn_"]),
    r("airtable-pat", "Airtable", "Airtable Personal Access Token", H,
      r"\b(?P<secret>pat[A-Za-z0-9]{14}\.[a-f0-9]{64})\b", &["pat"]),
    r("figma-pat", "Figma", "Figma Personal Access Token", H,
      concat!(r"\b(?P<secret>figd_[A-Za-z0-9_-]{40,})", e!()), &["figd_"]),
    r("contentful-pat", "Contentful", "Contentful Personal Access Token", H,
      concat!(r"\b(?P<secret>CFPAT-[A-Za-z0-9_-]{43})", e!()), &["cfpat-"]),
    r("typeform-api-token", "Typeform", "Typeform Personal Access Token", H,
      r"\b(?P<secret>tfp_[A-Za-z0-9_.=-]{59})(?:[^A-Za-z0-9_.=-]|$)", &["tfp_"]),
    r("frameio-api-token", "FrameIO", "Frame.io API Token", H,
      concat!(r"\b(?P<secret>fio-u-[A-Za-z0-9_=-]{64})", e!()), &["fio-u-"]),
    r("readme-api-key", "ReadMe", "ReadMe API Key", H,
      r"\b(?P<secret>rdme_[a-z0-9]{70})\b", &["rdme_"]),
    r("prefect-api-key", "Prefect", "Prefect API Key", H,
      r"\b(?P<secret>pnu_[A-Za-z0-9]{36})\b", &["pnu_"]),
    r("infracost-api-token", "Infracost", "Infracost API Token", M,
      r"\b(?P<secret>ico-[A-Za-z0-9]{32})\b", &["ico-"]),
    r("harness-api-key", "Harness", "Harness Personal Access Token", H,
      r"\b(?P<secret>pat\.[A-Za-z0-9_-]{22}\.[0-9a-f]{24}\.[A-Za-z0-9]{20})\b", &["pat."]),
    r("sonarqube-token", "SonarQube", "SonarQube / SonarCloud Token", H,
      r"\b(?P<secret>sq[pua]_[a-f0-9]{40})\b", &["sqp_", "squ_", "sqa_"]),
    r("circleci-pat", "CircleCI", "CircleCI Personal API Token", H,
      r"\b(?P<secret>CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40})\b", &["ccipat_"]),
    r("buildkite-api-token", "Buildkite", "Buildkite API Access Token", H,
      r"\b(?P<secret>bkua_[a-f0-9]{40})\b", &["bkua_"]),
    r("adobe-client-secret", "Adobe", "Adobe Client Secret", H,
      r"\b(?P<secret>p8e-[A-Za-z0-9]{32})\b", &["p8e-"]),
    // -------------------------------------------------- social and content
    r("facebook-access-token", "Facebook", "Facebook Access Token", H,
      r"\b(?P<secret>EAA[B-Z][A-Za-z0-9]{90,400})\b", &["eaa"]),
    r("twitter-bearer-token", "Twitter", "Twitter / X Bearer Token", H,
      concat!(kv!("twitter"), r"(?P<secret>A{18,22}[A-Za-z0-9%]{80,120})\b"), &["twitter"]),
    r("dropbox-api-token", "Dropbox", "Dropbox Access Token", H,
      concat!(r"\b(?P<secret>sl\.(?:u\.)?[A-Za-z0-9_-]{130,})", e!()), &["sl."]),
    r("mapbox-secret-token", "Mapbox", "Mapbox Secret Access Token", H,
      concat!(r"\b(?P<secret>sk\.eyJ[A-Za-z0-9_-]{50,}\.[A-Za-z0-9_-]{20,})", e!()), &["sk.eyj"]),
    // ---------------------------------------------------------- JWT, misc
    r("jwt-token", "JWT", "JSON Web Token", M,
      concat!(r"\b(?P<secret>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.(?:[A-Za-z0-9_-]{16,})?)", e!()),
      &["eyj"]).check(Check::Jwt),
    r("age-secret-key", "age", "age Secret Key", C,
      r"\b(?P<secret>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b",
      &["age-secret-key-1"]),
    r("onepassword-secret-key", "1Password", "1Password Secret Key", C,
      r"\b(?P<secret>A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})\b",
      &["a3-"]),
    r("openshift-user-token", "OpenShift", "OpenShift user token", H,
      concat!(r"\b(?P<secret>sha256~[A-Za-z0-9_-]{43})", e!()), &["sha256~"]),
    r("facebook-app-access-token", "Facebook", "Facebook app access token", H,
      concat!(r"(?i:facebook|fb)(?P<gap>[^\n]*?)\b(?P<secret>[0-9]{15,16}(?:\||%7[Cc])[A-Za-z0-9_-]{27,40})", e!()),
      &["facebook", "fb_", "fb-", "fb."]).bounds(&[max_len("gap", 60)]),
    r("messagebird-api-token", "MessageBird", "MessageBird API token", H,
      concat!(kv!(r"message[_.-]?bird"), r"(?P<secret>[A-Za-z0-9]{25})\b"),
      &["messagebird", "message_bird", "message-bird", "message.bird"]),
    r("sidekiq-secret", "Sidekiq", "Sidekiq Enterprise / Pro credentials", H,
      concat!(kv!(r"BUNDLE_(?:ENTERPRISE|GEMS)__CONTRIBSYS__COM"), r"(?P<secret>[a-f0-9]{8}:[a-f0-9]{8})\b"),
      &["bundle_enterprise__contribsys__com", "bundle_gems__contribsys__com"]),
    r("sidekiq-sensitive-url", "Sidekiq", "Sidekiq credentials in a gem source URL", H,
      r"(?i:https?://)(?P<secret>[a-f0-9]{8}:[a-f0-9]{8})@(?i:gems|enterprise)\.contribsys\.com",
      &["contribsys.com"]),
    r("curl-basic-auth", "Curl", "Credentials in a curl -u option", H,
      r#"\bcurl\b(?P<gap>[^\n]*?)\s(?:-u|--user)(?:=|[ \t]{1,5})["']?(?P<key>[^:"'\s]{1,64}):(?P<secret>[^"'\s]{3,128})["']?(?:\s|$)"#,
      &["curl"]).bounds(&[max_len("gap", 400)]).check(Check::Uri),
    r("curl-auth-header", "Curl", "Authorization header in a curl command", H,
      r#"\bcurl\b(?P<gap>[^\n]*?)\s(?:-H|--header)(?:=|[ \t]{1,5})["'](?P<key>(?i:Authorization)):[ \t]*(?i:Basic|Bearer|Token)[ \t]+(?P<secret>[A-Za-z0-9+/=._~-]{8,})"#,
      &["curl"]).bounds(&[max_len("gap", 400)]).check(Check::GenericAssign { password: false }),
    r("authorization-header", "Generic", "Credential in an Authorization header", H,
      r#"(?P<key>(?i:Authorization))["']?[ \t]*[:=][ \t]*["']?(?i:Basic|Bearer|Token)[ \t]+(?P<secret>[A-Za-z0-9+/=._~-]{16,})"#,
      &["authorization"]).check(Check::GenericAssign { password: false }),
    r("kubeconfig-client-key", "Kubernetes", "Client key in kubeconfig", C,
      r"client-key-data:\s*[\x22']?(?P<secret>[A-Za-z0-9+/]{40,}={0,2})", &["client-key-data"]),
    // --------------------------------------------------------- private keys
    r("rsa-private-key", "AsymmetricPrivateKey", "RSA private key", C,
      pem!("RSA PRIVATE KEY"), &["begin rsa private key"]).lines(2000)
      .check(Check::Pem { min: 300 }),
    r("ec-private-key", "AsymmetricPrivateKey", "EC private key", C,
      pem!("EC PRIVATE KEY"), &["begin ec private key"]).lines(2000)
      .check(Check::Pem { min: 100 }),
    r("dsa-private-key", "AsymmetricPrivateKey", "DSA private key", C,
      pem!("DSA PRIVATE KEY"), &["begin dsa private key"]).lines(2000)
      .check(Check::Pem { min: 300 }),
    r("openssh-private-key", "AsymmetricPrivateKey", "OpenSSH private key", C,
      pem!("OPENSSH PRIVATE KEY"), &["begin openssh private key"]).lines(2000)
      .check(Check::Pem { min: 180 }),
    r("pkcs8-private-key", "AsymmetricPrivateKey", "PKCS#8 private key", C,
      pem!("PRIVATE KEY"), &["begin private key"]).lines(2000)
      .check(Check::Pem { min: 60 }),
    r("pkcs8-encrypted-private-key", "AsymmetricPrivateKey", "PKCS#8 encrypted private key", H,
      pem!("ENCRYPTED PRIVATE KEY"), &["begin encrypted private key"]).lines(2000)
      .check(Check::Pem { min: 200 }),
    r("pgp-private-key", "AsymmetricPrivateKey", "PGP private key block", C,
      r"-----BEGIN PGP PRIVATE KEY BLOCK-----\s*(?P<secret>[ -~\s]{64,}?)\s*-----END PGP PRIVATE KEY BLOCK-----",
      &["begin pgp private key block"]).lines(4000),
    r("ssh2-private-key", "AsymmetricPrivateKey", "SSH2 (SSH.COM) encrypted private key", C,
      r"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\s*(?P<secret>[ -~\s]{64,}?)\s*---- END SSH2 ENCRYPTED PRIVATE KEY ----",
      &["begin ssh2 encrypted private key"]).lines(2000),
    r("putty-private-key", "AsymmetricPrivateKey", "PuTTY private key", C,
      r"PuTTY-User-Key-File-[23]: [^\r\n]+\r?\n(?:[^\r\n]*\r?\n){1,40}?Private-Lines: [0-9]+\r?\n(?P<secret>[A-Za-z0-9+/=]+\r?$(?:\n[A-Za-z0-9+/=]+\r?$)*)",
      &["putty-user-key-file-"]).lines(200),
    // ------------------------------ credentials inside config file formats
    r("npmrc-auth", "npm", "npm registry credentials in .npmrc", H,
      r"(?:_authToken|_auth|_password)\s*=\s*[\x22']?(?P<secret>[A-Za-z0-9+/=_.:-]{16,512})",
      &["_auth", "_password"])
      .path(r"(?:^|/)\.?npmrc$"),
    r("nuget-config-password", "NuGet", "Clear-text password in NuGet.Config", H,
      r#"<add\s+key="ClearTextPassword"\s+value="(?P<secret>[^"]{4,256})""#,
      &["cleartextpassword"]),
    r("docker-config-auth", "Docker", "Registry credentials in Docker config.json", H,
      r#""auth"\s*:\s*"(?P<secret>[A-Za-z0-9+/]{12,}={0,2})""#, &["\"auth\""]),
    r("docker-config-json-base64", "Docker", "Registry credentials in a .dockerconfigjson / .dockercfg", H,
      r#"\.docker(?:configjson|cfg)["']?\s*:\s*["']?(?P<secret>eyJ[A-Za-z0-9+/]{40,}={0,2})"#,
      &[".dockerconfigjson", ".dockercfg"]),
    r("kubernetes-secret-data", "Kubernetes", "Credential in a Kubernetes Secret manifest", H,
      r#"(?m)^kind:[ \t]*["']?Secret["']?[ \t]*\r?$(?:\n[^\n]*){0,40}?\n(?:data|stringData):[ \t]*\r?\n(?:[ \t]+[^\n]*\n){0,30}?[ \t]+(?P<key>[A-Za-z0-9_.-]*(?i:password|passwd|secret|token|api[_.-]?key|credential)[A-Za-z0-9_.-]*):[ \t]*["']?(?P<secret>[A-Za-z0-9+/=_.-]{8,512})["']?[ \t]*\r?$"#,
      &["kind: secret", "kind: \"secret\"", "kind: 'secret'"]).lines(80)
      .check(Check::GenericAssign { password: true }),
    r("maven-settings-password", "Maven", "Password in Maven settings.xml", H,
      r"<password>(?P<secret>[^<>\s$][^<>]{3,255})</password>", &["<password>"])
      .path(r"(?i)(?:^|/)(?:settings|settings-security)\.xml$"),
    // ------------------------------------------------ databases and URLs
    r("postgres-uri-password", "PostgreSQL", "Password in a PostgreSQL connection URI", H,
      url!("postgres|postgresql|postgis|jdbc:postgresql"), &["postgres"])
      .bounds(URL_BOUNDS)
      .allow(&[r"^(?i:password|pass|passwd|secret|\*+)$"])
      .allow_match(EXAMPLE_HOST)
      .check(Check::Uri),
    r("mysql-uri-password", "MySQL", "Password in a MySQL/MariaDB connection URI", H,
      url!("mysql|mysql2|mysqlx|mariadb|jdbc:mysql|jdbc:mariadb"), &["mysql", "mariadb"])
      .bounds(URL_BOUNDS)
      .allow(&[r"^(?i:password|pass|passwd|secret|\*+)$"])
      .allow_match(EXAMPLE_HOST)
      .check(Check::Uri),
    r("mongodb-uri-password", "MongoDB", "Password in a MongoDB connection URI", H,
      url!(r"mongodb(?:\+srv)?"), &["mongodb"])
      .bounds(URL_BOUNDS)
      .allow(&[r"^(?i:password|pass|passwd|secret|\*+)$"])
      .allow_match(EXAMPLE_HOST)
      .check(Check::Uri),
    r("redis-uri-password", "Redis", "Password in a Redis connection URI", H,
      url!("rediss?"), &["redis"])
      .bounds(URL_BOUNDS)
      .allow(&[r"^(?i:password|pass|passwd|secret|\*+)$"])
      .allow_match(EXAMPLE_HOST)
      .check(Check::Uri),
    r("amqp-uri-password", "RabbitMQ", "Password in an AMQP (RabbitMQ) connection URI", H,
      url!("amqps?"), &["amqp"])
      .bounds(URL_BOUNDS)
      .allow(&[r"^(?i:password|pass|passwd|secret|guest|\*+)$"])
      .allow_match(EXAMPLE_HOST)
      .check(Check::Uri),
    r("sqlserver-connection-password", "SQLServer", "Password in a SQL Server connection string", H,
      r"(?i:(?:jdbc:sqlserver://|server=|data source=)(?P<gap>[^\x22'\n]*?)(?:password|pwd)=)(?P<secret>[^;\x22'\s]{3,128})",
      &["jdbc:sqlserver", "server=", "data source="])
      .bounds(&[max_len("gap", 200)])
      .allow(&[r"^(?i:password|\*+)$"]),
    r("url-basic-auth", "URL", "Credentials in a URL", H,
      r"\b(?i:https?|ftps?|git|ssh|smtps?|ldaps?)://(?P<user>[A-Za-z0-9._%+~-]+):(?P<secret>[^@/\s\x22'<>:]{3,})@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}",
      &["://"])
      .bounds(&[max_len("user", 64), max_len("secret", 128)])
      .allow(&[r"^(?i:password|pass|passwd|secret|token|\*+|x-oauth-basic)$"])
      .allow_match(EXAMPLE_HOST)
      .check(Check::Uri),
    r("pgpass-password", "PostgreSQL", "Password in a .pgpass file", H,
      r"^[^:#\r\n]+:[^:\r\n]+:[^:\r\n]+:[^:\r\n]+:(?P<secret>[^\r\n]{3,128})$", &[])
      .path(r"(?:^|/)\.pgpass$"),
    r("netrc-password", "netrc", "Password in a .netrc file", H,
      r"(?i:\bmachine)\s+\S+\s+(?i:login)\s+\S+\s+(?i:password)\s+(?P<secret>\S{4,128})", &["machine"])
      .path(r"(?:^|/)[._]?netrc$")
      .lines(3),
    r("wordpress-db-password", "WordPress", "Database password in wp-config.php", H,
      r#"define\(\s*['"]DB_PASSWORD['"]\s*,\s*['"](?P<secret>[^'"]{4,128})['"]"#, &["db_password"]),
    r("rails-master-key", "Rails", "Rails master key", C,
      r"\A\s*(?P<secret>[0-9a-f]{32})\s*\z", &[])
      .path(r"(?:^|/)config/(?:master|credentials/[a-z0-9_-]+)\.key$"),
    r("kaggle-api-key", "Kaggle", "Kaggle API Key", H,
      r#""key"\s*:\s*"(?P<secret>[0-9a-f]{32})""#, &["\"key\""])
      .path(r"(?:^|/)kaggle\.json$"),
    // ------------------------------------------------------------- generic
    // The value of every generic rule goes through `judge::generic_value`
    // (a literal, not a name, a type or a placeholder; entropy for its
    // length), and comments and docstrings of code are documentation.
    // `key` is the identifier holding the keyword: the finding's reason.
    r("generic-password-assignment", "Generic", "Hard-coded password", H,
      concat!(r#"(?P<key>[A-Za-z0-9_.$-]*(?i:password|passwd|passphrase|pwd)(?P<tail>[A-Za-z0-9_.-]*))"#,
              r#"(?:\\?["'\]]?[ \t]*(?:[ \t]+(?:string|String|str|const|final|&str))?[ \t]*(?::::=|::=|:=|\?=|\.=|=>|==|=|:)|\\?["'][ \t]*,)[ \t]*"#,
              r#"\\?["'`](?P<secret>(?:[^"'`\s\\]|\\[^"'`\s]){8,})\\?["'`]"#),
      &["password", "passwd", "passphrase", "pwd"])
      .bounds(&[max_len("tail", 20), max_len("secret", 100)])
      .allow(GENERIC_ALLOW).check(Check::GenericAssign { password: true }),
    r("generic-password-config", "Generic", "Password in a configuration file", H,
      r#"^[ \t]*(?:export[ \t]+)?(?P<key>[A-Za-z0-9_.-]*(?i:password|passwd|passphrase|pwd)(?P<tail>[A-Za-z0-9_.-]*))[ \t]*(?::::=|::=|\?=|\+=|:=|=|:)[ \t]*(?P<secret>[^\s"'#$\{<%(\[!&|*][^\s"']{7,})[ \t]*$"#,
      &["password", "passwd", "passphrase", "pwd"])
      .bounds(&[max_len("tail", 20), max_len("secret", 100)])
      .allow(GENERIC_ALLOW).check(Check::GenericConfig { password: true }),
    r("generic-xml-credential", "Generic", "Credential in an XML element", H,
      r#"<(?P<key>[A-Za-z0-9_.:-]*(?i:password|passwd|secret|token|api[_.-]?key|apikey)(?P<tail>[A-Za-z0-9_.-]*))(?P<attrs>[ \t][^<>\n]*)?>\s*(?P<secret>[^<>\s]{8,})\s*</"#,
      &["password", "passwd", "secret", "token", "apikey", "api_key", "api-key", "api.key"])
      .bounds(&[max_len("tail", 20), max_len("attrs", 201), max_len("secret", 200)])
      .lines(2).allow(GENERIC_ALLOW).check(Check::GenericAssign { password: true }),
    r("generic-secret-assignment", "Generic", "Hard-coded secret, token or API key", H,
      concat!(r#"(?P<key>[A-Za-z0-9_.$-]*(?i:secret|token|api[_.-]?key|apikey|access[_.-]?key|auth[_.-]?key|private[_.-]?key)(?P<tail>[A-Za-z0-9_.-]*))"#,
              r#"(?:\\?["'\]]?[ \t]*(?:[ \t]+(?:string|String|str|const|final|&str))?[ \t]*(?::::=|::=|:=|\?=|\.=|=>|==|=|:)|\\?["'][ \t]*,)[ \t]*"#,
              r#"\\?["'`](?P<secret>[A-Za-z0-9_+/=.~-]{16,})\\?["'`]"#),
      &["secret", "token", "apikey", "api_key", "api-key", "api.key", "access_key", "access-key", "auth_key", "auth-key", "private_key", "private-key"])
      .bounds(&[max_len("tail", 20), max_len("secret", 200)])
      .allow(GENERIC_SECRET_ALLOW).check(Check::GenericAssign { password: false }),
    r("generic-secret-config", "Generic", "Secret, token or API key in a configuration file", H,
      r#"^[ \t]*(?:export[ \t]+)?(?P<key>[A-Za-z0-9_.-]*(?i:secret|token|api[_.-]?key|apikey|access[_.-]?key|auth[_.-]?key|private[_.-]?key)(?P<tail>[A-Za-z0-9_.-]*))[ \t]*(?::::=|::=|\?=|\+=|:=|=|:)[ \t]*(?P<secret>[A-Za-z0-9_+/=.~-]{16,})[ \t]*$"#,
      &["secret", "token", "apikey", "api_key", "api-key", "api.key", "access_key", "access-key", "auth_key", "auth-key", "private_key", "private-key"])
      .bounds(&[max_len("tail", 20), max_len("secret", 200)])
      .allow(GENERIC_SECRET_ALLOW).check(Check::GenericConfig { password: false }),
];

/// Built-in global allow rules: (id, description, secret regex, path regex).
/// Path-only rules also make [`crate::SecretScanner::skip_path`] true, so the
/// file is never read.
pub(crate) static BUILTIN_ALLOW_RULES: &[(&str, &str, Option<&str>, Option<&str>)] = &[
    (
        "placeholder-values",
        "example, dummy and placeholder values, templates and variable references, published example keys (`judge::is_placeholder`)",
        None,
        None,
    ),
    (
        "repeated-characters",
        "values whose last 16 characters use at most 3 distinct characters (`ghp_000000...`)",
        None,
        None,
    ),
    (
        "markdown",
        "Markdown, reStructuredText and AsciiDoc documentation, Python package metadata (PKG-INFO, METADATA)",
        None,
        Some(r"(?i)\.(?:md|markdown|rst|adoc|asciidoc)$|(?:^|/)(?:PKG-INFO|METADATA)$"),
    ),
    (
        "docs",
        "documentation directories",
        None,
        Some(r"(?:^|/)(?:docs?|docs?_src|documentation|man)/"),
    ),
    (
        "tests",
        "test suites and their fixtures (directories, and test files by name)",
        None,
        Some(
            r"(?:^|/)(?:tests?|t|testdata|test[_-]data|testing|__tests__|spec|specs|fixtures?|__fixtures__|__mocks__|mocks?)/|(?:^|/)(?:test_[^/]*\.py|[^/]*_test\.(?:py|go|rb)|conftest\.py|[^/]*\.(?:test|spec)\.[cm]?[jt]sx?)$",
        ),
    ),
    (
        "examples",
        "example and sample directories, API example files (`*.examples.json`, `examples-1.json`)",
        None,
        Some(r"(?:^|/)(?:examples?|samples?|demos?)/|(?:^|/)(?:[^/]*[._-])?examples?(?:-[0-9]+)?\.json$"),
    ),
    (
        "usr-dirs",
        "files of OS packages under /usr (not /usr/local)",
        None,
        Some(r"^/?usr/(?:share|include|lib|lib32|lib64|libexec|src)/"),
    ),
    (
        "package-db",
        "package manager databases and caches",
        None,
        Some(r"^/?var/(?:lib/(?:dpkg|apt|rpm|apk|yum|dnf|pacman)|cache)/|^/?lib/apk/db/"),
    ),
    (
        "lock-files",
        "dependency lock files (integrity hashes, not secrets)",
        None,
        Some(
            r"(?:^|/)(?:package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|Cargo\.lock|go\.sum|poetry\.lock|Pipfile\.lock|uv\.lock|Gemfile\.lock|composer\.lock|packages\.lock\.json)$",
        ),
    ),
];

/// Paths skipped by default before reading: pseudo filesystems, git object
/// stores, and compressed or media formats whose bytes cannot hold a
/// readable secret.
pub(crate) static DEFAULT_SKIP_PATHS: &[&str] = &[
    r"^/?(?:proc|sys|dev)/",
    r"(?:^|/)\.git/objects/",
    r"(?i)\.(?:png|jpe?g|gif|webp|ico|bmp|tiff?|mp[34]|mov|avi|woff2?|ttf|otf|eot|zip|gz|tgz|bz2|xz|zst|7z|jar|war|whl|egg|pdf|mo)$",
];
