//! The deployment files, read as they are in the repository: the Kubernetes
//! manifests of deploy/kubernetes (parsed as YAML, checked field by field
//! against each other and against `customs server`'s interface), and the
//! Dockerfile (read as text, then checked by the real `customs config`).
//! Nothing here applies the manifests to a cluster or builds the image.

mod common;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const K8S: &str = "deploy/kubernetes";
/// `customs server`'s port.
const PORT: u64 = 4954;
/// `customs server --shutdown-grace` when not given.
const DEFAULT_GRACE_SECS: u64 = 30;
const UID: u64 = 65532;
/// Files of deploy/kubernetes that are examples to copy, not resources to
/// apply (kustomization.yaml must not list them).
const EXAMPLE_SUFFIX: &str = ".example.yaml";

struct Doc {
    file: String,
    v: Value,
}

impl Doc {
    fn at(&self, pointer: &str) -> &Value {
        self.v.pointer(pointer).unwrap_or(&Value::Null)
    }
    fn kind(&self) -> &str {
        self.v["kind"].as_str().unwrap_or("")
    }
    fn name(&self) -> &str {
        self.v["metadata"]["name"].as_str().unwrap_or("")
    }
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The YAML file names of deploy/kubernetes, sorted.
fn k8s_files() -> Vec<String> {
    let dir = repo().join(K8S);
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.unwrap_or_else(|e| panic!("{K8S}: {e}"))
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    v.sort();
    for f in &v {
        assert!(
            f.ends_with(".yaml"),
            "{K8S}/{f}: only .yaml files belong in this folder (kustomize reads them; a .yml or other file is not checked here)"
        );
    }
    v
}

/// Every YAML document of deploy/kubernetes (empty documents skipped).
fn docs() -> Vec<Doc> {
    let mut out = Vec::new();
    for f in k8s_files() {
        let rel = format!("{K8S}/{f}");
        let text = read(&rel);
        let values: Vec<Value> = serde_saphyr::from_multiple(&text)
            .unwrap_or_else(|e| panic!("{rel}: not valid YAML: {e}"));
        assert!(!values.is_empty(), "{rel}: holds no YAML document");
        for v in values {
            assert!(v.is_object(), "{rel}: a document is not a mapping: {v}");
            out.push(Doc {
                file: rel.clone(),
                v,
            });
        }
    }
    out
}

fn find<'a>(docs: &'a [Doc], kind: &str, name: &str) -> &'a Doc {
    let found: Vec<&Doc> = docs
        .iter()
        .filter(|d| d.kind() == kind && d.name() == name)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{K8S}: expected exactly one {kind} named {name:?}, found {} ({:?})",
        found.len(),
        found.iter().map(|d| &d.file).collect::<Vec<_>>()
    );
    found[0]
}

fn str_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().unwrap_or("<not a string>").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `selector` (a non-empty label map) matches a pod with `labels`.
fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn strings(v: &Value) -> Vec<String> {
    arr(v)
        .iter()
        .map(|s| match s {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// The value after `flag` in `args` (`--flag VALUE` or `--flag=VALUE`).
fn flag(args: &[String], flag: &str) -> Option<String> {
    let eq = format!("{flag}=");
    args.iter().enumerate().find_map(|(i, a)| {
        if a == flag {
            args.get(i + 1).cloned()
        } else {
            a.strip_prefix(&eq).map(str::to_string)
        }
    })
}

/// A container's env var: its literal `value`, or `None` when it has none.
fn env_entry<'a>(container: &'a Value, name: &str) -> Option<&'a Value> {
    arr(&container["env"]).iter().find(|e| e["name"] == name)
}

/// A flag's value, or the env var clap reads it from.
fn setting(container: &Value, args: &[String], f: &str, env: &str) -> Option<String> {
    flag(args, f)
        .or_else(|| env_entry(container, env).and_then(|e| e["value"].as_str().map(str::to_string)))
}

/// CPU in millicores ("500m", "2", "1.5").
fn cpu_millis(file: &str, q: &Value) -> u64 {
    let s = match q {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => panic!("{file}: cpu quantity {q} is neither a string nor a number"),
    };
    if let Some(m) = s.strip_suffix('m') {
        m.parse()
            .unwrap_or_else(|e| panic!("{file}: cpu {s:?}: {e}"))
    } else {
        let f: f64 = s
            .parse()
            .unwrap_or_else(|e| panic!("{file}: cpu {s:?}: {e}"));
        (f * 1000.0).round() as u64
    }
}

/// Memory in bytes ("512Mi", "1Gi", "256M", "1000000").
fn mem_bytes(file: &str, q: &Value) -> u64 {
    let s = match q {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => panic!("{file}: memory quantity {q} is neither a string nor a number"),
    };
    let units: [(&str, u64); 6] = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("K", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
    ];
    for (suffix, mult) in units {
        if let Some(n) = s.strip_suffix(suffix) {
            let n: u64 = n
                .parse()
                .unwrap_or_else(|e| panic!("{file}: memory {s:?}: {e}"));
            return n * mult;
        }
    }
    s.parse()
        .unwrap_or_else(|e| panic!("{file}: memory {s:?}: {e}"))
}

/// "30s", "1m", "45" as seconds.
fn seconds(file: &str, s: &str) -> u64 {
    let (n, mult) = if let Some(n) = s.strip_suffix('s') {
        (n, 1)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60)
    } else {
        (s, 1)
    };
    n.parse::<u64>()
        .unwrap_or_else(|e| panic!("{file}: duration {s:?}: {e}"))
        * mult
}

/// The containers and init containers of a pod spec.
fn containers(pod: &Value) -> Vec<&Value> {
    arr(&pod["initContainers"])
        .iter()
        .chain(arr(&pod["containers"]))
        .collect()
}

