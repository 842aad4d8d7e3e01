//! Secrets passed through build arguments, environment variables or copied
//! credential files.

use customs_model::Severity;

use super::{DockerfileContext, Hit};
use crate::dockerfile::{split_arg, Dockerfile, Instr};
use crate::registry::{CheckInfo, Scanner};

const SECRETS_REF: &str = "https://docs.docker.com/build/building/secrets/";

/// Trivy's DS-0031 list of well-known credential variables (trivy-checks
/// `leaked_secrets.rego`, as bundled with Trivy 0.76).
const KNOWN_SECRET_ENVS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
    "OPENAI_API_KEY",
    "HF_TOKEN",
    "DIGITALOCEAN_ACCESS_TOKEN",
    "DOCKERHUB_PASSWORD",
    "FIREBASE_TOKEN",
    "CI_DEPLOY_PASSWORD",
    "GOOGLE_API_KEY",
    "LANGSMITH_API_KEY",
    "LANGCHAIN_API_KEY",
    "HEROKU_API_KEY",
];
const SECRET_FILE_ENVS: &[&str] = &[
    "AWS_CONFIG_FILE",
    "HF_TOKEN_PATH",
    "GOOGLE_APPLICATION_CREDENTIALS",
];
/// Trivy's name tokens (`(?i)(?:_|^)(?:apikey|auth|…)(?:_|$)`, adopted
/// from BuildKit's `SecretsUsedInArgOrEnv` lint).
const SECRET_TOKENS: &[&str] = &[
    "apikey",
    "auth",
    "credential",
    "credentials",
    "key",
    "password",
    "pword",
    "passwd",
    "secret",
    "token",
    "usr",
    "psw",
];

/// Trivy's DS-0031 name rule: a well-known credential variable, or a name
/// with a secret token between underscores (`API_TOKEN`, `DB_PASSWORD`,
/// `SECRET`) and no `public` token. One deliberate difference: `GPG_KEY`
/// (and `*_GPG_KEY`), which official images use for the fingerprint of the
/// release signing key, a public value by definition; Trivy reports it.
pub fn is_ds0031_secret_name(name: &str) -> bool {
    if is_known_secret_env(name) {
        return true;
    }
    if SECRET_FILE_ENVS.contains(&name) {
        return false;
    }
    let up = name.to_ascii_uppercase();
    if up == "GPG_KEY" || up.ends_with("_GPG_KEY") {
        return false;
    }
    let tokens: Vec<String> = name.split('_').map(str::to_ascii_lowercase).collect();
    tokens.iter().any(|t| SECRET_TOKENS.contains(&t.as_str()))
        && !tokens.iter().any(|t| t == "public")
}

/// Trivy's credential set-up commands (plain substrings, and the two that
/// are patterns there: `az login … -p ` and `doctl auth init … -t `).
fn sets_up_credentials(text: &str) -> bool {
    const PLAIN: &[&str] = &[
        "aws configure set aws_access_key_id",
        "aws configure set aws_secret_access_key",
        "gcloud auth activate-service-account",
    ];
    let flag_after = |cmd: &str, flags: &[&str]| {
        text.match_indices(cmd).any(|(i, _)| {
            let rest = text.get(i + cmd.len()..).unwrap_or_default();
            flags.iter().any(|f| {
                rest.match_indices(f).any(|(j, _)| {
                    rest.get(j + f.len()..)
                        .and_then(|r| r.chars().next())
                        .is_some_and(char::is_whitespace)
                })
            })
        })
    };
    PLAIN.iter().any(|c| text.contains(c))
        || flag_after("az login", &["-p", "--password", "--federated-token"])
        || flag_after("doctl auth init", &["-t", "--access-token"])
}

