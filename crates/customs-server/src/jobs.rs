//! Scan jobs: the bounded queue, the worker threads, and where job records
//! and reports are kept (this process, or Redis shared by the replicas).
//!
//! A job's life: `queued` → `running` → `done` or `failed`. A failed job
//! says whether submitting it again may succeed (`retryable`: the server
//! shut down before running it, or the replica running it stopped). A
//! replica refreshes the heartbeat of its jobs every few seconds; a job
//! whose replica has not done so for `--job-stale-after` (30 s) is reported as failed
//! and retryable by whichever replica is asked, so a killed replica's scans
//! are handed back, never left "running" for ever.
//!
//! Identical requests (same image reference, options and credentials)
//! submitted while one is queued or running get that job's ID: the scan
//! runs once.

use crate::{AppState, Config};
use anyhow::{anyhow, Result};
use customs_report::Report;
use customs_scan::{ImageSource, ScanOptions, ScanStats, Scanners};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How often a replica refreshes the heartbeat of its jobs: six times
/// within the time after which a job is taken as lost.
fn heartbeat(stale_after: Duration) -> Duration {
    (stale_after / 6).max(Duration::from_millis(100))
}
/// Jobs kept in memory (without Redis), finished ones dropped first.
const MEMORY_JOBS: usize = 10_000;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Queued,
    Running,
    Done,
    Failed,
}

impl Status {
    pub fn finished(self) -> bool {
        matches!(self, Status::Done | Status::Failed)
    }
}

/// What the API shows of a job (never credentials).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct JobRecord {
    pub id: String,
    pub status: Status,
    /// `image`, `archive` or `inventory`.
    pub kind: String,
    /// The image reference, the archive's name, or the inventory's artifact.
    pub artifact: String,
    pub scanners: Vec<String>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A failed job that may succeed if submitted again.
    #[serde(default)]
    pub retryable: bool,
    /// The replica that took it.
    pub replica: String,
    /// Unix milliseconds of the last sign of life of that replica.
    pub heartbeat_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<ScanStats>,
    /// The image's registry digest (else its image ID), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The scan's ID in the history store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_id: Option<i64>,
    /// Seconds the scan took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// The artifact as Harbor named it (Harbor's scans only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harbor: Option<crate::harbor::Artifact>,
}

impl JobRecord {
    /// The record as a reader should see it: a queued or running job whose
    /// replica stopped refreshing it is lost.
    pub fn effective(mut self, now_ms: i64, stale_after: Duration) -> JobRecord {
        let stale = i64::try_from(stale_after.as_millis()).unwrap_or(i64::MAX);
        if !self.status.finished() && now_ms - self.heartbeat_ms > stale {
            self.status = Status::Failed;
            self.retryable = true;
            self.error = Some(format!(
                "the replica that took the scan ({}) stopped before it finished; submit it again",
                self.replica
            ));
        }
        self
    }
}

/// What a scan reads.
pub enum Work {
    /// A reference pulled from its registry.
    Image {
        reference: customs_image::ImageRef,
        remote: Box<customs_image::RemoteOptions>,
    },
    /// An uploaded `docker save` archive or OCI layout tar.
    Archive {
        file: tempfile::TempPath,
        name: String,
    },
    /// An inventory a client made itself (a report listing `Packages`).
    Inventory { report: Box<Report> },
}

impl Work {
    fn kind(&self) -> &'static str {
        match self {
            Work::Image { .. } => "image",
            Work::Archive { .. } => "archive",
            Work::Inventory { .. } => "inventory",
        }
    }
}

/// How a job scans.
#[derive(Clone, Debug, Default)]
pub struct Params {
    pub scanners: Scanners,
    /// The scanner names as given (shown in the record).
    pub names: Vec<String>,
    pub list_all_pkgs: bool,
    pub severities: Vec<String>,
    pub ignore_unfixed: bool,
}

pub struct Submission {
    pub work: Work,
    pub params: Params,
    /// Requests with the same key share one job while it is live.
    pub dedup: Option<String>,
    pub artifact: String,
    /// Harbor's name of the artifact, for its report.
    pub harbor: Option<crate::harbor::Artifact>,
}

