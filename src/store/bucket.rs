//! Originals in an S3-compatible bucket (Garage, Ceph RGW): where they are (`originals.toml`
//! in the case folder, never a secret), the credentials (environment or a group-only file),
//! and a blocking client over `object_store` whose small tokio runtime stays in this module.
//!
//! Objects are named `<prefix>/objects/<2 hex>/<sha256>`, as in the local folder. An object
//! is PUT under its content key only once its SHA-256 is known (ingest stages every file in
//! the case's `tmp/` for the parser workers anyway), with `x-amz-checksum-sha256`: the store
//! refuses bytes that do not match the name, and an S3 PUT is atomic, so no partial object is
//! ever visible under a content key and no temporary key is needed.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpRequest, HttpResponse, HttpService, ReqwestConnector,
};
use object_store::multipart::{MultipartStore as _, PartId};
use object_store::path::Path as Key;
use object_store::{
    Attribute, Attributes, ClientOptions, GetOptions, ObjectStore as _, ObjectStoreExt as _,
    PutMultipartOptions, PutOptions, PutPayload, RetryConfig,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::uploads::{Journal, Upload};

/// The case file naming the bucket (no credentials in it).
pub const LOCATION_FILE: &str = "originals.toml";
/// Files up to this size go in one PUT; larger ones in parts of `PART` bytes.
const SINGLE_PUT: u64 = 32 << 20;
const PART: usize = 16 << 20;
/// Parts of one upload in flight.
const PARTS_IN_FLIGHT: usize = 4;
/// Ranged reads for re-hashing: this large, this many in flight.
const RANGE: u64 = 8 << 20;
const RANGES_IN_FLIGHT: usize = 4;
/// Uploads (and HEADs) in flight for one batch.
const UPLOADS_IN_FLIGHT: usize = 16;
/// Objects checked at once by `verify`: each mostly waits on the store. Garage answers a GET
/// of an object over 3 KB in two writes, the second held by Nagle's algorithm until the
/// client's delayed ACK (40 ms on Linux), so a small object takes ~45 ms on loopback however
/// fast the rest is: throughput comes from many at once (one connection each).
const CHECKS_IN_FLIGHT: usize = 128;
/// HEADs at once for `verify --quick` (no body: nothing waits on a delayed ACK, and more at
/// once only adds connections).
const HEADS_IN_FLIGHT: usize = 32;
/// Objects over `RANGE` checked at once (each holds up to `RANGES_IN_FLIGHT` ranges).
const LARGE_IN_FLIGHT: usize = 8;

/// Where a case's originals live when not in `objects/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub bucket: String,
    #[serde(default)]
    pub prefix: String,
    pub endpoint: String,
    #[serde(default = "default_region")]
    pub region: String,
    /// A credentials file (its path, never its content), else the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<PathBuf>,
}

fn default_region() -> String {
    "garage".into()
}

impl Location {
    /// `s3://BUCKET/PREFIX` with its endpoint.
    pub fn parse(url: &str, endpoint: &str, region: Option<&str>) -> Result<Location, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{url}: not an s3://BUCKET/PREFIX address"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("{url}: no bucket named"));
        }
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(format!(
                "{endpoint}: the endpoint must be an http:// or https:// URL"
            ));
        }
        Ok(Location {
            bucket: bucket.into(),
            prefix: prefix.trim_matches('/').into(),
            endpoint: endpoint.trim_end_matches('/').into(),
            region: region.unwrap_or("garage").into(),
            credentials: None,
        })
    }

    pub fn read(case_root: &Path) -> Result<Option<Location>, String> {
        let path = case_root.join(LOCATION_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map(Some)
                .map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    pub fn write(&self, case_root: &Path) -> std::io::Result<()> {
        let text = toml::to_string(self).map_err(std::io::Error::other)?;
        fs::write(case_root.join(LOCATION_FILE), text)
    }

    /// `s3://bucket/prefix at endpoint`, for people (no credentials).
    pub fn describe(&self) -> String {
        let prefix = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("/{}", self.prefix)
        };
        format!("s3://{}{prefix} at {}", self.bucket, self.endpoint)
    }
}