/// The port number a probe's or Service's port names: a number, or the name
/// of one of the container's ports.
fn resolve_port(file: &str, container: &Value, port: &Value) -> u64 {
    match port {
        Value::Number(n) => n.as_u64().unwrap_or(0),
        Value::String(name) => arr(&container["ports"])
            .iter()
            .find(|p| p["name"] == name.as_str())
            .and_then(|p| p["containerPort"].as_u64())
            .unwrap_or_else(|| {
                panic!(
                    "{file}: port {name:?} is not the name of a port of container {}",
                    container["name"]
                )
            }),
        _ => panic!("{file}: port {port} is neither a number nor a port name"),
    }
}

/// The volume mounted at the deepest mountPath that holds `path`, and the mount.
fn volume_holding<'a>(
    file: &str,
    pod: &'a Value,
    container: &'a Value,
    path: &str,
) -> (&'a Value, &'a Value) {
    let mount = arr(&container["volumeMounts"])
        .iter()
        .filter(|m| {
            let mp = m["mountPath"].as_str().unwrap_or("");
            Path::new(path).starts_with(mp)
        })
        .max_by_key(|m| m["mountPath"].as_str().unwrap_or("").len())
        .unwrap_or_else(|| {
            panic!(
                "{file}: {path} is on no volume of container {} (the root filesystem is read-only)",
                container["name"]
            )
        });
    let vol = arr(&pod["volumes"])
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap_or_else(|| panic!("{file}: volumeMount {} names no volume", mount["name"]));
    (vol, mount)
}

/// The security settings that every pod of customs must have; `what` names
/// the pod in the messages.
fn assert_hardened(file: &str, what: &str, pod: &Value) {
    for k in ["hostNetwork", "hostPID", "hostIPC"] {
        assert_ne!(pod[k], true, "{file}: {what} sets {k}: true");
    }
    assert_eq!(
        pod["automountServiceAccountToken"], false,
        "{file}: {what}: automountServiceAccountToken must be false (customs never calls the Kubernetes API)"
    );
    for v in arr(&pod["volumes"]) {
        assert!(
            v.get("hostPath").is_none(),
            "{file}: {what}: volume {} is a hostPath",
            v["name"]
        );
    }
    let psc = &pod["securityContext"];
    let cs = containers(pod);
    assert!(!cs.is_empty(), "{file}: {what} has no container");
    for c in cs {
        let name = &c["name"];
        let sc = &c["securityContext"];
        // A container's setting wins over the pod's.
        let eff = |k: &str| -> &Value {
            if sc.get(k).is_some() {
                &sc[k]
            } else {
                &psc[k]
            }
        };
        assert_eq!(
            eff("runAsNonRoot"),
            &Value::Bool(true),
            "{file}: {what}, container {name}: runAsNonRoot must be true"
        );
        assert_eq!(
            eff("runAsUser").as_u64(),
            Some(UID),
            "{file}: {what}, container {name}: runAsUser must be {UID} (the image's user)"
        );
        assert_eq!(
            eff("runAsGroup").as_u64(),
            Some(UID),
            "{file}: {what}, container {name}: runAsGroup must be {UID}"
        );
        assert_eq!(
            eff("seccompProfile")["type"],
            "RuntimeDefault",
            "{file}: {what}, container {name}: seccompProfile.type must be RuntimeDefault"
        );
        assert_eq!(
            sc["readOnlyRootFilesystem"], true,
            "{file}: {what}, container {name}: readOnlyRootFilesystem must be true"
        );
        assert_eq!(
            sc["allowPrivilegeEscalation"], false,
            "{file}: {what}, container {name}: allowPrivilegeEscalation must be false"
        );
        assert_ne!(
            sc["privileged"], true,
            "{file}: {what}, container {name}: privileged"
        );
        assert!(
            strings(&sc["capabilities"]["drop"])
                .iter()
                .any(|c| c == "ALL"),
            "{file}: {what}, container {name}: capabilities.drop must hold ALL"
        );
        assert!(
            arr(&sc["capabilities"]["add"]).is_empty(),
            "{file}: {what}, container {name}: capabilities.add must be empty, is {}",
            sc["capabilities"]["add"]
        );
        for k in ["requests", "limits"] {
            for r in ["cpu", "memory"] {
                assert!(
                    c["resources"][k].get(r).is_some(),
                    "{file}: {what}, container {name}: resources.{k}.{r} is missing"
                );
            }
        }
        let req = &c["resources"]["requests"];
        let lim = &c["resources"]["limits"];
        assert!(
            cpu_millis(file, &req["cpu"]) <= cpu_millis(file, &lim["cpu"]),
            "{file}: {what}, container {name}: cpu request {} above its limit {}",
            req["cpu"],
            lim["cpu"]
        );
        assert!(
            mem_bytes(file, &req["memory"]) <= mem_bytes(file, &lim["memory"]),
            "{file}: {what}, container {name}: memory request {} above its limit {}",
            req["memory"],
            lim["memory"]
        );
    }
}