struct Queued {
    id: String,
    sub: Submission,
}

/// Why a submission was refused.
pub enum Refused {
    /// The queue is full: try again after this long.
    Full(Duration),
    ShuttingDown,
    Store(String),
}

pub struct Jobs {
    tx: Mutex<Option<mpsc::Sender<Queued>>>,
    rx: Arc<Mutex<mpsc::Receiver<Queued>>>,
    store: JobStore,
    depth: AtomicUsize,
    /// Jobs of this replica not finished yet (queued or running).
    pending: Mutex<HashSet<String>>,
    /// Mean scan time (ms, exponentially weighted), for `Retry-After`.
    mean_ms: AtomicU64,
    /// A live job whose heartbeat is older is taken as lost.
    stale_after: Duration,
}

pub fn now_ms() -> i64 {
    customs_history::store::now_ms()
}

fn new_id() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // No system randomness: time and a counter stay unique per replica.
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        b[..8].copy_from_slice(&now_ms().to_le_bytes());
        b[8..].copy_from_slice(&n.to_le_bytes());
    }
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

impl Jobs {
    pub async fn new(config: &Config) -> Result<Jobs> {
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let store = match &config.cache_redis {
            Some(url) => JobStore::redis(url, config.job_ttl).await?,
            None => JobStore::Memory(Mutex::new(MemStore::default())),
        };
        Ok(Jobs {
            tx: Mutex::new(Some(tx)),
            rx: Arc::new(Mutex::new(rx)),
            store,
            depth: AtomicUsize::new(0),
            pending: Mutex::new(HashSet::new()),
            mean_ms: AtomicU64::new(1000),
            stale_after: config.stale_after,
        })
    }

    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }

    pub fn store(&self) -> &JobStore {
        &self.store
    }

    /// Queue a scan, or give the live job of an identical request.
    pub async fn submit(
        &self,
        state: &AppState,
        sub: Submission,
    ) -> std::result::Result<(JobRecord, bool), Refused> {
        if state.is_shutting_down() {
            return Err(Refused::ShuttingDown);
        }
        let id = new_id();
        if let Some(key) = &sub.dedup {
            let existing = self
                .store
                .claim(key, &id, state.config.scan_timeout + self.stale_after)
                .await
                .map_err(|e| Refused::Store(e.to_string()))?;
            if let Some(other) = existing {
                if let Ok(Some(r)) = self.store.get(&other).await {
                    let r = r.effective(now_ms(), self.stale_after);
                    if !r.status.finished() {
                        state.metrics.deduplicated.inc();
                        return Ok((r, true));
                    }
                }
                self.store
                    .force_claim(key, &id, state.config.scan_timeout + self.stale_after)
                    .await
                    .map_err(|e| Refused::Store(e.to_string()))?;
            }
        }
        let rec = JobRecord {
            id: id.clone(),
            status: Status::Queued,
            kind: sub.work.kind().into(),
            artifact: sub.artifact.clone(),
            scanners: sub.params.names.clone(),
            created_at: customs_scan::now_rfc3339(),
            started_at: None,
            finished_at: None,
            error: None,
            retryable: false,
            replica: state.config.replica.clone(),
            heartbeat_ms: now_ms(),
            stats: None,
            digest: None,
            history_id: None,
            duration_seconds: None,
            harbor: sub.harbor.clone(),
        };
        self.store
            .put(&rec)
            .await
            .map_err(|e| Refused::Store(e.to_string()))?;
        let dedup = sub.dedup.clone();
        let sender = self.tx.lock().ok().and_then(|t| t.clone());
        let Some(sender) = sender else {
            return Err(Refused::ShuttingDown);
        };
        if let Ok(mut p) = self.pending.lock() {
            p.insert(id.clone());
        }
        self.store.track(&state.config.replica, &id, true).await;
        // Counted before it is sent: a worker may take it at once.
        let d = self.depth.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        state
            .metrics
            .queue_depth
            .set(i64::try_from(d).unwrap_or(i64::MAX));
        match sender.try_send(Queued {
            id: id.clone(),
            sub,
        }) {
            Ok(()) => Ok((rec, false)),
            Err(e) => {
                self.took_one(state);
                if let Ok(mut p) = self.pending.lock() {
                    p.remove(&id);
                }
                self.store.track(&state.config.replica, &id, false).await;
                self.store.delete(&id).await;
                if let Some(key) = dedup {
                    self.store.release(&key, &id).await;
                }
                match e {
                    mpsc::error::TrySendError::Full(_) => {
                        state.metrics.rejected.inc();
                        Err(Refused::Full(self.retry_after(state)))
                    }
                    mpsc::error::TrySendError::Closed(_) => Err(Refused::ShuttingDown),
                }
            }
        }
    }

    /// One job left the queue.
    fn took_one(&self, state: &AppState) {
        let before = self
            .depth
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| {
                Some(d.saturating_sub(1))
            })
            .unwrap_or(0);
        let d = before.saturating_sub(1);
        state.metrics.queue_depth.set(i64::try_from(d).unwrap_or(0));
    }

    /// When a full queue may have room: the queue's work spread over the
    /// workers, at least a second, at most a minute.
    fn retry_after(&self, state: &AppState) -> Duration {
        let mean = self.mean_ms.load(Ordering::Relaxed);
        let per_worker = (self.depth() as u64).div_ceil(state.config.workers.max(1) as u64);
        Duration::from_millis((mean * per_worker.max(1)).clamp(1000, 60_000))
    }

    /// A job's record as a reader should see it.
    pub async fn get(&self, id: &str) -> Result<Option<JobRecord>> {
        Ok(self
            .store
            .get(id)
            .await?
            .map(|r| r.effective(now_ms(), self.stale_after)))
    }

    /// Stop taking scans (SIGTERM); the workers hand the queued ones back.
    pub async fn hand_back_queued(&self, _state: &AppState) {
        if let Ok(mut t) = self.tx.lock() {
            t.take();
        }
    }

    /// Wait until this replica's jobs are finished, at most `grace`.
    pub async fn wait_idle(&self, grace: Duration) {
        let until = Instant::now() + grace;
        while Instant::now() < until {
            if self.pending.lock().map(|p| p.is_empty()).unwrap_or(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A replica that starts again under the same name hands back the jobs
    /// its previous process took and never finished (it was killed): their
    /// clients learn at once, not after the heartbeat timeout.
    pub async fn hand_back_previous(&self, state: &AppState) {
        let me = &state.config.replica;
        let ids = self.store.tracked(me).await;
        let mut n = 0;
        for id in ids {
            if let Ok(Some(mut r)) = self.store.get(&id).await {
                if !r.status.finished() && &r.replica == me {
                    r.status = Status::Failed;
                    r.retryable = true;
                    r.error = Some(format!(
                        "the replica that took the scan ({me}) restarted before it finished; submit it again"
                    ));
                    r.finished_at = Some(customs_scan::now_rfc3339());
                    let _ = self.store.put(&r).await;
                    n += 1;
                }
            }
            self.store.track(me, &id, false).await;
        }
        if n > 0 {
            tracing::info!(
                "{n} scans this replica took before it restarted were handed back as retryable"
            );
        }
    }

    /// After the grace period: what is still pending is handed back.
    pub async fn fail_running(&self, state: &AppState) {
        let ids: Vec<String> = self
            .pending
            .lock()
            .map(|p| p.iter().cloned().collect())
            .unwrap_or_default();
        for id in ids {
            if let Ok(Some(mut r)) = self.store.get(&id).await {
                r.status = Status::Failed;
                r.retryable = true;
                r.error =
                    Some("the server stopped before the scan finished; submit it again".into());
                r.finished_at = Some(customs_scan::now_rfc3339());
                let _ = self.store.put(&r).await;
                state
                    .metrics
                    .scans
                    .get_or_create(&outcome("retryable"))
                    .inc();
            }
        }
    }
}

fn outcome(o: &str) -> crate::metrics::Outcome {
    crate::metrics::Outcome {
        outcome: o.to_string(),
    }
}

/// Refresh the heartbeat of this replica's jobs.
pub fn spawn_heartbeat(state: Arc<AppState>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(heartbeat(state.jobs.stale_after));
        loop {
            tick.tick().await;
            let ids: Vec<String> = state
                .jobs
                .pending
                .lock()
                .map(|p| p.iter().cloned().collect())
                .unwrap_or_default();
            for id in ids {
                state.jobs.store.touch(&id, now_ms()).await;
            }
        }
    });
}

