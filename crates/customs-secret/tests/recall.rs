//! Recall: every credential shape that Trivy's rules or gitleaks' published
//! samples hold, in its documented format, with our own random values.
//! Values are drawn at run time from a seeded generator, so this file holds
//! no token a push-protection scanner would flag.

use customs_secret::SecretScanner;

/// A small deterministic generator (xorshift64*): reproducible values.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// `n` characters of `alpha`, with at least one digit and one letter
    /// when the alphabet has both (real tokens are mixed).
    fn s(&mut self, alpha: &str, n: usize) -> String {
        let a: Vec<char> = alpha.chars().collect();
        loop {
            let v: String = (0..n)
                .map(|_| a[(self.next() % a.len() as u64) as usize])
                .collect();
            let mixed = !alpha.chars().any(|c| c.is_ascii_digit())
                || !alpha.chars().any(|c| c.is_ascii_alphabetic())
                || (v.chars().any(|c| c.is_ascii_digit())
                    && v.chars().any(|c| c.is_ascii_alphabetic()));
            if mixed {
                return v;
            }
        }
    }
}

const AN: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPD: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const HEX: &str = "0123456789abcdef";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const US: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

fn rules(path: &str, text: &str) -> Vec<String> {
    let s = SecretScanner::builtin();
    s.scan(path, text.as_bytes())
        .findings
        .into_iter()
        .map(|f| f.rule_id)
        .collect()
}

fn assert_finds(path: &str, text: &str, rule: &str) {
    let got = rules(path, text);
    assert!(
        got.iter().any(|r| r == rule),
        "{rule} not found in {path}: {text:?}, got {got:?}"
    );
}

fn b64(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn b64url(data: &[u8]) -> String {
    b64(data)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

#[test]
fn aws_credentials_file_reports_the_key_id_and_the_secret() {
    let mut g = Gen(1);
    let text = format!(
        "[default]\naws_access_key_id = AKIA{}\naws_secret_access_key = {}\n",
        g.s(UPD, 16),
        g.s(&format!("{AN}/+"), 40)
    );
    let s = SecretScanner::builtin();
    let found = s.scan("root/.aws/credentials", text.as_bytes());
    let ids: Vec<_> = found.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(
        ids,
        ["aws-access-key-id", "aws-secret-access-key"],
        "{found:#?}"
    );
    assert_eq!(found[0].severity, customs_model::Severity::Critical);
}

#[test]
fn sequential_runs_are_not_placeholders_in_token_formats() {
    assert_finds(
        ".env",
        "AWS_ACCESS_KEY_ID=AKIA0123456789ABCDEF\n",
        "aws-access-key-id",
    );
    let gh = format!("{}{}", "ghp_", "0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ");
    assert_finds(".env", &format!("GITHUB_TOKEN={gh}\n"), "github-pat");
}

#[test]
fn github_tokens_glued_to_a_word() {
    let mut g = Gen(2);
    assert_finds(
        "ci.sh",
        &format!(
            "git clone https://x-access-token:ghs_{}@github.com/o/r\n",
            g.s(AN, 36)
        ),
        "github-app-token",
    );
    assert_finds(
        "ci.sh",
        &format!("TOKENghs_{}\n", g.s(AN, 36)),
        "github-app-token",
    );
    assert_finds(
        ".env",
        &format!("PAT=xgithub_pat_{}_{}\n", g.s(AN, 22), g.s(AN, 59)),
        "github-fine-grained-pat",
    );
}

#[test]
fn stripe_test_and_prod_keys() {
    let mut g = Gen(3);
    assert_finds(
        ".env",
        &format!("STRIPE_KEY=sk_test_{}\n", g.s(AN, 24)),
        "stripe-secret-key",
    );
    assert_finds(
        ".env",
        &format!("STRIPE_KEY=rk_prod_{}\n", g.s(AN, 24)),
        "stripe-restricted-key",
    );
}

#[test]
fn slack_legacy_bot_tokens_and_workflow_webhooks() {
    let mut g = Gen(4);
    let digits = "0123456789";
    assert_finds(
        ".env",
        &format!("SLACK=xoxb-{}-{}\n", g.s(digits, 11), g.s(AN, 24)),
        "slack-legacy-bot-token",
    );
    assert_finds(
        "app.yaml",
        &format!(
            "url: https://hooks.slack.com/workflows/T{}/A{}/{}/{}\n",
            g.s(UPD, 8),
            g.s(UPD, 8),
            g.s(digits, 18),
            g.s(AN, 24)
        ),
        "slack-web-hook",
    );
}

#[test]
fn docker_registry_credentials_and_kubernetes_secrets() {
    let mut g = Gen(5);
    let auth = b64(format!("deploy:{}", g.s(AN, 20)).as_bytes());
    let cfg =
        b64(format!("{{\"auths\":{{\"registry.acme.dev\":{{\"auth\":\"{auth}\"}}}}}}").as_bytes());
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {cfg}\n"
    );
    assert_finds(
        "deploy/regcred.yaml",
        &manifest,
        "docker-config-json-base64",
    );
    let old = b64(format!("{{\"registry.acme.dev\":{{\"auth\":\"{auth}\"}}}}").as_bytes());
    assert_finds(
        "deploy/legacy.yaml",
        &format!("data:\n  .dockercfg: {old}\n"),
        "docker-config-json-base64",
    );
    let pw = b64(g.s(AN, 18).as_bytes());
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  username: YWRtaW4=\n  db-password: {pw}\n"
    );
    assert_finds("deploy/db-secret.yaml", &secret, "kubernetes-secret-data");
}