fn kustomization() -> Value {
    let rel = format!("{K8S}/kustomization.yaml");
    serde_saphyr::from_str(&read(&rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn every_manifest_parses_and_the_kustomization_lists_each_one_once() {
    let files = k8s_files();
    let docs = docs();
    for d in &docs {
        assert!(
            d.v["apiVersion"].is_string() && !d.kind().is_empty(),
            "{}: a document has no apiVersion or kind",
            d.file
        );
        if d.kind() != "Kustomization" {
            assert!(
                !d.name().is_empty(),
                "{}: the {} has no metadata.name",
                d.file,
                d.kind()
            );
        }
    }
    let mut seen = BTreeSet::new();
    for d in &docs {
        assert!(
            seen.insert((d.kind().to_string(), d.name().to_string())),
            "{}: a second {} named {:?}",
            d.file,
            d.kind(),
            d.name()
        );
    }

    let k = kustomization();
    let rel = format!("{K8S}/kustomization.yaml");
    assert_eq!(
        k["kind"], "Kustomization",
        "{rel}: kind is not Kustomization"
    );
    let listed = strings(&k["resources"]);
    let mut unique = BTreeSet::new();
    for r in &listed {
        assert!(unique.insert(r.clone()), "{rel}: {r} is listed twice");
        assert!(
            files.contains(r),
            "{rel}: lists {r}, which is not a file of {K8S}"
        );
        assert!(
            !r.ends_with(EXAMPLE_SUFFIX),
            "{rel}: lists the example {r}; applying it would overwrite the real values with placeholders"
        );
    }
    for f in &files {
        if f == "kustomization.yaml" || f.ends_with(EXAMPLE_SUFFIX) {
            continue;
        }
        assert!(
            unique.contains(f),
            "{rel}: does not list {K8S}/{f}, so `kubectl apply -k` would leave it out"
        );
    }
    // What is applied never carries a Secret: secrets are made out of band.
    for d in docs
        .iter()
        .filter(|d| unique.iter().any(|r| d.file.ends_with(&format!("/{r}"))))
    {
        assert_ne!(
            d.kind(),
            "Secret",
            "{}: a Secret among the applied resources; keep secrets out of the repository",
            d.file
        );
    }
    for kind in [
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "CronJob",
        "PersistentVolumeClaim",
        "ServiceAccount",
    ] {
        assert!(
            docs.iter().any(|d| d.kind() == kind),
            "{K8S}: no {kind} in any manifest"
        );
    }
}

#[test]
fn deployment_runs_the_server_with_probes_resources_and_secrets() {
    let docs = docs();
    let d = find(&docs, "Deployment", "customs");
    let f = d.file.as_str();
    assert_eq!(d.at("/apiVersion"), "apps/v1", "{f}: apiVersion");
    let replicas = d.at("/spec/replicas").as_u64().unwrap_or(1);
    assert!(
        replicas >= 2,
        "{f}: replicas is {replicas}, at least 2 wanted (one serves while the other restarts)"
    );
    let pod = d.at("/spec/template/spec");
    let labels = str_map(d.at("/spec/template/metadata/labels"));
    assert!(
        selects(&str_map(d.at("/spec/selector/matchLabels")), &labels),
        "{f}: spec.selector does not match the pod template's labels"
    );
    let c = &arr(&pod["containers"])
        .iter()
        .find(|c| c["name"] == "customs")
        .unwrap_or_else(|| panic!("{f}: no container named customs"));
    assert_eq!(c["image"], "customs:0.1.0", "{f}: the container's image");
    let args = strings(&c["args"]);
    assert_eq!(
        args.first().map(String::as_str),
        Some("server"),
        "{f}: the container's args must start with the subcommand `server`, are {args:?}"
    );

    // The port: declared, listened on, probed.
    assert!(
        arr(&c["ports"]).iter().any(|p| p["containerPort"] == PORT),
        "{f}: the container declares no containerPort {PORT}"
    );
    let listen = flag(&args, "--listen").unwrap_or_else(|| panic!("{f}: no --listen in args"));
    assert!(
        listen.ends_with(&format!(":{PORT}")) && !listen.starts_with("127."),
        "{f}: --listen {listen} must be a non-loopback address on port {PORT} (probes and the Service reach the pod's IP)"
    );
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        let p = &c[probe]["httpGet"];
        assert_eq!(
            p["path"], path,
            "{f}: {probe} must GET {path}, gets {}",
            p["path"]
        );
        assert_eq!(
            resolve_port(f, c, &p["port"]),
            PORT,
            "{f}: {probe} is not on port {PORT}"
        );
    }
    let sp = &c["startupProbe"]["httpGet"];
    assert!(
        sp["path"].is_string(),
        "{f}: no startupProbe with an httpGet"
    );
    assert_eq!(
        resolve_port(f, c, &sp["port"]),
        PORT,
        "{f}: startupProbe is not on port {PORT}"
    );

    // Graceful shutdown: the kubelet's SIGKILL comes after the server's grace.
    let grace = flag(&args, "--shutdown-grace")
        .map(|g| seconds(f, &g))
        .unwrap_or(DEFAULT_GRACE_SECS);
    let tgps = pod["terminationGracePeriodSeconds"].as_u64().unwrap_or(30);
    assert!(
        tgps > grace && tgps > DEFAULT_GRACE_SECS,
        "{f}: terminationGracePeriodSeconds {tgps} must exceed the server's shutdown grace ({grace} s, default {DEFAULT_GRACE_SECS} s), or in-flight scans are killed"
    );

    // Secrets: from the Secret, never literals in the manifest.
    for a in &args {
        for bad in ["redis://", "rediss://", "postgres://", "postgresql://"] {
            assert!(
                !a.contains(bad),
                "{f}: an arg holds a {bad} URL ({a}); URLs with passwords come from the Secret through env"
            );
        }
    }
    assert!(
        flag(&args, "--token").is_none(),
        "{f}: the token is given as an arg; mount it from the Secret and pass --token-file"
    );
    for e in arr(&c["env"]) {
        let name = e["name"].as_str().unwrap_or("");
        if [
            "TOKEN",
            "PASSWORD",
            "SECRET",
            "CUSTOMS_CACHE_BACKEND",
            "CUSTOMS_STORE",
        ]
        .iter()
        .any(|s| name.contains(s) && !name.ends_with("_FILE"))
        {
            assert!(
                e.get("value").is_none(),
                "{f}: env {name} has a literal value; take it from the Secret (valueFrom.secretKeyRef)"
            );
            assert_eq!(
                e["valueFrom"]["secretKeyRef"]["name"], "customs-secrets",
                "{f}: env {name} does not come from the customs-secrets Secret"
            );
        }
    }
    for (fl, env) in [
        ("--cache-backend", "CUSTOMS_CACHE_BACKEND"),
        ("--store", "CUSTOMS_STORE"),
    ] {
        assert!(
            flag(&args, fl).is_some() || env_entry(c, env).is_some(),
            "{f}: neither {fl} nor {env} is set: the replicas would not share Redis and PostgreSQL"
        );
    }
    let token = setting(c, &args, "--token-file", "CUSTOMS_TOKEN_FILE").unwrap_or_else(|| {
        panic!("{f}: neither --token-file nor CUSTOMS_TOKEN_FILE: the API would be open")
    });
    let (vol, mount) = volume_holding(f, pod, c, &token);
    assert_eq!(
        vol["secret"]["secretName"], "customs-secrets",
        "{f}: the token file {token} is not on a volume of the customs-secrets Secret"
    );
    assert_eq!(
        mount["readOnly"], true,
        "{f}: the Secret volume is mounted writable"
    );
    let rel = Path::new(&token)
        .strip_prefix(mount["mountPath"].as_str().unwrap_or(""))
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let items = arr(&vol["secret"]["items"]);
    assert!(
        items.is_empty() || items.iter().any(|i| i["path"] == rel.as_str()),
        "{f}: the Secret volume's items do not provide {rel} (for --token-file {token})"
    );

    // The database: on the shared volume, read-only; the cache: writable.
    let db = flag(&args, "--db").unwrap_or_else(|| panic!("{f}: no --db in args"));
    let (vol, mount) = volume_holding(f, pod, c, &db);
    assert_eq!(
        vol["persistentVolumeClaim"]["claimName"], "customs-db",
        "{f}: --db {db} is not on the customs-db claim"
    );
    assert_eq!(
        mount["readOnly"], true,
        "{f}: the servers mount customs-db writable; only the CronJob writes it"
    );
    for dir in [
        setting(c, &args, "--cache-dir", "CUSTOMS_CACHE_DIR")
            .unwrap_or_else(|| panic!("{f}: no --cache-dir")),
        "/tmp".to_string(),
    ] {
        let (vol, mount) = volume_holding(f, pod, c, &dir);
        assert!(
            vol.get("emptyDir").is_some(),
            "{f}: {dir} (written by the server) is not on an emptyDir"
        );
        assert_ne!(mount["readOnly"], true, "{f}: {dir} is mounted read-only");
    }

    // Replicas on different nodes.
    let spread =
        arr(&pod["topologySpreadConstraints"])
            .iter()
            .any(|t| t["topologyKey"] == "kubernetes.io/hostname")
            || arr(&pod["affinity"]["podAntiAffinity"]
                ["preferredDuringSchedulingIgnoredDuringExecution"])
            .iter()
            .map(|t| &t["podAffinityTerm"])
            .chain(arr(&pod["affinity"]["podAntiAffinity"]
                ["requiredDuringSchedulingIgnoredDuringExecution"]))
            .any(|t| t["topologyKey"] == "kubernetes.io/hostname");
    assert!(
        spread,
        "{f}: neither a topology spread nor a pod anti-affinity over kubernetes.io/hostname"
    );
}

#[test]
fn deployment_pods_are_locked_down() {
    let docs = docs();
    let d = find(&docs, "Deployment", "customs");
    assert_hardened(&d.file, "the server pod", d.at("/spec/template/spec"));
    let c = &d.at("/spec/template/spec/containers")[0];
    let lim = mem_bytes(&d.file, &c["resources"]["limits"]["memory"]);
    assert!(
        lim <= 1 << 30,
        "{}: memory limit {} is above 1Gi; the server is meant to stay lean",
        d.file,
        c["resources"]["limits"]["memory"]
    );
}

#[test]
fn service_hpa_pdb_and_network_policy_select_the_server_pods() {
    let docs = docs();
    let dep = find(&docs, "Deployment", "customs");
    let pods = str_map(dep.at("/spec/template/metadata/labels"));
    let c = &dep.at("/spec/template/spec/containers")[0];
    let cron = find(&docs, "CronJob", "customs-db-update");
    let cron_pods = str_map(cron.at("/spec/jobTemplate/spec/template/metadata/labels"));

    let svc = find(&docs, "Service", "customs");
    let f = &svc.file;
    let t = svc.at("/spec/type");
    assert!(
        t.is_null() || t == "ClusterIP",
        "{f}: type {t}, ClusterIP wanted"
    );
    let sel = str_map(svc.at("/spec/selector"));
    assert!(
        selects(&sel, &pods),
        "{f}: selector {sel:?} does not match the Deployment's pod labels {pods:?}"
    );
    assert!(
        !selects(&sel, &cron_pods),
        "{f}: selector {sel:?} also matches the db-update CronJob's pods"
    );
    let ports = arr(svc.at("/spec/ports"));
    assert!(
        ports.iter().any(|p| p["port"] == PORT
            && resolve_port(
                f,
                c,
                if p["targetPort"].is_null() {
                    &p["port"]
                } else {
                    &p["targetPort"]
                }
            ) == PORT),
        "{f}: no port {PORT} that targets the container's port {PORT}: {}",
        svc.at("/spec/ports")
    );

    let hpa = find(&docs, "HorizontalPodAutoscaler", "customs");
    let f = &hpa.file;
    assert_eq!(hpa.at("/apiVersion"), "autoscaling/v2", "{f}: apiVersion");
    let target = hpa.at("/spec/scaleTargetRef");
    assert!(
        target["kind"] == "Deployment"
            && target["name"] == "customs"
            && target["apiVersion"] == "apps/v1",
        "{f}: scaleTargetRef {target} is not the customs Deployment"
    );
    let min = hpa.at("/spec/minReplicas").as_u64().unwrap_or(1);
    let max = hpa.at("/spec/maxReplicas").as_u64().unwrap_or(0);
    assert!(
        min >= 2 && max >= min,
        "{f}: minReplicas {min}, maxReplicas {max}: at least 2, max above min"
    );
    assert!(
        arr(hpa.at("/spec/metrics"))
            .iter()
            .any(|m| m["resource"]["name"] == "cpu"
                && m["resource"]["target"]["type"] == "Utilization"
                && m["resource"]["target"]["averageUtilization"] == 70),
        "{f}: no cpu Utilization 70% metric"
    );

    let pdb = find(&docs, "PodDisruptionBudget", "customs");
    let f = &pdb.file;
    let sel = str_map(pdb.at("/spec/selector/matchLabels"));
    assert!(
        selects(&sel, &pods),
        "{f}: selector {sel:?} does not match the server pods {pods:?}"
    );
    let min_avail = pdb.at("/spec/minAvailable").as_u64();
    assert!(
        matches!(min_avail, Some(n) if n >= 1 && n < min),
        "{f}: minAvailable {:?} must be at least 1 and below the {min} replicas (or no drain can proceed)",
        min_avail
    );

    let np = find(&docs, "NetworkPolicy", "customs");
    let f = &np.file;
    let sel = str_map(np.at("/spec/podSelector/matchLabels"));
    assert!(
        selects(&sel, &pods),
        "{f}: podSelector {sel:?} does not select the server pods {pods:?}"
    );
    let types = strings(np.at("/spec/policyTypes"));
    assert!(
        types.iter().any(|t| t == "Ingress") && types.iter().any(|t| t == "Egress"),
        "{f}: policyTypes {types:?} must hold Ingress and Egress"
    );
    let ingress = arr(np.at("/spec/ingress"));
    assert!(
        !ingress.is_empty(),
        "{f}: no ingress rule: the server would be unreachable"
    );
    for rule in ingress {
        let ports = arr(&rule["ports"]);
        assert!(
            !ports.is_empty() && ports.iter().all(|p| resolve_port(f, c, &p["port"]) == PORT),
            "{f}: an ingress rule opens more than port {PORT}: {rule}"
        );
        assert!(
            !arr(&rule["from"]).is_empty(),
            "{f}: an ingress rule admits every source: {rule}"
        );
    }
    let peers: Vec<&Value> = ingress.iter().flat_map(|r| arr(&r["from"])).collect();
    assert!(
        peers
            .iter()
            .any(|p| p["podSelector"]["matchLabels"]["customs-client"] == "true"),
        "{f}: no ingress from pods labelled customs-client: \"true\""
    );
    assert!(
        peers.iter().any(
            |p| p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "harbor"
        ),
        "{f}: no ingress from the harbor namespace"
    );
    let egress_ports: BTreeSet<u64> = arr(np.at("/spec/egress"))
        .iter()
        .flat_map(|r| arr(&r["ports"]))
        .filter_map(|p| p["port"].as_u64())
        .collect();
    for (p, what) in [
        (53, "DNS"),
        (6379, "Redis"),
        (5432, "PostgreSQL"),
        (443, "registries"),
        (5000, "registries"),
    ] {
        assert!(
            egress_ports.contains(&p),
            "{f}: no egress to port {p} ({what})"
        );
    }
}

#[test]
fn cronjob_updates_the_database_the_servers_read() {
    let docs = docs();
    let cj = find(&docs, "CronJob", "customs-db-update");
    let f = cj.file.as_str();
    assert_eq!(cj.at("/apiVersion"), "batch/v1", "{f}: apiVersion");
    assert_eq!(
        cj.at("/spec/concurrencyPolicy"),
        "Forbid",
        "{f}: concurrencyPolicy must be Forbid (one writer at a time)"
    );
    let schedule = cj.at("/spec/schedule").as_str().unwrap_or("");
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    assert!(
        fields.len() == 5
            && fields[0].parse::<u32>().is_ok_and(|m| m < 60)
            && fields[1] == "*/6"
            && fields[2..] == ["*", "*", "*"],
        "{f}: schedule {schedule:?} is not once every 6 hours (M */6 * * *)"
    );
    let pod = cj.at("/spec/jobTemplate/spec/template/spec");
    assert_hardened(f, "the db-update pod", pod);
    let rp = &pod["restartPolicy"];
    assert!(
        rp == "Never" || rp == "OnFailure",
        "{f}: restartPolicy {rp}"
    );

    let c = &arr(&pod["containers"])[0];
    assert_eq!(c["image"], "customs:0.1.0", "{f}: not the server's image");
    let args = strings(&c["args"]);
    assert!(
        args.windows(2).any(|w| w == ["db", "update"]),
        "{f}: the container does not run `customs db update`: args {args:?}"
    );
    let cache = setting(c, &args, "--cache-dir", "CUSTOMS_CACHE_DIR")
        .unwrap_or_else(|| panic!("{f}: no --cache-dir: db update would write to $HOME/.cache"));
    let written = format!("{}/db/customs.db", cache.trim_end_matches('/'));
    let (vol, mount) = volume_holding(f, pod, c, &written);
    assert_eq!(
        vol["persistentVolumeClaim"]["claimName"], "customs-db",
        "{f}: {written} is not on the customs-db claim"
    );
    assert_ne!(
        mount["readOnly"], true,
        "{f}: the updater mounts customs-db read-only"
    );
    assert_ne!(
        vol["persistentVolumeClaim"]["readOnly"], true,
        "{f}: the updater's claim is read-only"
    );

    // The file written is the file the servers read.
    let dep = find(&docs, "Deployment", "customs");
    let server_args = strings(&dep.at("/spec/template/spec/containers")[0]["args"]);
    assert_eq!(
        flag(&server_args, "--db").as_deref(),
        Some(written.as_str()),
        "{}: --db is not the file the CronJob's `db update --cache-dir {cache}` writes",
        dep.file
    );

    let pvc = find(&docs, "PersistentVolumeClaim", "customs-db");
    assert!(
        strings(pvc.at("/spec/accessModes")).iter().any(|m| m == "ReadWriteMany"),
        "{}: customs-db must be ReadWriteMany (the updater and the servers mount it on different nodes)",
        pvc.file
    );
}

#[test]
fn every_reference_between_the_manifests_resolves() {
    let docs = docs();
    let secret = find(&docs, "Secret", "customs-secrets");
    assert!(
        secret.file.ends_with(EXAMPLE_SUFFIX),
        "{}: the Secret must live in a {EXAMPLE_SUFFIX} file (not applied)",
        secret.file
    );
    let keys: BTreeSet<String> = secret
        .at("/stringData")
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    for (k, v) in str_map(secret.at("/stringData")) {
        assert!(
            v.contains("REPLACE-ME"),
            "{}: stringData.{k} does not look like a placeholder ({v:?}); no real secret belongs in the repository",
            secret.file
        );
    }
    assert!(
        secret.at("/data").is_null(),
        "{}: base64 `data` in the example; use stringData placeholders",
        secret.file
    );

    let pods: Vec<(&Doc, &Value)> = docs
        .iter()
        .filter_map(|d| match d.kind() {
            "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => {
                Some((d, d.at("/spec/template/spec")))
            }
            "CronJob" => Some((d, d.at("/spec/jobTemplate/spec/template/spec"))),
            _ => None,
        })
        .collect();
    assert!(
        pods.len() >= 2,
        "{K8S}: expected the Deployment's and the CronJob's pods"
    );
    for (d, pod) in pods {
        let f = &d.file;
        let volumes: Vec<&str> = arr(&pod["volumes"])
            .iter()
            .filter_map(|v| v["name"].as_str())
            .collect();
        let mut used = BTreeSet::new();
        for c in containers(pod) {
            let mut paths = BTreeSet::new();
            for m in arr(&c["volumeMounts"]) {
                let name = m["name"].as_str().unwrap_or("");
                assert!(
                    volumes.contains(&name),
                    "{f}: container {} mounts {name:?}, which is not a volume of its pod ({volumes:?})",
                    c["name"]
                );
                assert!(
                    paths.insert(m["mountPath"].as_str().unwrap_or("")),
                    "{f}: container {} mounts twice at {}",
                    c["name"],
                    m["mountPath"]
                );
                used.insert(name);
            }
            for e in arr(&c["env"]) {
                let r = &e["valueFrom"]["secretKeyRef"];
                if !r.is_null() {
                    assert!(
                        r["name"] == "customs-secrets" && keys.contains(r["key"].as_str().unwrap_or("")),
                        "{f}: env {} reads {r}, not a key of the customs-secrets example ({keys:?})",
                        e["name"]
                    );
                }
            }
        }
        for v in &volumes {
            assert!(
                used.contains(v),
                "{f}: volume {v} is mounted by no container"
            );
        }
        for v in arr(&pod["volumes"]) {
            if let Some(claim) = v["persistentVolumeClaim"]["claimName"].as_str() {
                find(&docs, "PersistentVolumeClaim", claim);
            }
            if let Some(s) = v["secret"]["secretName"].as_str() {
                assert_eq!(
                    s, "customs-secrets",
                    "{f}: volume {} mounts Secret {s}",
                    v["name"]
                );
                for i in arr(&v["secret"]["items"]) {
                    assert!(
                        keys.contains(i["key"].as_str().unwrap_or("")),
                        "{f}: volume {} wants key {}, which the customs-secrets example lacks",
                        v["name"],
                        i["key"]
                    );
                }
            }
        }
        let sa = pod["serviceAccountName"].as_str().unwrap_or("default");
        let sa = find(&docs, "ServiceAccount", sa);
        assert_eq!(
            sa.at("/automountServiceAccountToken"),
            false,
            "{}: the ServiceAccount mounts its token by default",
            sa.file
        );
    }
}

/// Dockerfile instructions: (line number, INSTRUCTION, rest), continuation
/// lines joined, comments dropped.
fn dockerfile() -> Vec<(usize, String, String)> {
    let text = read("Dockerfile");
    let mut out = Vec::new();
    let mut cur: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('#') || (t.is_empty() && cur.is_none()) {
            continue;
        }
        let (start, mut acc) = cur.take().unwrap_or((i + 1, String::new()));
        let (body, more) = match t.strip_suffix('\\') {
            Some(b) => (b, true),
            None => (t, false),
        };
        acc.push(' ');
        acc.push_str(body.trim());
        if more {
            cur = Some((start, acc));
        } else {
            let acc = acc.trim().to_string();
            let (ins, rest) = acc.split_once(' ').unwrap_or((&acc, ""));
            out.push((start, ins.to_ascii_uppercase(), rest.trim().to_string()));
        }
    }
    assert!(cur.is_none(), "Dockerfile: ends inside a continued line");
    out
}