/// Start `--workers` scan threads.
pub fn start_workers(state: Arc<AppState>) {
    let handle = tokio::runtime::Handle::current();
    for n in 0..state.config.workers.max(1) {
        let st = state.clone();
        let h = handle.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("customs-scan-{n}"))
            .spawn(move || worker(st, h));
        if let Err(e) = spawned {
            tracing::error!("could not start scan worker {n}: {e}");
        }
    }
}

fn worker(state: Arc<AppState>, rt: tokio::runtime::Handle) {
    let rx = state.jobs.rx.clone();
    let mut history: Option<customs_history::Store> = None;
    loop {
        let next = match rx.lock() {
            Ok(mut r) => r.blocking_recv(),
            Err(_) => None,
        };
        let Some(q) = next else { return };
        state.jobs.took_one(&state);
        run_job(&state, &rt, q, &mut history);
    }
}

fn run_job(
    state: &Arc<AppState>,
    rt: &tokio::runtime::Handle,
    q: Queued,
    history: &mut Option<customs_history::Store>,
) {
    let jobs = &state.jobs;
    let Queued { id, sub } = q;
    let dedup = sub.dedup.clone();
    let mut rec = match rt.block_on(jobs.store.get(&id)) {
        Ok(Some(r)) => r,
        other => {
            // The record is gone (expired, or the store failed): nobody
            // can ask for this job any more.
            if let Err(e) = other {
                tracing::warn!("scan {id}: the job store failed ({e}); the scan is dropped");
            }
            if let Ok(mut p) = jobs.pending.lock() {
                p.remove(&id);
            }
            return;
        }
    };
    let finish = |rec: &JobRecord| {
        let _ = rt.block_on(jobs.store.put(rec));
        rt.block_on(jobs.store.track(&state.config.replica, &rec.id, false));
        if let Some(key) = &dedup {
            rt.block_on(jobs.store.release(key, &rec.id));
        }
        if let Ok(mut p) = jobs.pending.lock() {
            p.remove(&rec.id);
        }
    };
    if state.is_shutting_down() {
        rec.status = Status::Failed;
        rec.retryable = true;
        rec.error = Some("the server shut down before the scan started; submit it again".into());
        rec.finished_at = Some(customs_scan::now_rfc3339());
        state
            .metrics
            .scans
            .get_or_create(&outcome("retryable"))
            .inc();
        finish(&rec);
        return;
    }
    rec.status = Status::Running;
    rec.started_at = Some(customs_scan::now_rfc3339());
    rec.heartbeat_ms = now_ms();
    let _ = rt.block_on(jobs.store.put(&rec));
    state.metrics.in_flight.inc();
    let t = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    let st = state.clone();
    let params = sub.params.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("customs-job-{}", &id[..8.min(id.len())]))
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                scan(&st, sub.work, &params, &sub.artifact)
            }));
            let _ = tx.send(r);
        });
    let result: Result<(Report, ScanStats)> = match spawned {
        Err(e) => Err(anyhow!("could not start the scan: {e}")),
        Ok(_) => match rx.recv_timeout(state.config.scan_timeout) {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(anyhow!("internal error: the scan panicked")),
            Err(_) => Err(anyhow!(
                "the scan took longer than --scan-timeout {}",
                humantime::format_duration(state.config.scan_timeout)
            )),
        },
    };
    state.metrics.in_flight.dec();
    let secs = t.elapsed().as_secs_f64();
    let ms = u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX);
    let old = jobs.mean_ms.load(Ordering::Relaxed);
    jobs.mean_ms.store((old * 7 + ms) / 8, Ordering::Relaxed);
    state.metrics.duration.observe(secs);
    rec.duration_seconds = Some(secs);
    rec.finished_at = Some(customs_scan::now_rfc3339());
    match result {
        Ok((report, stats)) => {
            state.metrics.record_stats(&stats);
            rec.stats = Some(stats);
            rec.digest = Some(customs_history::digest_of(&report)).filter(|d| !d.is_empty());
            let encoded = encode_report(&report);
            rec.history_id = record_history(state, history, report);
            match encoded {
                Ok(bytes) => match rt.block_on(jobs.store.put_report(&id, bytes)) {
                    Ok(()) => {
                        rec.status = Status::Done;
                        state.metrics.scans.get_or_create(&outcome("done")).inc();
                    }
                    Err(e) => {
                        rec.status = Status::Failed;
                        rec.retryable = true;
                        rec.error = Some(format!("could not store the report: {e}"));
                        state.metrics.scans.get_or_create(&outcome("failed")).inc();
                    }
                },
                Err(e) => {
                    rec.status = Status::Failed;
                    rec.error = Some(format!("could not encode the report: {e}"));
                    state.metrics.scans.get_or_create(&outcome("failed")).inc();
                }
            }
        }
        Err(e) => {
            rec.status = Status::Failed;
            rec.error = Some(format!("{e:#}"));
            tracing::warn!("scan {id} of {} failed: {e:#}", rec.artifact);
            state.metrics.scans.get_or_create(&outcome("failed")).inc();
        }
    }
    finish(&rec);
}