/// `(name, value)` pairs of an ARG or ENV instruction.
fn definitions(i: &Instr) -> Vec<(String, Option<String>)> {
    match i.cmd.as_str() {
        "arg" => i
            .value
            .iter()
            .map(|a| {
                let (n, v) = split_arg(a);
                (n.to_string(), v.map(str::to_string))
            })
            .collect(),
        "env" => i
            .value
            .chunks(2)
            .filter_map(|kv| match kv {
                [k, v] => Some((k.clone(), Some(v.clone()))),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

fn is_known_secret_env(name: &str) -> bool {
    KNOWN_SECRET_ENVS.contains(&name)
        || ["VITE_", "REACT_APP_"].iter().any(|p| {
            name.strip_prefix(p)
                .is_some_and(|r| KNOWN_SECRET_ENVS.contains(&r))
        })
}

/// Whether path `p` is inside `dir`.
fn is_sub_path(p: &str, dir: &str) -> bool {
    let norm = |s: &str| {
        s.trim_start_matches("./")
            .trim_start_matches('/')
            .trim_end_matches('/')
            .to_string()
    };
    let (p, d) = (norm(p), norm(dir));
    d.is_empty() || p == d || p.starts_with(&format!("{d}/"))
}

pub static DS0031: CheckInfo = CheckInfo {
    id: "DS-0031",
    scanner: Scanner::Dockerfile,
    severity: Severity::Critical,
    title: "Secrets passed via `build-args` or envs or copied secret files",
    description: "Passing secrets via `build-args` or envs or copying secret files can leak them out",
    resolution: "Use secret mount if secrets are needed during image build. Use volume mount if secret files are needed during container runtime.",
    references: &[SECRETS_REF],
};

pub fn leaked_secrets(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let fs = df.final_stage()?;
    let instrs: Vec<&Instr> = df.stage_instrs(fs).collect();
    let copy_dests: Vec<&str> = instrs
        .iter()
        .filter(|i| i.cmd == "copy")
        .filter_map(|i| i.value.last().map(String::as_str))
        .collect();
    let mut hits = Vec::new();
    for i in &instrs {
        let kw = i.cmd.to_uppercase();
        for (name, value) in definitions(i) {
            if is_ds0031_secret_name(&name) {
                hits.push(
                    Hit::at(
                        i,
                        format!("Possible exposure of secret env \"{name}\" in {kw}"),
                    )
                    .masking(value.as_deref().unwrap_or_default()),
                );
            }
            if SECRET_FILE_ENVS.contains(&name.as_str()) {
                if let Some(v) = value.filter(|v| !v.is_empty()) {
                    if copy_dests.iter().any(|d| is_sub_path(&v, d)) {
                        hits.push(Hit::at(
                            i,
                            format!("Possible exposure of the copied secret env file \"{name}\" in {kw}"),
                        ));
                    }
                }
            }
        }
        if i.cmd == "copy" && i.value.len() == 2 {
            if let Some(dest) = i.value.get(1) {
                let env = dest
                    .trim_start_matches('$')
                    .trim_start_matches('{')
                    .trim_end_matches('}');
                if SECRET_FILE_ENVS.contains(&env) {
                    hits.push(Hit::at(
                        i,
                        format!("Possible exposure of secret file \"{env}\" in COPY"),
                    ));
                }
            }
        }
        if i.cmd == "run"
            && !i.mounts().any(|m| m.starts_with("type=secret"))
            && sets_up_credentials(&i.command_text())
        {
            hits.push(Hit::at(i, "Possible exposure of secret in RUN"));
        }
    }
    Some(hits)
}

/// Whether a variable name looks like it holds a credential.
pub fn is_secret_name(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    const NOT_SECRET_SUFFIXES: &[&str] = &[
        "_FILE",
        "_PATH",
        "_DIR",
        "_URL",
        "_URI",
        "_HOST",
        "_ENDPOINT",
        "_FINGERPRINT",
        "_ID",
        "_NAME",
        "_LENGTH",
        "_TTL",
        "_EXPIRY",
        "_TYPE",
        "_HEADER",
    ];
    const NOT_SECRET: &[&str] = &[
        "GPG_KEY",
        "GPG_KEYS",
        "KEYRING",
        "KEYSERVER",
        "PUBLIC_KEY",
        "SSH_KNOWN_HOSTS",
    ];
    if NOT_SECRET.contains(&up.as_str())
        || SECRET_FILE_ENVS.contains(&up.as_str())
        || NOT_SECRET_SUFFIXES.iter().any(|s| up.ends_with(s))
        || up.ends_with("PUBLIC_KEY")
    {
        return is_known_secret_env(&up);
    }
    let tokens: Vec<&str> = up.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    tokens.iter().any(|t| {
        matches!(
            *t,
            "PASSWORD"
                | "PASSWD"
                | "SECRET"
                | "TOKEN"
                | "APIKEY"
                | "CREDENTIALS"
                | "CREDENTIAL"
                | "PASSPHRASE"
                | "PRIVATE"
        )
    }) || tokens.last() == Some(&"KEY")
        || is_known_secret_env(&up)
}

/// Whether a value looks like a credential by its well-known prefix.
pub fn is_secret_value(v: &str) -> bool {
    let v = v.trim();
    let akia = v.len() == 20
        && (v.starts_with("AKIA") || v.starts_with("ASIA"))
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    akia || [
        "ghp_",
        "gho_",
        "ghs_",
        "ghu_",
        "github_pat_",
        "glpat-",
        "xoxb-",
        "xoxp-",
        "sk_live_",
        "sk-proj-",
        "npm_",
        "hf_",
    ]
    .iter()
    .any(|p| v.starts_with(p) && v.len() >= p.len() + 16)
        || (v.contains("-----BEGIN") && v.contains("PRIVATE KEY"))
}

pub static CSDS010: CheckInfo = CheckInfo {
    id: "CS-DS-010",
    scanner: Scanner::Dockerfile,
    severity: Severity::High,
    title: "Secret in ARG or ENV",
    description: "Build arguments are recorded in the image history and ENV values are stored in the image config: anyone who can pull the image can read them. Values that look like tokens (any ARG, ENV or LABEL), and names such as *_PASSWORD, *_TOKEN, *_SECRET or *_KEY that DS-0031 does not already report (builder stages, names outside Trivy's list such as *_PASSPHRASE), are treated as secrets.",
    resolution: "Pass build-time secrets with 'RUN --mount=type=secret,id=…' and runtime secrets through the orchestrator (secret volumes or environment injected at run time), never ARG or ENV",
    references: &[SECRETS_REF],
};

pub fn secret_args(df: &Dockerfile, _: &DockerfileContext) -> Option<Vec<Hit>> {
    let final_stage = df.final_stage();
    // A name DS-0031 reports (Trivy's ID, so a `.trivyignore` entry covers
    // it) is not reported again here; values that look like credentials
    // are, whatever the name.
    let by_ds0031 = |i: &Instr, name: &str| {
        i.stage.is_some() && i.stage == final_stage && is_ds0031_secret_name(name)
    };
    let mut hits = Vec::new();
    for i in df
        .instrs
        .iter()
        .filter(|i| matches!(i.cmd.as_str(), "arg" | "env" | "label"))
    {
        let kw = i.cmd.to_uppercase();
        let defs = if i.cmd == "label" {
            i.value
                .chunks(2)
                .filter_map(|kv| match kv {
                    [k, v] => Some((k.clone(), Some(v.clone()))),
                    _ => None,
                })
                .collect()
        } else {
            definitions(i)
        };
        for (name, value) in defs {
            let val = value.unwrap_or_default();
            if is_secret_value(&val) {
                hits.push(
                    Hit::at(
                        i,
                        format!("{kw} {name} has a value that looks like a credential"),
                    )
                    .masking(&val),
                );
            } else if by_ds0031(i, &name) {
                continue;
            } else if i.cmd == "arg" && is_secret_name(&name) {
                hits.push(Hit::at(i, format!("Build argument '{name}' looks like a secret; build args are recorded in the image history")));
            } else if i.cmd == "env" && is_secret_name(&name) && !val.is_empty() {
                hits.push(
                    Hit::at(
                        i,
                        format!(
                            "ENV '{name}' looks like a secret and is stored in the image config"
                        ),
                    )
                    .masking(&val),
                );
            }
        }
    }
    Some(hits)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;

    #[test]
    fn ds0031() {
        assert_eq!(
            hits(leaked_secrets, "FROM a:1\nARG GITHUB_TOKEN\n"),
            vec![2]
        );
        assert_eq!(
            hits(leaked_secrets, "FROM a:1\nENV VITE_OPENAI_API_KEY=x\n"),
            vec![2]
        );
        // Only the final stage counts.
        assert!(hits(
            leaked_secrets,
            "FROM a:1 AS b\nARG GITHUB_TOKEN\nFROM c:1\n"
        )
        .is_empty());
        assert_eq!(
            hits(
                leaked_secrets,
                "FROM a:1\nCOPY src /app\nENV GOOGLE_APPLICATION_CREDENTIALS=/app/sa.json\n"
            ),
            vec![3]
        );
        assert_eq!(
            hits(
                leaked_secrets,
                "FROM a:1\nRUN aws configure set aws_secret_access_key x\n"
            ),
            vec![2]
        );
        assert!(hits(
            leaked_secrets,
            "FROM a:1\nRUN --mount=type=secret,id=aws aws configure set aws_access_key_id x\n"
        )
        .is_empty());
    }

    #[test]
    fn ds0031_name_tokens() {
        // Trivy's name rule: these are DS-0031 (so a `.trivyignore` entry
        // for DS-0031 covers them) and not reported again as CS-DS-010.
        let t = "FROM a:1\nARG API_TOKEN\nENV DB_PASSWORD=hunter2\nARG NPM_TOKEN=abc\nENV MY_SECRET_KEY=x\n";
        assert_eq!(hits(leaked_secrets, t), vec![2, 3, 4, 5]);
        assert!(hits(secret_args, t).is_empty());
        for n in [
            "API_TOKEN",
            "db_password",
            "SECRET",
            "AUTH",
            "GH_TOKEN",
            "X_PSW",
            "APIKEY",
        ] {
            assert!(is_ds0031_secret_name(n), "{n}");
        }
        for n in [
            "GPG_KEY",
            "PYTHON_GPG_KEY",
            "SSH_PUBLIC_KEY",
            "MONKEY",
            "TOKENIZER",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "PATH",
        ] {
            assert!(!is_ds0031_secret_name(n), "{n}");
        }
        // Builder stages are not DS-0031 (not in the final image); CS-DS-010
        // still sees them.
        let t = "FROM a:1 AS b\nARG NPM_TOKEN\nFROM c:1\n";
        assert!(hits(leaked_secrets, t).is_empty());
        assert_eq!(hits(secret_args, t), vec![2]);
        assert_eq!(
            hits(
                leaked_secrets,
                "FROM a:1\nRUN az login -u x -p y\nRUN az login --identity\n"
            ),
            vec![2]
        );
    }

    #[test]
    fn names_and_values() {
        for n in [
            "DB_PASSWORD",
            "api_token",
            "SECRET",
            "STRIPE_API_KEY",
            "APIKEY",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in [
            "GPG_KEY",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "PASSWORD_FILE",
            "TOKEN_URL",
            "KEYRING",
            "PATH",
            "PWD",
            "MONKEY",
            "SSH_PUBLIC_KEY",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
        assert!(is_secret_value("ghp_0123456789abcdefghij0123456789abcdef"));
        assert!(is_secret_value("AKIAIOSFODNN7EXAMPLE"));
        assert!(!is_secret_value("A035C8C19219BA821ECEA86B64E628F8D684696D"));
    }

    #[test]
    fn csds010() {
        // Names DS-0031 does not cover: a passphrase, a builder stage.
        assert_eq!(
            hits(secret_args, "FROM a:1\nARG SIGNING_PASSPHRASE\n"),
            vec![2]
        );
        assert_eq!(
            hits(
                secret_args,
                "FROM a:1 AS b\nENV DB_PASSWORD=hunter2\nFROM c:1\n"
            ),
            vec![2]
        );
        assert_eq!(
            hits(
                secret_args,
                "FROM a:1\nLABEL x=ghp_0123456789abcdefghij0123456789abcdef\n"
            ),
            vec![2]
        );
        assert!(hits(secret_args, "FROM a:1\nENV DB_PASSWORD_FILE=/run/secrets/db GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D\nENV TOKEN=\n").is_empty());
    }
}
