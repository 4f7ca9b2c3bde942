//! Originals in an S3-compatible bucket: a real Garage server started by the test on 127.0.0.1
//! with its own configuration, ports and folders. Without `garage` installed the tests that
//! need it are skipped with a message; under `CI=true` (where `.ci/run` installs it) that is a
//! failure. The credentials and store-down tests need no server.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{output_text, sql};

const KEY_ID: &str = "GK0123456789abcdef01234567";
const SECRET: &str = "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2";
const BUCKET: &str = "evidence";

/// The `garage` binary, or `None` (skipped, said aloud) outside CI.
fn garage_bin() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("GARAGE_BIN").map(PathBuf::from),
        Some(PathBuf::from("garage")),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/garage")),
    ];
    for c in candidates.into_iter().flatten() {
        let ok = Command::new(&c)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(c);
        }
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "garage is not installed: .ci/run installs it (cargo install garage)"
    );
    eprintln!("SKIPPED: garage is not installed (cargo install garage --version 2.5.0 --locked --no-default-features --features bundled-libs,lmdb)");
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One Garage node with one bucket and one key, in its own folder.
struct Garage {
    bin: PathBuf,
    dir: tempfile::TempDir,
    s3_port: u16,
    server: Option<Child>,
}

impl Garage {
    fn start() -> Option<Garage> {
        let bin = garage_bin()?;
        let dir = tempfile::tempdir().expect("tempdir");
        let (s3_port, rpc_port, admin_port) = (free_port(), free_port(), free_port());
        let d = dir.path();
        let conf = format!(
            r#"metadata_dir = "{meta}"
data_dir = "{data}"
db_engine = "lmdb"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:{rpc_port}"
rpc_public_addr = "127.0.0.1:{rpc_port}"
rpc_secret = "{secret}"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:{s3_port}"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:{admin_port}"
"#,
            meta = d.join("meta").display(),
            data = d.join("data").display(),
            secret = "4a".repeat(32),
        );
        std::fs::write(d.join("garage.toml"), conf).expect("config");
        let mut g = Garage {
            bin,
            dir,
            s3_port,
            server: None,
        };
        g.run_server();
        let id = g.cli(&["node", "id", "-q"]);
        let id = id.trim().split('@').next().expect("node id").to_string();
        g.cli(&["layout", "assign", "-z", "dc1", "-c", "1G", &id]);
        g.cli(&["layout", "apply", "--version", "1"]);
        g.cli(&["key", "import", "--yes", "-n", "triage", KEY_ID, SECRET]);
        g.cli(&["bucket", "create", BUCKET]);
        g.cli(&[
            "bucket", "allow", "--read", "--write", "--owner", BUCKET, "--key", "triage",
        ]);
        g.wait_for_s3();
        Some(g)
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("garage.toml")
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.s3_port)
    }

    fn run_server(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("server.log")).expect("log");
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(self.conf())
            .arg("server")
            .env("RUST_LOG", "warn")
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start garage");
        self.server = Some(child);
        // The RPC port answering means the CLI can talk to it.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ok = Command::new(&self.bin)
                .arg("-c")
                .arg(self.conf())
                .arg("status")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "garage did not start: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Wait until the bucket takes a request (after a start, the layout needs a moment).
    fn wait_for_s3(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.store_answers() {
            assert!(
                Instant::now() < deadline,
                "garage's S3 API did not answer: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn store_answers(&self) -> bool {
        let rt = runtime();
        let s3 = self.client();
        rt.block_on(async {
            use object_store::ObjectStoreExt;
            match s3.head(&object_store::path::Path::from("probe")).await {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => true,
                Err(_) => false,
            }
        })
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(&self.bin)
            .arg("-c")
            .arg(self.conf())
            .args(args)
            .output()
            .expect("garage cli");
        assert!(
            out.status.success(),
            "garage {args:?}: {}",
            output_text(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.server.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn restart(&mut self) {
        self.kill();
        self.run_server();
        self.wait_for_s3();
    }

    fn client(&self) -> object_store::aws::AmazonS3 {
        object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(BUCKET)
            .with_endpoint(self.endpoint())
            .with_region("garage")
            .with_access_key_id(KEY_ID)
            .with_secret_access_key(SECRET)
            .with_allow_http(true)
            .with_retry(object_store::RetryConfig {
                max_retries: 0,
                ..Default::default()
            })
            .build()
            .expect("client")
    }

    /// Every key in the bucket.
    fn keys(&self) -> Vec<String> {
        use futures_util::TryStreamExt;
        use object_store::ObjectStore;
        let s3 = self.client();
        runtime().block_on(async {
            s3.list(None)
                .map_ok(|m| m.location.to_string())
                .try_collect()
                .await
                .expect("list")
        })
    }

    /// Multipart uploads begun in the bucket and neither completed nor aborted, as the S3 API
    /// lists them (ListMultipartUploads, which object_store does not offer: a presigned GET).
    fn incomplete_uploads(&self) -> Vec<String> {
        use object_store::signer::{Method, SignedUrlOptions, Signer};
        let s3 = self.client();
        let url = runtime()
            .block_on(s3.signed_url_opts(
                Method::GET,
                &object_store::path::Path::from(""),
                Duration::from_secs(300),
                &SignedUrlOptions::new().with_query([("uploads", "")]),
            ))
            .expect("sign");
        let body = http_get(&url);
        assert!(body.contains("ListMultipartUploadsResult"), "{body}");
        body.split("<UploadId>")
            .skip(1)
            .filter_map(|s| s.split("</UploadId>").next())
            .map(str::to_string)
            .collect()
    }

    /// PUT as triage does (its SHA-256 checksum sent, `x-amz-meta-sha256` set), but with
    /// whatever metadata the caller forges.
    fn put_claiming(&self, key: &str, data: Vec<u8>, claimed_sha256: &str) {
        use object_store::{Attribute, Attributes, ObjectStore, PutOptions};
        let s3 = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(BUCKET)
            .with_endpoint(self.endpoint())
            .with_region("garage")
            .with_access_key_id(KEY_ID)
            .with_secret_access_key(SECRET)
            .with_allow_http(true)
            .with_checksum_algorithm(object_store::aws::Checksum::SHA256)
            .build()
            .expect("client");
        let mut attributes = Attributes::new();
        attributes.insert(
            Attribute::Metadata("sha256".into()),
            claimed_sha256.to_string().into(),
        );
        let opts = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        runtime().block_on(async {
            s3.put_opts(&object_store::path::Path::from(key), data.into(), opts)
                .await
                .expect("put")
        });
    }

    fn put(&self, key: &str, data: Vec<u8>) {
        use object_store::ObjectStoreExt;
        let s3 = self.client();
        runtime().block_on(async {
            s3.put(&object_store::path::Path::from(key), data.into())
                .await
                .expect("put")
        });
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The status line and body of a plain HTTP/1.0 GET (loopback, presigned: no client needed).
fn http_get(url: &object_store::signer::Url) -> String {
    use std::io::Read;
    let host = url.host_str().expect("host");
    let port = url.port().expect("port");
    let mut conn = std::net::TcpStream::connect((host, port)).expect("connect");
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    write!(
        conn,
        "GET {target} HTTP/1.0\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).expect("read");
    answer
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// `triage ARGS` with the store's credentials in the environment (and no other).
fn triage_s3(case: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_triage"))
        .env_remove("TRIAGE_CASE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("TRIAGE_S3_CREDENTIALS")
        .env("TRIAGE_S3_ACCESS_KEY_ID", KEY_ID)
        .env("TRIAGE_S3_SECRET_ACCESS_KEY", SECRET)
        .arg("--case")
        .arg(case)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run triage")
}

fn init_s3(case: &Path, endpoint: &str, prefix: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(["init"])
        .arg(case)
        .args([
            "--objects",
            &format!("s3://{BUCKET}/{prefix}"),
            "--endpoint",
            endpoint,
        ])
        .output()
        .expect("init");
    assert!(out.status.success(), "{}", output_text(&out));
}

/// `n` files of `size` pseudo-random bytes (all different) under `dir`.
fn random_files(dir: &Path, n: usize, size: usize) {
    std::fs::create_dir_all(dir).expect("dir");
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..n {
        let mut data = vec![0u8; size];
        for chunk in data.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let b = x.to_le_bytes();
            chunk.copy_from_slice(&b[..chunk.len()]);
        }
        std::fs::write(dir.join(format!("f{i:05}.bin")), data).expect("write");
    }
}

fn count(case: &Path, query: &str) -> i64 {
    let case = triage::store::Case::open(case).expect("open");
    sql(&case)
        .query_row(query, [], |r| r.get(0))
        .expect("count")
}

/// Each file under `dir` recorded exactly once, as its own item.
fn each_once(case: &Path, dir: &Path, n: usize) {
    let files = std::fs::read_dir(dir).expect("dir").count();
    assert_eq!(files, n);
    assert_eq!(count(case, "SELECT count(*) FROM items"), n as i64);
    assert_eq!(
        count(case, "SELECT count(DISTINCT path) FROM provenance"),
        n as i64
    );
    assert_eq!(count(case, "SELECT count(*) FROM provenance"), n as i64);
}

#[test]
fn ingest_verify_show_preview_export_through_garage_and_an_altered_object_named() {
    let Some(g) = Garage::start() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let case = tmp.path().join("case");
    init_s3(&case, &g.endpoint(), "cases/one");
    assert!(!case.join("objects").exists(), "no local objects/ folder");
    let db = std::fs::read(case.join("case.db")).expect("db");
    assert!(!String::from_utf8_lossy(&db).contains(SECRET));

    let info = triage_s3(&case, &["info"]);
    assert!(
        output_text(&info).contains(&format!("s3://{BUCKET}/cases/one at {}", g.endpoint())),
        "{}",
        output_text(&info)
    );

    // The demo material (photos, a clip, a PDF, e-mail, text) and one file large enough to go
    // in parts.
    let material = tmp.path().join("material");
    triage::demo::write_material(&material).expect("material");
    random_files(&material.join("big"), 1, 40 << 20);
    let out = triage_s3(
        &case,
        &[
            "ingest",
            "--source",
            "ngo",
            "--json",
            material.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", output_text(&out));
    let items = count(&case, "SELECT count(*) FROM items");
    assert!(items > 10, "{items}");
    let keys = g.keys();
    assert_eq!(keys.len() as i64, items, "one object per item: {keys:?}");
    assert!(keys.iter().all(|k| k.starts_with("cases/one/objects/")));
    // Nothing staged is left behind, nothing stored locally.
    assert!(!case.join("objects").exists());

    // A second ingest of the same folder uploads nothing again.
    let out = triage_s3(
        &case,
        &[
            "ingest",
            "--source",
            "ngo",
            "--json",
            material.to_str().unwrap(),
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["new"], 0, "{v}");
    assert_eq!(g.keys().len() as i64, items);

    for args in [&["verify"][..], &["verify", "--quick"]] {
        let out = triage_s3(&case, args);
        let text = output_text(&out);
        assert!(out.status.success(), "{args:?}: {text}");
        // The bucket was listed for stray objects (a failure there is only a note).
        assert!(!text.contains("cannot list"), "{args:?}: {text}");
    }
    let out = triage_s3(&case, &["show", "T-000001", "--json"]);
    assert!(out.status.success(), "{}", output_text(&out));

    // A preview reads the original through the case's read cache.
    let opened = triage::store::Case::open(&case).expect("open");
    let (id, sha): (i64, String) = sql(&opened)
        .query_row(
            "SELECT id, sha256 FROM items WHERE kind = 'image' ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("an image");
    let path = opened.objects.path_of(&sha);
    assert!(!path.exists(), "not cached before it is asked for");
    let answer = {
        // The preview's worker needs the credentials from the environment of this process.
        std::env::set_var("TRIAGE_S3_ACCESS_KEY_ID", KEY_ID);
        std::env::set_var("TRIAGE_S3_SECRET_ACCESS_KEY", SECRET);
        triage::preview::answer(&triage::preview::Request {
            visual: Default::default(),
            generation: 1,
            item_id: id,
            path: path.clone(),
            thumbnail: None,
            orientation: 1,
            max_cols: 40,
            max_rows: 20,
            budget: 1 << 20,
            depth: triage::preview::Depth::True,
            grayscale: false,
            blur: false,
            protocol: None,
            cell_px: (8, 16),
            ahead: vec![],
        })
    };
    assert!(answer.result.is_ok(), "{:?}", answer.result.err());
    assert!(path.is_file(), "fetched into the read cache");

    // Export reads every original through the store and checks it against its record.
    let bag = tmp.path().join("bag");
    let out = triage_s3(
        &case,
        &[
            "export",
            "--filter",
            "type:image",
            "--out",
            bag.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(bag.join("data/originals").read_dir().expect("bag").count() > 0);

    // Someone replaces an object in the bucket: verify names the item, and so does --quick
    // when the size differs.
    let key = format!("cases/one/objects/{}/{sha}", &sha[..2]);
    let mut altered = std::fs::read(&path).expect("cached");
    altered[100] ^= 0xff;
    g.put(&key, altered.clone());
    let out = triage_s3(&case, &["verify"]);
    let text = output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(&triage::store::reference(id)) && text.contains("altered"),
        "{text}"
    );
    // The same size, nothing kept with it: --quick names it too.
    let out = triage_s3(&case, &["verify", "--quick"]);
    let text = output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains(&triage::store::reference(id)), "{text}");

    // Replaced again, with triage's own metadata forged: only the store's checksum of the
    // bytes it received tells, and --quick compares it with the name.
    g.put_claiming(&key, altered, &sha);
    let out = triage_s3(&case, &["verify", "--quick"]);
    let text = output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(&triage::store::reference(id)) && text.contains("store's checksum"),
        "{text}"
    );
}

#[test]
fn garage_killed_mid_ingest_then_restarted_the_rerun_takes_each_file_once() {
    let Some(mut g) = Garage::start() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let case = tmp.path().join("case");
    init_s3(&case, &g.endpoint(), "");
    let files = tmp.path().join("in");
    let n = 600;
    random_files(&files, n, 256 << 10);
    let ingest = Command::new(env!("CARGO_BIN_EXE_triage"))
        .env("TRIAGE_S3_ACCESS_KEY_ID", KEY_ID)
        .env("TRIAGE_S3_SECRET_ACCESS_KEY", SECRET)
        .arg("--case")
        .arg(&case)
        .args(["ingest", "--source", "ngo"])
        .arg(&files)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ingest");
    wait_for_uploads(&g, 20);
    g.kill();
    let out = ingest.wait_with_output().expect("ingest ends");
    let text = output_text(&out);
    if out.status.success() {
        eprintln!("the ingest finished before garage was killed; the rerun still has to agree");
    } else {
        assert!(text.contains(&g.endpoint()), "names the store: {text}");
        assert!(!text.contains(SECRET), "{text}");
    }
    g.restart();
    rerun_takes_each_once(&g, &case, &files, n);
}

#[test]
fn triage_killed_mid_ingest_the_rerun_takes_each_file_once_and_cleans_up() {
    let Some(g) = Garage::start() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let case = tmp.path().join("case");
    init_s3(&case, &g.endpoint(), "p");
    let files = tmp.path().join("in");
    let n = 600;
    random_files(&files, n, 256 << 10);
    let mut ingest = spawn_ingest(&case, &files);
    wait_for_uploads(&g, 20);
    // SIGKILL: nothing of triage's own runs after this.
    let _ = ingest.kill();
    let _ = ingest.wait();
    rerun_takes_each_once(&g, &case, &files, n);
    // The killed run's staged copies are gone.
    let left: Vec<_> = std::fs::read_dir(case.join("tmp"))
        .expect("tmp")
        .flatten()
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The upload journal's records in the case folder.
fn journal(case: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(case.join("uploads")) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "upload"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn triage_killed_mid_multipart_upload_the_next_run_aborts_it_from_the_journal() {
    let Some(mut g) = Garage::start() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let case = tmp.path().join("case");
    init_s3(&case, &g.endpoint(), "m");
    let files = tmp.path().join("in");
    // In 3 parts (over the 32 MiB of one PUT). One file: a second one's upload could be begun
    // and not yet journaled when the first is killed (left to the bucket's lifecycle rule).
    random_files(&files, 1, 48 << 20);
    let mut ingest = spawn_ingest(&case, &files);
    // Killed as soon as an upload is journaled (its id known, its parts on the way).
    let deadline = Instant::now() + Duration::from_secs(120);
    while journal(&case).is_empty() {
        assert!(
            ingest.try_wait().expect("wait").is_none(),
            "the ingest ended before any upload was journaled"
        );
        assert!(Instant::now() < deadline, "no upload journaled");
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = ingest.kill();
    let _ = ingest.wait();
    let left = journal(&case);
    assert_eq!(left.len(), 1);
    let record = std::fs::read_to_string(&left[0]).expect("record");
    let open = g.incomplete_uploads();
    assert_eq!(
        open.len(),
        1,
        "the killed upload is still open in the store"
    );
    assert!(
        record.contains(&open[0]) && record.contains("m/objects/"),
        "the record names the key and upload id: {record} {open:?}"
    );

    // The store down: the records stay, and the run says so (then fails on its own uploads).
    g.kill();
    let out = triage_s3(
        &case,
        &["ingest", "--source", "ngo", files.to_str().unwrap()],
    );
    let text = output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("could not be aborted, kept for the next run")
            && text.contains(&g.endpoint()),
        "{text}"
    );
    assert_eq!(journal(&case), left);

    g.restart();
    let out = triage_s3(
        &case,
        &["ingest", "--source", "ngo", files.to_str().unwrap()],
    );
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("aborted"), "{text}");
    assert!(journal(&case).is_empty(), "{:?}", journal(&case));
    assert_eq!(g.incomplete_uploads(), Vec::<String>::new());
    each_once(&case, &files, 1);
    let out = triage_s3(&case, &["verify"]);
    assert!(out.status.success(), "{}", output_text(&out));
    assert_eq!(g.keys().len(), 1);
}

/// After an interrupted ingest: the rerun succeeds, takes each of the `n` files once, `verify`
/// passes and the bucket holds exactly `n` objects.
fn rerun_takes_each_once(g: &Garage, case: &Path, files: &Path, n: usize) {
    let out = triage_s3(
        case,
        &["ingest", "--source", "ngo", files.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", output_text(&out));
    each_once(case, files, n);
    let out = triage_s3(case, &["verify"]);
    assert!(out.status.success(), "{}", output_text(&out));
    assert_eq!(g.keys().len(), n);
}

/// An ingest of `files` into `case` as a child, to be killed midway.
fn spawn_ingest(case: &Path, files: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_triage"))
        .env("TRIAGE_S3_ACCESS_KEY_ID", KEY_ID)
        .env("TRIAGE_S3_SECRET_ACCESS_KEY", SECRET)
        .arg("--case")
        .arg(case)
        .args(["ingest", "--source", "ngo"])
        .arg(files)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ingest")
}

/// Wait until the bucket holds at least `n` objects (an ingest is under way).
fn wait_for_uploads(g: &Garage, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while g.keys().len() < n {
        assert!(Instant::now() < deadline, "no uploads: {}", g.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_credentials_file_others_can_read_is_refused_without_quoting_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let creds = tmp.path().join("s3.toml");
    let mut f = std::fs::File::create(&creds).expect("creds");
    writeln!(
        f,
        "access_key_id = \"{KEY_ID}\"\nsecret_access_key = \"{SECRET}\""
    )
    .expect("w");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let case = tmp.path().join("case");
    let out = Command::new(env!("CARGO_BIN_EXE_triage"))
        .arg("init")
        .arg(&case)
        .args(["--objects", "s3://b/p", "--endpoint", "http://127.0.0.1:9"])
        .arg("--credentials")
        .arg(&creds)
        .output()
        .expect("init");
    assert!(out.status.success(), "{}", output_text(&out));
    let material = tmp.path().join("in");
    random_files(&material, 2, 1000);
    let ingest = |case: &Path| {
        Command::new(env!("CARGO_BIN_EXE_triage"))
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("TRIAGE_S3_ACCESS_KEY_ID")
            .env_remove("TRIAGE_S3_SECRET_ACCESS_KEY")
            .env_remove("TRIAGE_S3_CREDENTIALS")
            .arg("--case")
            .arg(case)
            .args(["ingest", "--source", "ngo"])
            .arg(&material)
            .output()
            .expect("ingest")
    };
    let out = ingest(&case);
    let text = output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(creds.to_str().unwrap()) && text.contains("0644") && text.contains("refused"),
        "{text}"
    );
    assert!(!text.contains(SECRET) && !text.contains(KEY_ID), "{text}");
    assert_eq!(count(&case, "SELECT count(*) FROM items"), 0);
}

#[test]
fn a_store_that_is_down_gives_a_clear_message_fast_and_the_case_stays_usable() {
    let tmp = tempfile::tempdir().expect("tmp");
    let case = tmp.path().join("case");
    // Nothing listens there.
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    init_s3(&case, &endpoint, "x");
    let material = tmp.path().join("in");
    random_files(&material, 3, 1000);
    let started = Instant::now();
    let out = triage_s3(
        &case,
        &["ingest", "--source", "ngo", material.to_str().unwrap()],
    );
    let text = output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert!(text.contains(&endpoint), "names the endpoint: {text}");
    assert!(!text.contains(SECRET), "{text}");
    // Nothing recorded that the store did not take; the case itself works.
    assert_eq!(count(&case, "SELECT count(*) FROM items"), 0);
    let out = triage_s3(&case, &["list"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let out = triage_s3(&case, &["info"]);
    assert!(output_text(&out).contains(&endpoint));
}

/// How long the console may take to answer a key while the store is down: the store is never
/// on the way of a key.
const PROMPT: Duration = Duration::from_secs(2);

#[test]
fn the_console_works_on_metadata_and_tags_while_the_store_is_down() {
    use crate::pty::{self, Console};
    let Some(mut g) = Garage::start() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let case = tmp.path().join("case");
    init_s3(&case, &g.endpoint(), "c");
    let material = tmp.path().join("material");
    triage::demo::write_material(&material).expect("material");
    let out = triage_s3(
        &case,
        &["ingest", "--source", "ngo", material.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", output_text(&out));
    let n = count(&case, "SELECT count(*) FROM items");
    g.kill();

    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let mut cmd = pty::console_command(env!("CARGO_BIN_EXE_triage"), &case, &home);
    cmd.env("TRIAGE_S3_ACCESS_KEY_ID", KEY_ID);
    cmd.env("TRIAGE_S3_SECRET_ACCESS_KEY", SECRET);
    let started = Instant::now();
    let mut c = Console::spawn(cmd);
    c.wait_ready();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // Through every item and back, each key answered at once, each item's metadata shown.
    for i in 2..=n {
        let t = Instant::now();
        c.send("j");
        c.wait_status(&format!(" {i}/{n} "));
        assert!(t.elapsed() < PROMPT, "j took {:?}", t.elapsed());
    }
    let t = Instant::now();
    c.send("g");
    c.wait_status(&format!(" 1/{n} "));
    assert!(t.elapsed() < PROMPT, "g took {:?}", t.elapsed());
    // The item's metadata, from case.db.
    let screen = c.wait_text("image/jpeg");
    assert!(
        screen.contains("T-000001") && screen.contains("sha256"),
        "{screen}"
    );

    // A tag: saved at once.
    let t = Instant::now();
    c.send("1");
    c.wait_message("saved: T-000001 +Graphic violence");
    assert!(t.elapsed() < PROMPT, "the tag took {:?}", t.elapsed());

    // The preview of an item whose original is needed (a PDF: no kept picture) says the store
    // cannot be reached, and keys are answered meanwhile.
    let pdf: i64 = {
        let opened = triage::store::Case::open(&case).expect("open");
        sql(&opened)
            .query_row(
                "SELECT id FROM items WHERE kind = 'pdf' ORDER BY id LIMIT 1",
                [],
                |r| r.get(0),
            )
            .expect("a pdf")
    };
    c.send("i");
    for _ in 1..pdf {
        c.send("j");
    }
    c.wait_status(&format!(" {pdf}/{n} "));
    let shown = c.wait_for_within("the preview's message", Duration::from_secs(30), |s| {
        s.contains("cannot be read")
    });
    assert!(shown.contains("application/pdf"), "its metadata: {shown}");
    // The right-hand panes' text (the preview's wrapped lines), joined without blanks.
    let right = shown
        .lines()
        .find_map(|l| l.find("┐┌").map(|at| l[..at].chars().count() + 1))
        .expect("two panes");
    let flat: String = shown
        .lines()
        .flat_map(|l| l.chars().skip(right))
        .filter(|ch| !ch.is_whitespace() && *ch != '│')
        .collect();
    assert!(
        flat.contains(&format!("s3://{BUCKET}/c"))
            && flat.contains(&g.endpoint())
            && flat.contains("cannotbereached"),
        "names the store: {shown}"
    );
    let t = Instant::now();
    c.send("k");
    c.wait_status(&format!(" {}/{n} ", pdf - 1));
    assert!(t.elapsed() < PROMPT, "k took {:?}", t.elapsed());
    c.quit();

    // The tag is committed with its audit entry.
    let opened = triage::store::Case::open(&case).expect("open");
    let tagged: i64 = sql(&opened)
        .query_row(
            "SELECT count(*) FROM tags WHERE item_id = 1 AND term_id = 'graphic'",
            [],
            |r| r.get(0),
        )
        .expect("tags");
    assert_eq!(tagged, 1);
    let audited: i64 = sql(&opened)
        .query_row(
            "SELECT count(*) FROM audit WHERE item_id = 1 AND event = 'tag.add'
             AND json_extract(details, '$.term') = 'graphic'",
            [],
            |r| r.get(0),
        )
        .expect("audit");
    assert_eq!(audited, 1);
    let out = triage_s3(&case, &["show", "T-000001", "--json"]);
    assert!(
        output_text(&out).contains("graphic"),
        "{}",
        output_text(&out)
    );
}