/// Record a finished scan in the history store; a failure is logged, the
/// scan still succeeds.
fn record_history(
    state: &AppState,
    history: &mut Option<customs_history::Store>,
    report: Report,
) -> Option<i64> {
    let spec = state.config.store.as_deref()?;
    if history.is_none() {
        match customs_history::Store::open(spec) {
            Ok(s) => *history = Some(s),
            Err(e) => {
                tracing::warn!("--store: {e}; the scan is not recorded");
                return None;
            }
        }
    }
    let store = history.as_mut()?;
    let db_version = state.db.info().map(|i| i.built_at).unwrap_or_default();
    let scan = customs_history::NewScan::new(
        report,
        format!("customs {}", env!("CARGO_PKG_VERSION")),
        db_version,
    );
    match store.record(&scan) {
        Ok(id) => Some(id),
        Err(e) => {
            tracing::warn!("{e}; the scan is not recorded");
            // The connection may be gone: open a new one next time.
            *history = None;
            None
        }
    }
}

/// Reports are kept as zstd-compressed JSON.
pub fn encode_report(report: &Report) -> std::io::Result<Vec<u8>> {
    let json = serde_json::to_vec(report)?;
    zstd::encode_all(json.as_slice(), 3)
}

pub fn decode_report(bytes: &[u8]) -> Result<Report> {
    let json = zstd::decode_all(bytes)?;
    Ok(serde_json::from_slice(&json)?)
}