/// An access key and its secret: from `TRIAGE_S3_ACCESS_KEY_ID`/`TRIAGE_S3_SECRET_ACCESS_KEY`,
/// else `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, else the credentials file
/// (`TRIAGE_S3_CREDENTIALS` or the location's), which must be readable by owner and group
/// at most (0640 or stricter). Error messages name the file, never a key.
#[derive(Deserialize)]
struct Credentials {
    access_key_id: String,
    secret_access_key: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(..)")
    }
}

fn credentials(loc: &Location) -> Result<Credentials, String> {
    let env = |a: &str, b: &str| match (std::env::var(a), std::env::var(b)) {
        (Ok(id), Ok(secret)) if !id.is_empty() && !secret.is_empty() => Some(Credentials {
            access_key_id: id,
            secret_access_key: secret,
        }),
        _ => None,
    };
    if let Some(c) = env("TRIAGE_S3_ACCESS_KEY_ID", "TRIAGE_S3_SECRET_ACCESS_KEY")
        .or_else(|| env("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"))
    {
        return Ok(c);
    }
    let file = std::env::var_os("TRIAGE_S3_CREDENTIALS")
        .map(PathBuf::from)
        .or_else(|| loc.credentials.clone())
        .ok_or_else(|| {
            "no credentials for the object store: set TRIAGE_S3_ACCESS_KEY_ID and \
             TRIAGE_S3_SECRET_ACCESS_KEY (or AWS_*), or TRIAGE_S3_CREDENTIALS to a file"
                .to_string()
        })?;
    read_credentials_file(&file)
}

fn read_credentials_file(file: &Path) -> Result<Credentials, String> {
    let meta = fs::metadata(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & !0o640 != 0 {
        return Err(format!(
            "{}: mode {mode:04o} lets more than its owner and group read it, or others write \
             it; refused (chmod 0640 or stricter)",
            file.display()
        ));
    }
    let text = fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    // The parser's message could quote the file: name only the file and the missing keys.
    toml::from_str(&text).map_err(|_| {
        format!(
            "{}: not a credentials file (access_key_id = \"…\", secret_access_key = \"…\")",
            file.display()
        )
    })
}

/// The blocking client of one bucket. Built at first use: a case whose store is down or whose
/// credentials are missing still opens, and its metadata and tags can be worked on.
pub struct Bucket {
    pub location: Location,
    /// Where multipart uploads in flight are recorded (none: not recorded).
    journal: Option<Journal>,
    client: OnceLock<Result<Client, String>>,
}

struct Client {
    s3: Arc<AmazonS3>,
    rt: tokio::runtime::Runtime,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bucket({})", self.location.describe())
    }
}

/// A failure of the store, already worded for people (endpoint and reason, no credentials).
#[derive(Debug, Clone)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What is stored under a key: its size, the SHA-256 triage kept with it (`x-amz-meta-sha256`,
/// hex) and the store's own checksum when it keeps one (`x-amz-checksum-sha256`, base64; of the
/// whole object, or `…-N` for an object uploaded in N parts: a checksum of the parts' ones).
pub struct Head {
    pub size: u64,
    pub sha256: Option<String>,
    pub store_checksum: Option<String>,
    /// For an object uploaded in parts, the checksum the store was expected to compute from
    /// them (`x-amz-meta-sha256-parts`, worked out by triage before the upload).
    pub parts_checksum: Option<String>,
}