#[test]
fn azure_registry_passwords_and_app_configuration() {
    let mut g = Gen(6);
    assert_finds(
        ".env",
        &format!("ACR_PASSWORD={}+ACR{}\n", g.s(B64, 42), g.s(AN, 6)),
        "azure-container-registry-password",
    );
    assert_finds(
        "appsettings.json",
        &format!(
            "{{\"AppConfig\": \"Endpoint=https://acme-prod.azconfig.io;Id={}-l0-s0:{};Secret={}=\"}}\n",
            g.s(AN, 4),
            g.s(AN, 20),
            g.s(B64, 43)
        ),
        "azure-app-configuration-connection-string",
    );
}

#[test]
fn jwts_including_alg_none() {
    let mut g = Gen(7);
    let payload = b64url(format!("{{\"sub\":\"{}\",\"admin\":true}}", g.s(AN, 12)).as_bytes());
    let none = format!(
        "{}.{payload}.",
        b64url(b"{\"alg\":\"none\",\"typ\":\"JWT\"}")
    );
    assert_finds("app/.env", &format!("SESSION={none}\n"), "jwt-token");
    let hs = format!(
        "{}.{payload}.{}",
        b64url(b"{\"alg\":\"HS256\",\"typ\":\"JWT\"}"),
        g.s(US, 43)
    );
    assert_finds("app/.env", &format!("SESSION={hs}\n"), "jwt-token");
    // The parts' bounds hold after the match (the regex itself leaves
    // them open): a signature of 1,000 bytes is a token's, one of 1,100
    // is not.
    let header = b64url(b"{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    let mut signed = |n: usize| format!("SESSION={header}.{payload}.{}\n", g.s(US, n));
    let (ok, over) = (signed(1000), signed(1100));
    assert_finds("app/.env", &ok, "jwt-token");
    assert!(
        !rules("app/.env", &over).contains(&"jwt-token".to_string()),
        "a 1,100-byte signature is no JWT's"
    );
}

#[test]
fn age_1password_openshift_facebook_messagebird_sidekiq() {
    let mut g = Gen(8);
    let bech = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";
    assert_finds(
        "key.txt",
        &format!("# created: 2026-01-01\nAGE-SECRET-KEY-1{}\n", g.s(bech, 58)),
        "age-secret-key",
    );
    assert_finds(
        "notes.env",
        &format!(
            "OP_SECRET_KEY=A3-{}-{}-{}-{}-{}\n",
            g.s(UPD, 6),
            g.s(UPD, 11),
            g.s(UPD, 5),
            g.s(UPD, 5),
            g.s(UPD, 5)
        ),
        "onepassword-secret-key",
    );
    assert_finds(
        "kube.sh",
        &format!("oc login --token=sha256~{}\n", g.s(US, 43)),
        "openshift-user-token",
    );
    assert_finds(
        ".env",
        &format!(
            "FACEBOOK_APP_TOKEN={}|{}\n",
            g.s("0123456789", 16),
            g.s(US, 27)
        ),
        "facebook-app-access-token",
    );
    assert_finds(
        ".env",
        &format!("MESSAGEBIRD_API_KEY={}\n", g.s(AN, 25)),
        "messagebird-api-token",
    );
    assert_finds(
        ".bundle/config",
        &format!(
            "BUNDLE_GEMS__CONTRIBSYS__COM: \"{}:{}\"\n",
            g.s(HEX, 8),
            g.s(HEX, 8)
        ),
        "sidekiq-secret",
    );
    assert_finds(
        "Gemfile",
        &format!(
            "source \"https://{}:{}@gems.contribsys.com/\"\n",
            g.s(HEX, 8),
            g.s(HEX, 8)
        ),
        "sidekiq-sensitive-url",
    );
}

#[test]
fn curl_credentials_and_authorization_headers() {
    let mut g = Gen(9);
    assert_finds(
        "deploy.sh",
        &format!("curl -u deploy:{} https://api.acme.dev/v1\n", g.s(AN, 16)),
        "curl-basic-auth",
    );
    assert_finds(
        "deploy.sh",
        &format!(
            "curl -s -H \"Authorization: Bearer {}\" https://api.acme.dev/v1\n",
            g.s(AN, 32)
        ),
        "curl-auth-header",
    );
    assert_finds(
        "app.yaml",
        &format!(
            "headers:\n  Authorization: Basic {}\n",
            b64(format!("ci:{}", g.s(AN, 16)).as_bytes())
        ),
        "authorization-header",
    );
}

#[test]
fn assignment_forms_of_the_generic_rules() {
    let mut g = Gen(10);
    let pw = g.s(AN, 14);
    let tok = g.s(AN, 32);
    let cases = [
        (
            "main.go",
            format!("var dbPassword string = \"{pw}\"\n"),
            "generic-password-assignment",
        ),
        (
            "main.go",
            format!("const apiToken = `{tok}`\n"),
            "generic-secret-assignment",
        ),
        (
            "config.php",
            format!("$db_password .= \"{pw}\";\n"),
            "generic-password-assignment",
        ),
        (
            "App.java",
            format!("System.setProperty(\"X_TOKEN\", \"{tok}\");\n"),
            "generic-secret-assignment",
        ),
        (
            "Makefile",
            format!("DB_PASSWORD ::= {pw}\n"),
            "generic-password-config",
        ),
        (
            "Makefile",
            format!("API_TOKEN ?= {tok}\n"),
            "generic-secret-config",
        ),
        (
            "app.xml",
            format!("<config>\n  <password>\n    {pw}\n  </password>\n</config>\n"),
            "generic-xml-credential",
        ),
        (
            "app.json",
            format!("{{\"cfg\": \"{{\\\"password\\\":\\\"{pw}\\\"}}\"}}\n"),
            "generic-password-assignment",
        ),
    ];
    for (path, text, rule) in cases {
        assert_finds(path, &text, rule);
    }
}

#[test]
fn code_that_is_not_a_credential_stays_silent() {
    let cases = [
        ("lib/models.py", "    password: Optional[str] = None\n"),
        ("lib/types.d.ts", "    Password: passwordType;\n"),
        ("lib/call.py", "        password=auth_password,\n        sip_auth_password=sip_auth_password,\n"),
        ("lib/proxy.js", "      password: proxyUrlAuth[1]\n"),
        ("lib/engine.py", "def f():\n    \"\"\"e = create_engine(\"postgresql://scott:tiger@localhost/test\")\"\"\"\n"),
        ("lib/client.py", "    \"\"\"redis://[[username]:[password]]@localhost:6379/0\"\"\"\n"),
        ("lib/b.py", "    # redis://:bosco@vandelay.com:123//1\n"),
        ("lib/const.py", "AZURE_PASSWORD = \"AZURE_PASSWORD\"\n"),
        ("lib/__init__.py", "    \"V1Secret\": \".models.v1_secret\",\n"),
        ("lib/ex.json", "{\"NextToken\": \"U1FsdGVkX19qv8mV3kq2pQzL0Rt7WnB5\"}\n"),
        ("lib/rds.json", "{\"MasterUserPassword\": \"MyPassword\"}\n"),
        ("lib/sql.json", "{\"rootPassword\": \"my_rootPassword\"}\n"),
        ("lib/oauth.py", "x = {\"access_token\":\"2YotnFZFEjr1zCsicMWpAA\"}\n"),
        (
            "lib/cred.py",
            "    :param key: e.g. `-----BEGIN RSA PRIVATE KEY----- MIIEpQIBAAKCAQEAuyf/lNrH9ck8DmNyo3fGgvCI1l9s+cmBY3WIz+cUDqmxiieR. -----END RSA PRIVATE KEY-----`\n",
        ),
    ];
    for (path, text) in cases {
        let got = rules(path, text);
        assert!(got.is_empty(), "{path}: {text:?} gave {got:?}");
    }
}