/// The scan itself: `customs_scan`, as the CLI runs it.
fn scan(state: &AppState, work: Work, p: &Params, artifact: &str) -> Result<(Report, ScanStats)> {
    let cfg = &state.config;
    let opts = ScanOptions {
        scanners: p.scanners,
        list_all_pkgs: p.list_all_pkgs,
        cache_dir: Some(cfg.cache_dir.clone()),
        cache_redis: cfg.cache_redis.clone(),
        max_image_bytes: Some(cfg.max_image_bytes),
        policy: customs_scan::PolicyOptions {
            severities: p.severities.clone(),
            ignore_unfixed: p.ignore_unfixed,
            ..Default::default()
        },
        ..Default::default()
    };
    let db_path = cfg.db_path.clone();
    let open_db = move || customs_scan::open_db_file(&db_path);
    match work {
        Work::Image { reference, remote } => {
            let src = ImageSource {
                name: None,
                target: customs_image::Target::Named(
                    reference,
                    vec![customs_image::ImageSrc::Remote],
                ),
                remote: *remote,
                engines: Default::default(),
            };
            let s = customs_scan::scan_image(
                &src,
                &opts,
                customs_scan::Db::OnDemand(Box::new(open_db)),
            )?;
            Ok((s.report, s.stats))
        }
        Work::Archive { file, name } => {
            let path = file.to_string_lossy().to_string();
            let mut src = ImageSource::file(&path);
            src.name = Some(name.clone());
            let s = customs_scan::scan_image(
                &src,
                &opts,
                customs_scan::Db::OnDemand(Box::new(open_db)),
            )
            .map_err(|e| anyhow!("{}", format!("{e:#}").replace(&path, &name)))?;
            drop(file);
            Ok((s.report, s.stats))
        }
        Work::Inventory { report } => {
            let mut report = *report;
            if p.scanners.vuln {
                let db = open_db()?;
                customs_scan::detect_report(&mut report, &db)
                    .map_err(|e| anyhow!("{artifact}: {e:#}"))?;
            }
            let s = customs_scan::finish_report(report, None, &opts)?;
            Ok((s.report, ScanStats::default()))
        }
    }
}