impl Bucket {
    /// The bucket of the case in `case_root`, its multipart uploads recorded in the case's
    /// upload journal.
    pub fn new(location: Location, case_root: &Path) -> Bucket {
        Bucket {
            location,
            journal: Some(Journal::new(case_root)),
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> Result<&Client, StoreError> {
        self.client
            .get_or_init(|| build(&self.location))
            .as_ref()
            .map_err(|e| StoreError(format!("{}: {e}", self.location.describe())))
    }

    /// The key of object `sha256`.
    pub fn key(&self, sha256: &str) -> Key {
        let prefix = sha256.get(..2).unwrap_or("00");
        let p = &self.location.prefix;
        if p.is_empty() {
            Key::from(format!("objects/{prefix}/{sha256}"))
        } else {
            Key::from(format!("{p}/objects/{prefix}/{sha256}"))
        }
    }

    fn err(&self, what: &str, e: object_store::Error) -> StoreError {
        StoreError(format!(
            "{} ({what}): {}",
            self.location.describe(),
            reason(&e)
        ))
    }

    /// Size and checksum of object `sha256`, or `None` when the store has no such object.
    pub fn head(&self, sha256: &str) -> Result<Option<Head>, StoreError> {
        let c = self.client()?;
        c.rt.block_on(head(&c.s3, &self.key(sha256)))
            .map_err(|e| self.err(&format!("HEAD {sha256}"), e))
    }

    /// Upload each staged file (path, sha256, size) not in the store yet, several at once;
    /// for each, whether it was uploaded (false: the store had it). Stops at the first error.
    pub fn put_files(&self, files: &[(PathBuf, String, u64)]) -> Result<Vec<bool>, StoreError> {
        let c = self.client()?;
        let s3 = &c.s3;
        c.rt.block_on(async {
            futures_util::stream::iter(files.iter().map(|(path, sha, size)| async move {
                let key = self.key(sha);
                if head(s3, &key)
                    .await
                    .map_err(|e| self.err(&format!("HEAD {sha}"), e))?
                    .is_some()
                {
                    return Ok(false);
                }
                put_file(s3, &key, path, sha, *size, self.journal.as_ref())
                    .await
                    .map_err(|e| match e {
                        Put::Store(e) => self.err(&format!("PUT {sha}"), e),
                        Put::Local(p, e) => StoreError(format!("{}: {e}", p.display())),
                    })?;
                Ok(true)
            }))
            .buffered(UPLOADS_IN_FLIGHT)
            .try_collect()
            .await
        })
    }

    /// Write object `sha256` into `out`, hashing it: (sha256, bytes).
    pub fn read_into(&self, sha256: &str, out: &mut dyn Write) -> Result<(String, u64), String> {
        let c = self.client().map_err(|e| e.0)?;
        let key = self.key(sha256);
        c.rt.block_on(async {
            let got =
                c.s3.get(&key)
                    .await
                    .map_err(|e| self.err(&format!("GET {sha256}"), e).0)?;
            let mut stream = got.into_stream();
            let mut hasher = Sha256::new();
            let mut n = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| self.err(&format!("GET {sha256}"), e).0)?;
                hasher.update(&chunk);
                n += chunk.len() as u64;
                out.write_all(&chunk).map_err(|e| e.to_string())?;
            }
            Ok((hex::encode(hasher.finalize()), n))
        })
    }

