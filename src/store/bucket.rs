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
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{
    Attribute, Attributes, ClientOptions, GetOptions, ObjectStore as _, ObjectStoreExt as _,
    PutOptions, PutPayload, RetryConfig, WriteMultipart,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The case file naming the bucket (no credentials in it).
pub const LOCATION_FILE: &str = "originals.toml";
/// Files up to this size go in one PUT; larger ones in parts of `PART` bytes.
const SINGLE_PUT: u64 = 32 << 20;
const PART: usize = 16 << 20;
/// Ranged reads for re-hashing: this large, this many in flight.
const RANGE: u64 = 8 << 20;
const RANGES_IN_FLIGHT: usize = 4;
/// Uploads (and HEADs) in flight for one batch.
const UPLOADS_IN_FLIGHT: usize = 16;

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

/// What is stored under a key: its size and the store's SHA-256 checksum when it keeps one.
pub struct Head {
    pub size: u64,
    pub sha256: Option<String>,
}

impl Bucket {
    pub fn new(location: Location) -> Bucket {
        Bucket {
            location,
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
                put_file(s3, &key, path, sha, *size)
                    .await
                    .map_err(|e| match e {
                        Put::Store(e) => self.err(&format!("PUT {sha}"), e),
                        Put::Local(e) => StoreError(format!("{}: {e}", path.display())),
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

    /// Re-hash object `sha256` of `size` bytes from several ranged reads at once (hashed in
    /// order as they arrive).
    pub fn hash(&self, sha256: &str, size: u64) -> Result<String, StoreError> {
        let c = self.client()?;
        let key = self.key(sha256);
        let s3 = &c.s3;
        c.rt.block_on(async {
            let ranges = (0..size.div_ceil(RANGE)).map(|i| i * RANGE..((i + 1) * RANGE).min(size));
            let mut parts = futures_util::stream::iter(ranges.map(|r| {
                let key = &key;
                async move { s3.get_range(key, r).await }
            }))
            .buffered(RANGES_IN_FLIGHT);
            let mut hasher = Sha256::new();
            while let Some(part) = parts.next().await {
                hasher.update(part.map_err(|e| self.err(&format!("GET {sha256}"), e))?);
            }
            Ok(hex::encode(hasher.finalize()))
        })
    }

    /// A small object (up to one range) read and hashed with a single GET: (sha256, bytes), or
    /// `None` when the store has no such object. Half the round trips of HEAD then GET, which
    /// is what verifying many small objects waits on.
    pub fn hash_whole(&self, sha256: &str) -> Result<Option<(String, u64)>, StoreError> {
        let c = self.client()?;
        let key = self.key(sha256);
        c.rt.block_on(async {
            let got = match c.s3.get(&key).await {
                Ok(g) => g,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(self.err(&format!("GET {sha256}"), e)),
            };
            let mut stream = got.into_stream();
            let mut hasher = Sha256::new();
            let mut n = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| self.err(&format!("GET {sha256}"), e))?;
                hasher.update(&chunk);
                n += chunk.len() as u64;
            }
            Ok(Some((hex::encode(hasher.finalize()), n)))
        })
    }

    /// Whether an object of `size` bytes is read whole by `hash_whole`.
    pub fn small(size: u64) -> bool {
        size <= RANGE
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
    let options = ClientOptions::new()
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
        })),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

enum Put {
    Store(object_store::Error),
    Local(std::io::Error),
}

async fn put_file(
    s3: &AmazonS3,
    key: &Key,
    path: &Path,
    sha256: &str,
    size: u64,
) -> Result<(), Put> {
    let mut attributes = Attributes::new();
    // Our hash beside the store's own checksum: `verify --quick` compares both with the name.
    attributes.insert(
        Attribute::Metadata("sha256".into()),
        sha256.to_string().into(),
    );
    if size <= SINGLE_PUT {
        let opts = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        let data = fs::read(path).map_err(Put::Local)?;
        s3.put_opts(key, PutPayload::from(data), opts)
            .await
            .map_err(Put::Store)?;
        return Ok(());
    }
    let upload = s3
        .put_multipart_opts(
            key,
            object_store::PutMultipartOptions {
                attributes,
                ..Default::default()
            },
        )
        .await
        .map_err(Put::Store)?;
    let mut w = WriteMultipart::new_with_chunk_size(upload, PART);
    let mut f = fs::File::open(path).map_err(Put::Local)?;
    let mut buf = vec![0u8; PART];
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                let _ = w.abort().await;
                return Err(Put::Local(e));
            }
        };
        if let Err(e) = w.wait_for_capacity(4).await {
            let _ = w.abort().await;
            return Err(Put::Store(e));
        }
        w.write(&buf[..n]);
    }
    w.finish().await.map_err(Put::Store)?;
    Ok(())
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