#[test]
fn dockerfile_builds_a_static_musl_binary_into_a_non_root_scratch_image() {
    let ins = dockerfile();
    // Stages: (FROM line, image, alias, instructions).
    type Stage = (usize, String, Option<String>, Vec<(usize, String, String)>);
    let mut stages: Vec<Stage> = Vec::new();
    for (line, i, rest) in &ins {
        if i == "FROM" {
            let words: Vec<&str> = rest
                .split_whitespace()
                .filter(|w| !w.starts_with("--"))
                .collect();
            let image = words.first().unwrap_or(&"").to_string();
            let alias = match words.get(1..) {
                Some([as_, name]) if as_.eq_ignore_ascii_case("as") => Some(name.to_string()),
                _ => None,
            };
            stages.push((*line, image, alias, Vec::new()));
        } else {
            match stages.last_mut() {
                Some(s) => s.3.push((*line, i.clone(), rest.clone())),
                None => assert_eq!(i, "ARG", "Dockerfile:{line}: {i} before the first FROM"),
            }
        }
    }
    assert!(
        stages.len() >= 2,
        "Dockerfile: {} stage(s); a builder and a minimal final stage wanted",
        stages.len()
    );

    let mut aliases = BTreeSet::new();
    for (line, image, alias, _) in &stages {
        if image != "scratch" && !aliases.contains(image.as_str()) {
            let last = image.rsplit('/').next().unwrap_or(image);
            let tag = last
                .split_once('@')
                .map(|(t, _)| t)
                .unwrap_or(last)
                .split_once(':')
                .map(|(_, t)| t);
            assert!(
                tag.is_some() || image.contains("@sha256:"),
                "Dockerfile:{line}: FROM {image} has no tag (that is :latest)"
            );
            assert!(
                tag != Some("latest") && !tag.is_some_and(|t| t.contains('$')),
                "Dockerfile:{line}: FROM {image}: a pinned tag wanted, not latest or a variable"
            );
        }
        if let Some(a) = alias {
            aliases.insert(a.as_str());
        }
    }

    for (line, i, rest) in &ins {
        if i == "ADD" {
            assert!(!rest.contains("://"), "Dockerfile:{line}: ADD of a URL");
        }
        if i == "ARG" || i == "ENV" {
            let name = rest
                .split(['=', ' '])
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            for s in ["TOKEN", "PASSWORD", "SECRET", "_KEY"] {
                assert!(
                    !name.contains(s),
                    "Dockerfile:{line}: {i} {name}: secrets do not belong in the image"
                );
            }
        }
    }

    let build_run = stages[..stages.len() - 1]
        .iter()
        .flat_map(|s| &s.3)
        .find(|(_, i, r)| i == "RUN" && r.contains("cargo build"))
        .unwrap_or_else(|| panic!("Dockerfile: no builder stage RUNs cargo build"));
    let (line, _, cmd) = build_run;
    for want in [
        "--release",
        "--locked",
        "--target x86_64-unknown-linux-musl",
        "-p customs-cli",
    ] {
        assert!(
            cmd.contains(want),
            "Dockerfile:{line}: cargo build without {want}: {cmd}"
        );
    }

    let (line, image, _, fin) = stages.last().unwrap_or_else(|| unreachable!());
    assert!(
        image == "scratch" || image.contains("distroless"),
        "Dockerfile:{line}: the final stage is FROM {image}; scratch or a distroless base wanted"
    );
    if image == "scratch" {
        for (l, i, _) in fin {
            assert!(
                i != "RUN" && i != "HEALTHCHECK",
                "Dockerfile:{l}: {i} in the scratch stage, which has no shell to run it"
            );
        }
    }
    let user = fin
        .iter()
        .rev()
        .find(|(_, i, _)| i == "USER")
        .map(|(_, _, u)| u.as_str())
        .unwrap_or_else(|| panic!("Dockerfile: no USER in the final stage (it would run as root)"));
    let ids: Vec<&str> = user.split(':').collect();
    for id in &ids {
        let n: u32 = id.parse().unwrap_or_else(|_| {
            panic!("Dockerfile: USER {user} is not numeric (runAsNonRoot cannot verify a name)")
        });
        assert_ne!(n, 0, "Dockerfile: USER {user} is root");
    }
    assert_eq!(
        ids.first().copied(),
        Some(UID.to_string().as_str()),
        "Dockerfile: USER {user}, {UID} wanted (the manifests' runAsUser)"
    );
    assert!(
        fin.iter()
            .any(|(_, i, r)| i == "COPY" && r.contains("--from=")),
        "Dockerfile: the final stage copies nothing from the builder"
    );
    let exec_form = |name: &str| -> Vec<String> {
        let (l, _, r) = fin
            .iter()
            .rev()
            .find(|(_, i, _)| i == name)
            .unwrap_or_else(|| panic!("Dockerfile: no {name} in the final stage"));
        serde_json::from_str(r)
            .unwrap_or_else(|e| panic!("Dockerfile:{l}: {name} is not in exec (JSON) form: {e}"))
    };
    assert_eq!(
        exec_form("ENTRYPOINT"),
        ["/customs"],
        "Dockerfile: ENTRYPOINT"
    );
    let cmd = exec_form("CMD");
    assert_eq!(
        cmd.first().map(String::as_str),
        Some("server"),
        "Dockerfile: CMD must run `server`: {cmd:?}"
    );
    assert!(
        fin.iter().any(|(_, i, r)| i == "EXPOSE"
            && r.split_whitespace()
                .any(|p| p == PORT.to_string() || p == format!("{PORT}/tcp"))),
        "Dockerfile: the final stage does not EXPOSE {PORT}"
    );
    let labels: String = fin
        .iter()
        .filter(|(_, i, _)| i == "LABEL")
        .map(|(_, _, r)| r.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    for l in ["title", "description", "version", "licenses", "source"] {
        assert!(
            labels.contains(&format!("org.opencontainers.image.{l}=")),
            "Dockerfile: no LABEL org.opencontainers.image.{l}"
        );
    }

    let ignore = read(".dockerignore");
    let ignored: BTreeSet<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    for p in [".git", "target"] {
        assert!(ignored.contains(p), ".dockerignore: does not exclude {p}");
    }
    for p in ["Cargo.lock", "Cargo.toml", "crates"] {
        assert!(
            !ignored.contains(p),
            ".dockerignore: excludes {p}, which the build needs"
        );
    }
}

#[test]
fn customs_config_finds_nothing_high_or_critical_in_the_dockerfile() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // An empty ignore file: a .trivyignore in the working tree must not hide anything.
    let ignore = cache.path().join("empty.trivyignore");
    std::fs::write(&ignore, "").unwrap_or_else(|e| panic!("{e}"));
    let out = customs(cache.path())
        .args([
            "config",
            "Dockerfile",
            "--severity",
            "HIGH,CRITICAL",
            "--exit-code",
            "1",
        ])
        .arg("--ignorefile")
        .arg(&ignore)
        .output()
        .unwrap_or_else(|e| panic!("customs config Dockerfile: {e}"));
    assert!(
        out.status.success(),
        "Dockerfile: `customs config Dockerfile --severity HIGH,CRITICAL --exit-code 1` exited {:?}:\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The checks that matter for this image ran and passed (not just were
    // filtered out or skipped).
    let out = customs(cache.path())
        .args(["config", "Dockerfile", "-f", "json"])
        .arg("--ignorefile")
        .arg(&ignore)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    let results = arr(&report["Results"]);
    assert_eq!(
        results.len(),
        1,
        "customs config Dockerfile: one result wanted: {report}"
    );
    let status: BTreeMap<String, String> = arr(&results[0]["Misconfigurations"])
        .iter()
        .map(|m| {
            (
                m["ID"].as_str().unwrap_or("").to_string(),
                m["Status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    for id in [
        "DS-0001",   // no :latest
        "DS-0002",   // not root
        "DS-0025",   // apk add --no-cache
        "DS-0031",   // no secrets in build args, env or copied files
        "CS-DS-002", // no curl | sh
        "CS-DS-006", // numeric USER
        "CS-DS-008", // no toolchain in the final stage
        "CS-DS-009", // COPY . . with a .dockerignore
        "CS-DS-010", // no secret in ARG or ENV
    ] {
        assert_eq!(
            status.get(id).map(String::as_str),
            Some("PASS"),
            "Dockerfile: check {id} did not pass (all: {status:?})"
        );
    }
}

/// The image the Dockerfile describes, assembled here from this build's
/// binary (the musl build cannot run in CI: no base image can be pulled):
/// its final stage's files (the binary, passwd, group, CA bundle) and
/// config (USER, ENTRYPOINT, CMD from the Dockerfile), scanned by customs
/// with every scanner: nothing HIGH or CRITICAL.
#[test]
fn the_image_the_dockerfile_describes_scans_clean_of_high_and_critical() {
    let ins = dockerfile();
    let last_from = ins.iter().rposition(|(_, i, _)| i == "FROM").unwrap_or(0);
    let final_stage = &ins[last_from..];
    let value_of = |name: &str| -> Value {
        final_stage
            .iter()
            .rev()
            .find(|(_, i, _)| i == name)
            .map(|(_, _, rest)| {
                serde_json::from_str(rest)
                    .unwrap_or_else(|e| panic!("Dockerfile: {name} is not a JSON array ({e})"))
            })
            .unwrap_or_else(|| panic!("Dockerfile: the final stage has no {name}"))
    };
    let user = final_stage
        .iter()
        .rev()
        .find(|(_, i, _)| i == "USER")
        .map(|(_, _, r)| r.clone())
        .unwrap_or_else(|| panic!("Dockerfile: the final stage has no USER"));
    let bin = std::fs::read(env!("CARGO_BIN_EXE_customs")).unwrap_or_else(|e| panic!("{e}"));
    let certs = std::fs::read("/etc/ssl/certs/ca-certificates.crt").unwrap_or_default();
    let passwd = b"customs:x:65532:65532:customs:/nonexistent:/sbin/nologin\n".to_vec();
    let group = b"customs:x:65532:\n".to_vec();
    let layer = customs_testkit::layer_with_modes(&[
        ("customs", &bin, 0o755),
        ("etc/passwd", &passwd, 0o644),
        ("etc/group", &group, 0o644),
        ("etc/ssl/certs/ca-certificates.crt", &certs, 0o644),
    ]);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let archive = dir.path().join("customs-image.tar");
    customs_testkit::DockerImage::new(&[layer])
        .tags(&["customs:0.1.0"])
        .history(&["COPY /rootfs/ / # buildkit"])
        .config("created", Value::from("2026-12-01T00:00:00Z"))
        .config(
            "config",
            serde_json::json!({
                "User": user,
                "Entrypoint": value_of("ENTRYPOINT"),
                "Cmd": value_of("CMD"),
                "ExposedPorts": {"4954/tcp": {}},
            }),
        )
        .write_tar(&archive);
    let out = customs(dir.path())
        .args(["-q", "image", "--input"])
        .arg(&archive)
        .args([
            "--scanners",
            "vuln,secret,misconfig,hardening",
            "--image-config-scanners",
            "misconfig,secret",
        ])
        .args([
            "--severity",
            "HIGH,CRITICAL",
            "--exit-code",
            "1",
            "--format",
            "json",
            "--max-image-age",
            "100000",
        ])
        .arg("--db")
        .arg(vuln_db())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "the customs image has HIGH/CRITICAL findings: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let report = json_of(&out.stdout);
    assert!(findings(&report).is_empty(), "{:?}", findings(&report));
}