    /// Check objects (sha256, size) as `verify` does, many at once on the bucket's runtime:
    /// for each, in order, what was found, or the store's failure (after one, the objects not
    /// begun yet are not tried: they get the same error). `done` is called after each.
    pub fn check_many(
        &self,
        objects: &[(String, u64)],
        quick: bool,
        done: &(dyn Fn() + Sync),
    ) -> Vec<Result<Found, StoreError>> {
        let c = match self.client() {
            Ok(c) => c,
            Err(e) => return objects.iter().map(|_| Err(e.clone())).collect(),
        };
        let failed: Arc<OnceLock<StoreError>> = Arc::new(OnceLock::new());
        let describe = Arc::new(self.location.describe());
        // Objects read whole (or only HEADed) many at once; larger ones, read in ranges that
        // are held in memory, a few at once.
        let (small, large): (Vec<usize>, Vec<usize>) =
            (0..objects.len()).partition(|&i| quick || objects[i].1 <= RANGE);
        let mut out: Vec<Option<Result<Found, StoreError>>> =
            objects.iter().map(|_| None).collect();
        let small_in_flight = if quick {
            HEADS_IN_FLIGHT
        } else {
            CHECKS_IN_FLIGHT
        };
        for (which, in_flight) in [(small, small_in_flight), (large, LARGE_IN_FLIGHT)] {
            let results: Vec<Result<Found, StoreError>> = c.rt.block_on(async {
                // Each check a task of its own: the hashing runs on the runtime's threads
                // (one per core), the waiting on the store costs no thread at all.
                futures_util::stream::iter(which.iter().map(|&i| {
                    let (sha, size) = &objects[i];
                    let (s3, failed, describe) = (
                        Arc::clone(&c.s3),
                        Arc::clone(&failed),
                        Arc::clone(&describe),
                    );
                    let (key, sha, size) = (self.key(sha), sha.clone(), *size);
                    c.rt.spawn(async move {
                        if let Some(e) = failed.get() {
                            return Err(e.clone());
                        }
                        check_one(&s3, &key, size, quick).await.map_err(|e| {
                            let e = StoreError(format!("{describe} (GET {sha}): {}", reason(&e)));
                            failed.get_or_init(|| e.clone());
                            e
                        })
                    })
                }))
                .buffered(in_flight)
                .map(|joined| {
                    done();
                    joined.unwrap_or_else(|e| Err(StoreError(format!("a check failed: {e}"))))
                })
                .collect()
                .await
            });
            for (i, r) in which.into_iter().zip(results) {
                out[i] = Some(r);
            }
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(StoreError("not checked".into()))))
            .collect()
    }

    /// Abort the multipart uploads that killed runs left in the journal, and forget them:
    /// how many were aborted, and a note on each one that could not be (the store is down or
    /// refused: its record stays for the next run).
    pub fn abort_interrupted(&self) -> (usize, Vec<String>) {
        let Some(journal) = &self.journal else {
            return (0, Vec::new());
        };
        let stale = match journal.stale() {
            Ok(s) => s,
            Err(e) => return (0, vec![format!("{}: {e}", journal.dir().display())]),
        };
        if stale.is_empty() {
            return (0, Vec::new());
        }
        let c = match self.client() {
            Ok(c) => c,
            Err(e) => return (0, vec![e.0]),
        };
        let mut aborted = 0;
        let mut notes = Vec::new();
        for record in stale {
            let Some(up) = record.upload.clone() else {
                // Its writer died before the record was complete, so before any part was sent.
                record.remove();
                continue;
            };
            let key = Key::from(up.key.as_str());
            match c.rt.block_on(c.s3.abort_multipart(&key, &up.upload_id)) {
                // Not found: completed or aborted already, after all.
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {
                    record.remove();
                    aborted += 1;
                }
                Err(e) => {
                    notes.push(format!(
                        "{}: {}",
                        record.path.display(),
                        self.err(&format!("abort the upload of {}", up.key), e)
                    ));
                    // The store is likely down: the rest would fail the same way, slowly.
                    break;
                }
            }
        }
        (aborted, notes)
    }

    /// Every object under the prefix: (sha256 as named, size).
    pub fn list(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let c = self.client()?;
        let p = &self.location.prefix;
        let prefix = Key::from(if p.is_empty() {
            "objects".to_string()
        } else {
            format!("{p}/objects")
        });
        c.rt.block_on(async {
            c.s3.list(Some(&prefix))
                .map_ok(|m| {
                    let name = m.location.filename().unwrap_or_default().to_string();
                    (name, m.size)
                })
                .try_collect()
                .await
        })
        .map_err(|e| self.err("LIST", e))
    }
}