/// Job records and reports: in this process, or in Redis for every replica.
pub enum JobStore {
    Memory(Mutex<MemStore>),
    Redis {
        conn: redis::aio::ConnectionManager,
        ttl: Duration,
    },
}

#[derive(Default)]
pub struct MemStore {
    records: HashMap<String, JobRecord>,
    reports: HashMap<String, Arc<Vec<u8>>>,
    inflight: HashMap<String, String>,
    order: VecDeque<String>,
}

impl MemStore {
    fn evict(&mut self) {
        while self.order.len() > MEMORY_JOBS {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            let live = self.records.get(&old).is_some_and(|r| !r.status.finished());
            if live {
                self.order.push_back(old);
                break;
            }
            self.records.remove(&old);
            self.reports.remove(&old);
        }
    }
}

fn job_key(id: &str) -> String {
    format!("customs:job:{id}")
}
fn heartbeat_key(id: &str) -> String {
    format!("customs:heartbeat:{id}")
}
fn report_key(id: &str) -> String {
    format!("customs:report:{id}")
}
fn inflight_key(k: &str) -> String {
    format!("customs:inflight:{k}")
}

impl JobStore {
    async fn redis(url: &str, ttl: Duration) -> Result<JobStore> {
        let name = customs_model::redact_url(url);
        let client =
            redis::Client::open(url).map_err(|e| anyhow!("--cache-backend {name}: {e}"))?;
        let cfg = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(5))
            .set_response_timeout(Duration::from_secs(10));
        let conn = redis::aio::ConnectionManager::new_with_config(client, cfg)
            .await
            .map_err(|e| anyhow!("--cache-backend {name}: {e}"))?;
        Ok(JobStore::Redis { conn, ttl })
    }

    pub async fn put(&self, rec: &JobRecord) -> Result<()> {
        match self {
            JobStore::Memory(m) => {
                let mut m = m.lock().map_err(|_| anyhow!("job store poisoned"))?;
                if m.records.insert(rec.id.clone(), rec.clone()).is_none() {
                    m.order.push_back(rec.id.clone());
                    m.evict();
                }
                Ok(())
            }
            JobStore::Redis { conn, ttl } => {
                let mut c = conn.clone();
                let body = serde_json::to_string(rec)?;
                redis::cmd("SET")
                    .arg(job_key(&rec.id))
                    .arg(body)
                    .arg("EX")
                    .arg(ttl.as_secs())
                    .query_async::<()>(&mut c)
                    .await?;
                Ok(())
            }
        }
    }

    pub async fn get(&self, id: &str) -> Result<Option<JobRecord>> {
        match self {
            JobStore::Memory(m) => Ok(m.lock().ok().and_then(|m| m.records.get(id).cloned())),
            JobStore::Redis { conn, .. } => {
                let mut c = conn.clone();
                // The record and its heartbeat, kept apart so that a
                // heartbeat never writes an old record over a newer one.
                let (v, beat): (Option<String>, Option<i64>) = redis::cmd("MGET")
                    .arg(job_key(id))
                    .arg(heartbeat_key(id))
                    .query_async(&mut c)
                    .await?;
                match v {
                    Some(s) => {
                        let mut r: JobRecord = serde_json::from_str(&s)?;
                        if let Some(b) = beat {
                            r.heartbeat_ms = r.heartbeat_ms.max(b);
                        }
                        Ok(Some(r))
                    }
                    None => Ok(None),
                }
            }
        }
    }

    async fn delete(&self, id: &str) {
        match self {
            JobStore::Memory(m) => {
                if let Ok(mut m) = m.lock() {
                    m.records.remove(id);
                }
            }
            JobStore::Redis { conn, .. } => {
                let mut c = conn.clone();
                let _ = redis::cmd("DEL")
                    .arg(job_key(id))
                    .query_async::<()>(&mut c)
                    .await;
            }
        }
    }

    /// Keep (or drop) a live job in its replica's set.
    async fn track(&self, replica: &str, id: &str, live: bool) {
        if let JobStore::Redis { conn, .. } = self {
            let mut c = conn.clone();
            let key = format!("customs:replica:{replica}");
            let cmd = if live { "SADD" } else { "SREM" };
            let _ = redis::cmd(cmd)
                .arg(&key)
                .arg(id)
                .query_async::<()>(&mut c)
                .await;
        }
    }

    /// The live jobs a replica of this name took (Redis only: a new process
    /// has no memory of the old one's).
    async fn tracked(&self, replica: &str) -> Vec<String> {
        match self {
            JobStore::Memory(_) => Vec::new(),
            JobStore::Redis { conn, .. } => {
                let mut c = conn.clone();
                redis::cmd("SMEMBERS")
                    .arg(format!("customs:replica:{replica}"))
                    .query_async(&mut c)
                    .await
                    .unwrap_or_default()
            }
        }
    }

    /// Refresh a live job's heartbeat.
    async fn touch(&self, id: &str, now: i64) {
        match self {
            JobStore::Memory(m) => {
                if let Ok(mut m) = m.lock() {
                    if let Some(r) = m.records.get_mut(id) {
                        r.heartbeat_ms = now;
                    }
                }
            }
            JobStore::Redis { conn, ttl } => {
                let mut c = conn.clone();
                let _ = redis::cmd("SET")
                    .arg(heartbeat_key(id))
                    .arg(now)
                    .arg("EX")
                    .arg(ttl.as_secs().max(1))
                    .query_async::<()>(&mut c)
                    .await;
            }
        }
    }

    pub async fn put_report(&self, id: &str, bytes: Vec<u8>) -> Result<()> {
        match self {
            JobStore::Memory(m) => {
                let mut m = m.lock().map_err(|_| anyhow!("job store poisoned"))?;
                m.reports.insert(id.to_string(), Arc::new(bytes));
                Ok(())
            }
            JobStore::Redis { conn, ttl } => {
                let mut c = conn.clone();
                redis::cmd("SET")
                    .arg(report_key(id))
                    .arg(bytes)
                    .arg("EX")
                    .arg(ttl.as_secs())
                    .query_async::<()>(&mut c)
                    .await?;
                Ok(())
            }
        }
    }

    /// The report of a done job (zstd JSON).
    pub async fn get_report(&self, id: &str) -> Result<Option<Arc<Vec<u8>>>> {
        match self {
            JobStore::Memory(m) => Ok(m.lock().ok().and_then(|m| m.reports.get(id).cloned())),
            JobStore::Redis { conn, .. } => {
                let mut c = conn.clone();
                let v: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(report_key(id))
                    .query_async(&mut c)
                    .await?;
                Ok(v.map(Arc::new))
            }
        }
    }

    /// Take the key for job `id`; when another job holds it, its ID.
    async fn claim(&self, key: &str, id: &str, ttl: Duration) -> Result<Option<String>> {
        match self {
            JobStore::Memory(m) => {
                let mut m = m.lock().map_err(|_| anyhow!("job store poisoned"))?;
                match m.inflight.get(key) {
                    Some(other) => Ok(Some(other.clone())),
                    None => {
                        m.inflight.insert(key.to_string(), id.to_string());
                        Ok(None)
                    }
                }
            }
            JobStore::Redis { conn, .. } => {
                let mut c = conn.clone();
                let set: Option<String> = redis::cmd("SET")
                    .arg(inflight_key(key))
                    .arg(id)
                    .arg("NX")
                    .arg("GET")
                    .arg("EX")
                    .arg(ttl.as_secs().max(1))
                    .query_async(&mut c)
                    .await?;
                Ok(set)
            }
        }
    }

    async fn force_claim(&self, key: &str, id: &str, ttl: Duration) -> Result<()> {
        match self {
            JobStore::Memory(m) => {
                let mut m = m.lock().map_err(|_| anyhow!("job store poisoned"))?;
                m.inflight.insert(key.to_string(), id.to_string());
                Ok(())
            }
            JobStore::Redis { conn, .. } => {
                let mut c = conn.clone();
                redis::cmd("SET")
                    .arg(inflight_key(key))
                    .arg(id)
                    .arg("EX")
                    .arg(ttl.as_secs().max(1))
                    .query_async::<()>(&mut c)
                    .await?;
                Ok(())
            }
        }
    }

    /// Give the key up if job `id` still holds it.
    async fn release(&self, key: &str, id: &str) {
        match self {
            JobStore::Memory(m) => {
                if let Ok(mut m) = m.lock() {
                    if m.inflight.get(key).is_some_and(|v| v == id) {
                        m.inflight.remove(key);
                    }
                }
            }
            JobStore::Redis { conn, .. } => {
                let mut c = conn.clone();
                let k = inflight_key(key);
                let held: Option<String> = redis::cmd("GET")
                    .arg(&k)
                    .query_async(&mut c)
                    .await
                    .ok()
                    .flatten();
                if held.as_deref() == Some(id) {
                    let _ = redis::cmd("DEL").arg(&k).query_async::<()>(&mut c).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(status: Status, heartbeat_ms: i64) -> JobRecord {
        JobRecord {
            id: new_id(),
            status,
            kind: "image".into(),
            artifact: "a".into(),
            scanners: vec![],
            created_at: String::new(),
            started_at: None,
            finished_at: None,
            error: None,
            retryable: false,
            replica: "r1".into(),
            heartbeat_ms,
            stats: None,
            digest: None,
            history_id: None,
            duration_seconds: None,
            harbor: None,
        }
    }

    #[test]
    fn a_live_job_whose_replica_went_quiet_is_failed_and_retryable() {
        let now = 1_000_000;
        let stale = Duration::from_secs(30);
        let fresh = rec(Status::Running, now - 1000).effective(now, stale);
        assert_eq!(fresh.status, Status::Running);
        let lost = rec(Status::Running, now - 31_000).effective(now, stale);
        assert_eq!(lost.status, Status::Failed);
        assert!(lost.retryable);
        assert!(lost.error.unwrap_or_default().contains("r1"));
        // A finished job stays as it is, however old.
        let done = rec(Status::Done, 0).effective(now, stale);
        assert_eq!(done.status, Status::Done);
    }

    #[test]
    fn ids_are_unique_and_uuid_shaped() {
        let a = new_id();
        let b = new_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
    }

    #[test]
    fn reports_round_trip_compressed() {
        let r = Report {
            artifact_name: "x".into(),
            ..Default::default()
        };
        let b = encode_report(&r).unwrap_or_default();
        let back = decode_report(&b)
            .map(|r| r.artifact_name)
            .unwrap_or_default();
        assert_eq!(back, "x");
    }
}