fn build(loc: &Location) -> Result<Client, String> {
    let creds = credentials(loc)?;
    // Timeouts and retries: a store that is down answers within seconds, never hangs.
    let mut ask_checksums = object_store::signer::HeaderMap::new();
    ask_checksums.insert(
        "x-amz-checksum-mode",
        object_store::signer::HeaderValue::from_static("ENABLED"),
    );
    let options = ClientOptions::new()
        .with_default_headers(ask_checksums)
        .with_allow_http(loc.endpoint.starts_with("http://"))
        .with_connect_timeout(Duration::from_secs(5))
        .with_timeout(Duration::from_secs(120));
    let retry = RetryConfig {
        max_retries: 4,
        retry_timeout: Duration::from_secs(20),
        ..RetryConfig::default()
    };
    let s3 = AmazonS3Builder::new()
        .with_bucket_name(&loc.bucket)
        .with_endpoint(&loc.endpoint)
        .with_region(&loc.region)
        .with_access_key_id(creds.access_key_id)
        .with_secret_access_key(creds.secret_access_key)
        .with_virtual_hosted_style_request(false)
        .with_checksum_algorithm(object_store::aws::Checksum::SHA256)
        .with_client_options(options)
        .with_retry(retry)
        .with_http_connector(KeepChecksums)
        .build()
        .map_err(|e| reason(&e))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("triage-s3")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the store's runtime: {e}"))?;
    Ok(Client {
        s3: Arc::new(s3),
        rt,
    })
}

/// A store error in words, without the request's URL query or headers (the library's own
/// messages carry neither credentials nor signatures, but keep them short).
fn reason(e: &object_store::Error) -> String {
    // The store cannot be reached at all: say so in a few words (the library's message is a
    // paragraph with the request's URL and its retries).
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            if matches!(
                io.kind(),
                K::ConnectionRefused
                    | K::ConnectionReset
                    | K::TimedOut
                    | K::HostUnreachable
                    | K::NetworkUnreachable
            ) {
                return format!("the store cannot be reached ({io}), after retries");
            }
        }
        src = inner.source();
    }
    match e {
        object_store::Error::NotFound { .. } => "no such object".into(),
        other => {
            let mut s = other.to_string();
            let mut src = std::error::Error::source(other);
            while let Some(inner) = src {
                let t = inner.to_string();
                if !s.contains(&t) {
                    s.push_str(": ");
                    s.push_str(&t);
                }
                src = inner.source();
            }
            s
        }
    }
}

async fn head(s3: &AmazonS3, key: &Key) -> object_store::Result<Option<Head>> {
    let opts = GetOptions {
        head: true,
        ..GetOptions::default()
    };
    match s3.get_opts(key, opts).await {
        Ok(r) => Ok(Some(Head {
            size: r.meta.size,
            sha256: r
                .attributes
                .get(&Attribute::Metadata("sha256".into()))
                .map(|v| v.as_ref().to_string()),
            store_checksum: r.extensions.get::<StoreChecksum>().map(|c| c.0.clone()),
            parts_checksum: r
                .attributes
                .get(&Attribute::Metadata("sha256-parts".into()))
                .map(|v| v.as_ref().to_string()),
        })),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What `check_many` found of one object.
pub enum Found {
    Missing,
    /// What the store says of it without reading it: with `--quick`, or for an object read in
    /// ranges whose size is not the record's (its content is then not read).
    Head(Head),
    /// Its content re-hashed: its SHA-256 and size.
    Content(String, u64),
}

/// One object checked: read whole with a single GET when it is small (half the round trips
/// of HEAD then GET), else its HEAD, then its content from several ranged reads at once
/// (hashed in order as they arrive).
async fn check_one(
    s3: &AmazonS3,
    key: &Key,
    size: u64,
    quick: bool,
) -> object_store::Result<Found> {
    if !quick && size <= RANGE {
        let got = match s3.get(key).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(Found::Missing),
            Err(e) => return Err(e),
        };
        let mut stream = got.into_stream();
        let mut hasher = Sha256::new();
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            hasher.update(&chunk);
            n += chunk.len() as u64;
        }
        return Ok(Found::Content(hex::encode(hasher.finalize()), n));
    }
    let Some(h) = head(s3, key).await? else {
        return Ok(Found::Missing);
    };
    if quick || h.size != size {
        return Ok(Found::Head(h));
    }
    let ranges = (0..size.div_ceil(RANGE)).map(|i| i * RANGE..((i + 1) * RANGE).min(size));
    let mut parts =
        futures_util::stream::iter(ranges.map(|r| s3.get_range(key, r))).buffered(RANGES_IN_FLIGHT);
    let mut hasher = Sha256::new();
    while let Some(part) = parts.next().await {
        hasher.update(part?);
    }
    Ok(Found::Content(hex::encode(hasher.finalize()), size))
}

/// A store's checksum of a whole object (base64 of the SHA-256) in hex; `None` for the
/// checksum of a multipart upload (`…-N`) or anything else.
pub fn whole_checksum_hex(sum: &str) -> Option<String> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.decode(sum).ok()?;
    (raw.len() == 32).then(|| hex::encode(raw))
}

/// The store's SHA-256 checksum of an object as its response header gave it.
#[derive(Clone)]
struct StoreChecksum(String);

/// object_store's HTTP client (reqwest) with one addition: a response's
/// `x-amz-checksum-sha256` is kept in the response's extensions, which object_store hands on
/// in a `GetResult` (it keeps no other unknown header). GET and HEAD requests carry
/// `x-amz-checksum-mode: ENABLED` (a default header, signed), without which S3 does not send
/// the checksum.
#[derive(Debug)]
struct KeepChecksums;

impl HttpConnector for KeepChecksums {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        // The default headers are added by object_store itself, before signing, to the
        // requests that carry them (GET, HEAD, PUT); reqwest would add them after signing to
        // all others (LIST), and Garage refuses an unsigned x-amz-* header.
        let unsigned = options
            .clone()
            .with_default_headers(object_store::signer::HeaderMap::new());
        let inner = ReqwestConnector::default().connect(&unsigned)?;
        Ok(HttpClient::new(ChecksumService(inner)))
    }
}

#[derive(Debug)]
struct ChecksumService(HttpClient);

type Answer<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<HttpResponse, HttpError>> + Send + 'a>,
>;

// `HttpService` is an `async_trait`: its method written out, without that crate.
impl HttpService for ChecksumService {
    fn call<'s, 'f>(&'s self, req: HttpRequest) -> Answer<'f>
    where
        's: 'f,
        Self: 'f,
    {
        Box::pin(async move {
            let mut resp = self.0.execute(req).await?;
            let sum = resp
                .headers()
                .get("x-amz-checksum-sha256")
                .and_then(|v| v.to_str().ok())
                .map(|v| StoreChecksum(v.to_string()));
            if let Some(sum) = sum {
                resp.extensions_mut().insert(sum);
            }
            Ok(resp)
        })
    }
}

enum Put {
    Store(object_store::Error),
    Local(PathBuf, std::io::Error),
}

async fn put_file(
    s3: &AmazonS3,
    key: &Key,
    path: &Path,
    sha256: &str,
    size: u64,
    journal: Option<&Journal>,
) -> Result<(), Put> {
    let mut attributes = Attributes::new();
    // Our hash beside the store's own checksum: `verify --quick` compares both with the name.
    attributes.insert(
        Attribute::Metadata("sha256".into()),
        sha256.to_string().into(),
    );
    let local = |e| Put::Local(path.to_path_buf(), e);
    if size <= SINGLE_PUT {
        let opts = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        let data = fs::read(path).map_err(local)?;
        s3.put_opts(key, PutPayload::from(data), opts)
            .await
            .map_err(Put::Store)?;
        return Ok(());
    }
    // The store's checksum of an object sent in parts is one of the parts' checksums, which
    // `verify --quick` cannot compare with the name: it is worked out here (one more read of
    // the staged file) and kept with the object, to compare with the store's.
    let parts_sum = parts_checksum(path, size).map_err(local)?;
    attributes.insert(Attribute::Metadata("sha256-parts".into()), parts_sum.into());
    // The low-level multipart API, so that the upload id is known and journaled: an upload
    // never completed keeps its parts in the store until someone aborts it.
    let opts = PutMultipartOptions {
        attributes,
        ..Default::default()
    };
    let id = s3
        .create_multipart_opts(key, opts)
        .await
        .map_err(Put::Store)?;
    let record = match journal.map(|j| {
        j.begin(&Upload {
            key: key.to_string(),
            upload_id: id.clone(),
        })
        .map_err(|e| Put::Local(j.dir().to_path_buf(), e))
    }) {
        Some(Err(e)) => {
            let _ = s3.abort_multipart(key, &id).await;
            return Err(e);
        }
        Some(Ok(r)) => Some(r),
        None => None,
    };
    let sent = match put_parts(s3, key, &id, path, size).await {
        Ok(parts) => s3
            .complete_multipart(key, &id, parts)
            .await
            .map(|_| ())
            .map_err(Put::Store),
        Err(e) => Err(e),
    };
    // Completed, or aborted now; if the abort fails too (the store is down) the record stays
    // for the next run to abort.
    if sent.is_ok() || s3.abort_multipart(key, &id).await.is_ok() {
        if let Some(r) = record {
            r.done();
        }
    }
    sent
}

/// The checksum S3 gives an object uploaded in `PART`-sized parts each sent with its SHA-256:
/// the SHA-256 of the parts' SHA-256s, in base64, then `-` and the number of parts.
fn parts_checksum(path: &Path, size: u64) -> std::io::Result<String> {
    use base64::Engine;
    use std::io::Read;
    let mut f = fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut all = Sha256::new();
    let parts = size.div_ceil(PART as u64);
    for i in 0..parts {
        let mut part = Sha256::new();
        let mut left = (size - i * PART as u64).min(PART as u64) as usize;
        while left > 0 {
            let n = f.read(&mut buf[..left.min(1 << 20)])?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            part.update(&buf[..n]);
            left -= n;
        }
        all.update(part.finalize());
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(all.finalize());
    Ok(format!("{b64}-{parts}"))
}

/// Send the file's parts, a few at once: their ids in order.
async fn put_parts(
    s3: &AmazonS3,
    key: &Key,
    id: &object_store::MultipartId,
    path: &Path,
    size: u64,
) -> Result<Vec<PartId>, Put> {
    use std::os::unix::fs::FileExt;
    let f = fs::File::open(path).map_err(|e| Put::Local(path.to_path_buf(), e))?;
    let f = &f;
    let n = size.div_ceil(PART as u64) as usize;
    futures_util::stream::iter((0..n).map(|i| async move {
        let at = i as u64 * PART as u64;
        let mut buf = vec![0u8; (size - at).min(PART as u64) as usize];
        f.read_exact_at(&mut buf, at)
            .map_err(|e| Put::Local(path.to_path_buf(), e))?;
        s3.put_part(key, id, i, PutPayload::from(buf))
            .await
            .map_err(Put::Store)
    }))
    .buffered(PARTS_IN_FLIGHT)
    .try_collect()
    .await
}

/// Tests of the credentials file's checks (the bucket itself is tested against Garage).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_credentials_file_is_refused_and_secret_never_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("s3.toml");
        fs::write(
            &f,
            "access_key_id = \"GKid\"\nsecret_access_key = \"sekrit\"\n",
        )
        .unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_credentials_file(&f).unwrap_err();
        assert!(e.contains("0644") && e.contains("refused"), "{e}");
        fs::set_permissions(&f, fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(read_credentials_file(&f).unwrap().access_key_id, "GKid");
        fs::write(&f, "secret = \"sekrit\"\n").unwrap();
        let e = read_credentials_file(&f).unwrap_err();
        assert!(!e.contains("sekrit"), "{e}");
    }

    #[test]
    fn location_from_url() {
        let l = Location::parse("s3://ev/cases/c1/", "http://127.0.0.1:3900/", None).unwrap();
        assert_eq!((l.bucket.as_str(), l.prefix.as_str()), ("ev", "cases/c1"));
        assert_eq!(l.describe(), "s3://ev/cases/c1 at http://127.0.0.1:3900");
        assert!(Location::parse("ev/x", "http://h", None).is_err());
        assert!(Location::parse("s3://ev", "h:3900", None).is_err());
    }
}
