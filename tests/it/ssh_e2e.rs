//! Deployment over SSH, for real: a shared case owned by a Unix group, reviewers' accounts
//! whose SSH login is forced into `triage open`, a real `sshd` on 127.0.0.1 with its own host
//! key and configuration, and the real `ssh -tt` client in a pseudo-terminal.
//!
//! Two reviewers work at the same time (claims keep them on different items), an account that
//! is not a member of the case is refused with a message (and the refusal recorded), and the
//! role checks hold for the same accounts on the command line.
//!
//! It creates Unix accounts and a group, so it runs only under CI (`CI` set) or when asked
//! (`TRIAGE_SSH_TEST=1`); otherwise it says so and passes. Needs root and /usr/sbin/sshd:
//! when it is asked to run, a missing prerequisite fails the test.
// Tests open case.db with rusqlite themselves, to check or tamper as an intruder would.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use crate::pty;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use pty::Console;

const SSHD: &str = "/usr/sbin/sshd";

fn prerequisites() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root: cannot create accounts or run sshd".into());
    }
    for tool in [SSHD, "/usr/bin/ssh", "/usr/bin/ssh-keygen"] {
        if !Path::new(tool).exists() {
            return Err(format!(
                "{tool} is missing (apt-get install openssh-server)"
            ));
        }
    }
    for tool in ["useradd", "userdel", "groupadd", "groupdel", "usermod"] {
        if which(tool).is_none() {
            return Err(format!("{tool} is missing"));
        }
    }
    Ok(())
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn tool(name: &str) -> Command {
    Command::new(which(name).unwrap_or_else(|| PathBuf::from(name)))
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// Everything made outside the temporary folder, undone even when the test fails.
struct Cleanup {
    sshd: Option<Child>,
    accounts: Vec<String>,
    group: Option<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(mut c) = self.sshd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        for a in &self.accounts {
            // Sessions of the account (sshd children) end with sshd; remove the account.
            let _ = tool("userdel").arg(a).output();
        }
        if let Some(g) = &self.group {
            let _ = tool("groupdel").arg(g).output();
        }
    }
}

struct Account {
    name: String,
    uid: u32,
    key: PathBuf,
}

/// The accounts of this run: names unique to the process, so parallel runs cannot collide.
fn names() -> (String, [String; 3]) {
    let tag = std::process::id() % 100_000;
    (
        format!("trgrp{tag}"),
        [
            format!("trrev{tag}a"),
            format!("trrev{tag}b"),
            format!("trout{tag}"),
        ],
    )
}

fn uid_of(name: &str) -> u32 {
    let out = run(tool("id").args(["-u", name]));
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a numeric uid")
}

fn gid_of(group: &str) -> u32 {
    let out = run(tool("getent").args(["group", group]));
    String::from_utf8_lossy(&out.stdout)
        .split(':')
        .nth(2)
        .and_then(|g| g.trim().parse().ok())
        .expect("a numeric gid")
}

fn spare_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a spare port");
    l.local_addr().expect("addr").port()
}

fn wait_listening(port: u16, sshd: &mut Child) {
    let start = Instant::now();
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(st)) = sshd.try_wait() {
            panic!("sshd exited at start: {st:?}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "sshd does not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `ssh -tt` to the forced command, in a pseudo-terminal of our harness.
fn ssh_session(account: &Account, port: u16, home: &Path) -> Console {
    let mut cmd = portable_pty::CommandBuilder::new("/usr/bin/ssh");
    let port = port.to_string();
    let key = account.key.to_string_lossy().into_owned();
    let target = format!("{}@127.0.0.1", account.name);
    cmd.args([
        "-tt",
        "-F",
        "/dev/null",
        "-p",
        &port,
        "-i",
        &key,
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
        &target,
    ]);
    cmd.cwd(home);
    cmd.env("HOME", home);
    cmd.env("TERM", "xterm-256color");
    Console::spawn(cmd)
}

/// The case's triage, run on the command line as `account`.
fn triage_as(bin: &Path, case: &Path, uid: u32, gid: u32, args: &[&str]) -> Output {
    use std::os::unix::process::CommandExt;
    Command::new(bin)
        .arg("--case")
        .arg(case)
        .args(args)
        .uid(uid)
        .gid(gid)
        .env("HOME", "/nonexistent")
        .env_remove("TRIAGE_CASE")
        .stdin(Stdio::null())
        .output()
        .expect("run triage as an account")
}

/// The row of the queue marked as selected (`▶T-000123`).
fn selected_ref(screen: &str) -> Option<String> {
    let i = screen.find('▶')?;
    let rest = &screen[i + '▶'.len_utf8()..];
    Some(rest.chars().take(8).collect())
}

#[test]
fn reviewers_log_in_over_ssh_work_side_by_side_and_outsiders_are_refused() {
    if std::env::var_os("CI").is_none() && std::env::var_os("TRIAGE_SSH_TEST").is_none() {
        eprintln!(
            "skipping the SSH end-to-end test: it creates Unix accounts; \
             set TRIAGE_SSH_TEST=1 (as root) to run it (CI always does)"
        );
        return;
    }
    if let Err(why) = prerequisites() {
        panic!("the SSH end-to-end test was asked to run, but: {why}");
    }
    let (group, [rev_a, rev_b, outsider]) = names();
    let mut cleanup = Cleanup {
        sshd: None,
        accounts: vec![],
        group: None,
    };

    // A world-traversable root for everything the accounts must reach.
    let tmp = tempfile::Builder::new()
        .prefix("triage-ssh-")
        .tempdir()
        .expect("tmp");
    let root = tmp.path().to_path_buf();
    chmod(&root, 0o755);
    let bin_dir = root.join("bin");
    std::fs::create_dir(&bin_dir).expect("bin");
    let bin = bin_dir.join("triage");
    std::fs::copy(env!("CARGO_BIN_EXE_triage"), &bin).expect("copy the binary");
    chmod(&bin_dir, 0o755);
    chmod(&bin, 0o755);

    // The group and the accounts (a password field of `*`: no password, not locked).
    run(tool("groupadd").arg(&group));
    cleanup.group = Some(group.clone());
    let gid = gid_of(&group);
    let homes = root.join("home");
    std::fs::create_dir(&homes).expect("homes");
    chmod(&homes, 0o755);
    let ssh_dir = root.join("ssh");
    let keys_dir = ssh_dir.join("authorized");
    std::fs::create_dir_all(&keys_dir).expect("ssh dir");
    chmod(&ssh_dir, 0o755);
    chmod(&keys_dir, 0o755);
    let mut accounts = Vec::new();
    for name in [&rev_a, &rev_b, &outsider] {
        let home = homes.join(name);
        run(tool("useradd")
            .args(["-M", "-g", &group, "-s", "/bin/sh", "-d"])
            .arg(&home)
            .arg(name));
        cleanup.accounts.push(name.clone());
        run(tool("usermod").args(["-p", "*", name]));
        std::fs::create_dir(&home).expect("home");
        let uid = uid_of(name);
        std::os::unix::fs::chown(&home, Some(uid), Some(gid)).expect("chown home");
        let key = ssh_dir.join(format!("id_{name}"));
        run(tool("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
            .arg(&key));
        std::fs::copy(key.with_extension("pub"), keys_dir.join(name)).expect("authorize key");
        chmod(&keys_dir.join(name), 0o644);
        accounts.push(Account {
            name: name.clone(),
            uid,
            key,
        });
    }

    // The case: made and filled by its admin (this login), the two reviewers added, then
    // handed to the group. Database and folders are the group's (setgid folders, 0660/2770);
    // the originals are read-only.
    let case = root.join("cases").join("demo");
    std::fs::create_dir(root.join("cases")).expect("cases");
    chmod(&root.join("cases"), 0o755);
    let material = root.join("material");
    let me = Command::new(&bin)
        .args(["demo", "--material-only", "--dir"])
        .arg(&material)
        .output()
        .expect("material");
    assert!(me.status.success());
    run(Command::new(&bin).arg("init").arg(&case));
    for line in String::from_utf8_lossy(&me.stdout).lines() {
        let (source, path) = line.split_once('\t').expect("source\tpath");
        let mut cmd = Command::new(&bin);
        cmd.arg("--case")
            .arg(&case)
            .args(["ingest", "--source", source, path]);
        run(&mut cmd);
    }
    for name in [&rev_a, &rev_b] {
        run(Command::new(&bin)
            .arg("--case")
            .arg(&case)
            .args(["user", "add", name, "--role", "reviewer"]));
    }
    run(tool("chgrp").args(["-R", &group]).arg(&case));
    run(tool("find")
        .arg(&case)
        .args(["-type", "d", "-exec", "chmod", "2770", "{}", "+"]));
    run(tool("find")
        .arg(&case)
        .args(["-type", "f", "-exec", "chmod", "0660", "{}", "+"]));
    run(tool("find")
        .arg(case.join("objects"))
        .args(["-type", "f", "-exec", "chmod", "0440", "{}", "+"]));
    chmod(&case.join("TRIAGE-CASE"), 0o440);

    // sshd: its own host key and configuration; the group's logins land in the console.
    let host_key = ssh_dir.join("host_ed25519");
    run(tool("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&host_key));
    std::fs::create_dir_all("/run/sshd").expect("privilege separation folder");
    let port = spare_port();
    let config = ssh_dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "ListenAddress 127.0.0.1\n\
             Port {port}\n\
             HostKey {host}\n\
             PidFile {pid}\n\
             AuthorizedKeysFile {keys}/%u\n\
             StrictModes no\n\
             UsePAM no\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             PubkeyAuthentication yes\n\
             PermitRootLogin no\n\
             AllowGroups {group}\n\
             Match Group {group}\n\
             \tForceCommand umask 007; exec {bin} --case {case} open\n\
             \tAllowTcpForwarding no\n\
             \tAllowAgentForwarding no\n\
             \tX11Forwarding no\n\
             \tPermitTunnel no\n",
            host = host_key.display(),
            pid = ssh_dir.join("sshd.pid").display(),
            keys = keys_dir.display(),
            bin = bin.display(),
            case = case.display(),
        ),
    )
    .expect("sshd_config");
    run(Command::new(SSHD).arg("-t").arg("-f").arg(&config));
    let mut sshd = Command::new(SSHD)
        .arg("-D")
        .arg("-e")
        .arg("-f")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sshd");
    wait_listening(port, &mut sshd);
    cleanup.sshd = Some(sshd);

    // The first reviewer logs in and lands on the first untriaged item, which they claim.
    let mut a = ssh_session(&accounts[0], port, &homes.join(&rev_a));
    a.wait_for_within(
        "the first reviewer's console",
        Duration::from_secs(20),
        |_| a.status().contains(" untriaged │"),
    );
    let first_a = selected_ref(&a.screen()).expect("a selected item");
    assert_eq!(first_a, "T-000001");
    // The second, at the same time, is not given the same item.
    let mut b = ssh_session(&accounts[1], port, &homes.join(&rev_b));
    b.wait_for_within(
        "the second reviewer's console",
        Duration::from_secs(20),
        |_| b.status().contains(" untriaged │"),
    );
    let first_b = selected_ref(&b.screen()).expect("a selected item");
    assert_ne!(first_b, first_a, "two reviewers were given the same item");
    assert!(!b.screen().contains("T-000001"), "{}", b.screen());

    // Both tag their item (flag 1: graphic) and mark it triaged.
    for c in [&mut a, &mut b] {
        c.send("1");
        c.wait_message("saved");
        c.send("x");
        c.wait_message("saved");
    }
    let second_a = selected_ref(&a.screen()).expect("next item");
    let second_b = selected_ref(&b.screen()).expect("next item");
    assert_ne!(second_a, second_b, "the next items differ too");
    a.quit();
    b.quit();

    // An account of the group that is not a member of the case is refused, with a message.
    let mut o = ssh_session(&accounts[2], port, &homes.join(&outsider));
    o.wait_for_within("the refusal", Duration::from_secs(20), |s| {
        s.contains("not a member of this case")
    });
    let st = o.wait_exit();
    assert!(!st.success(), "the outsider's session should fail");

    // The database: each reviewer's decision on their own item, none on the other's.
    let db = rusqlite::Connection::open_with_flags(
        case.join("case.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the case read-only");
    let by = |item: &str| -> (String, String, Vec<String>) {
        let id = triage::store::parse_reference(item).expect("a reference");
        let (status, status_by): (String, String) = db
            .query_row(
                "SELECT status, status_by FROM items WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("item");
        let taggers = db
            .prepare("SELECT DISTINCT set_by FROM tags WHERE item_id = ?1")
            .expect("prepare")
            .query_map([id], |r| r.get(0))
            .expect("query")
            .collect::<rusqlite::Result<Vec<String>>>()
            .expect("rows");
        (status, status_by, taggers)
    };
    assert_eq!(
        by(&first_a),
        ("triaged".into(), rev_a.clone(), vec![rev_a.clone()])
    );
    assert_eq!(
        by(&first_b),
        ("triaged".into(), rev_b.clone(), vec![rev_b.clone()])
    );
    let denied: i64 = db
        .query_row(
            "SELECT count(*) FROM audit WHERE event = 'denied' AND actor = ?1",
            [&outsider],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(denied, 1, "the outsider's refusal is recorded");
    let claims: i64 = db
        .query_row("SELECT count(*) FROM claims", [], |r| r.get(0))
        .expect("claims");
    assert_eq!(claims, 0, "quitting released the claims");
    drop(db);
    // Files the reviewers' processes made are the group's, not world-readable.
    for f in ["case.db", "case.db-wal", "case.db-shm"] {
        if let Ok(m) = std::fs::metadata(case.join(f)) {
            use std::os::unix::fs::MetadataExt;
            assert_eq!(m.gid(), gid, "{f} group");
            assert_eq!(m.mode() & 0o007, 0, "{f} is not for others: {:o}", m.mode());
        }
    }

    // The same accounts on the command line: reviewers may not lead or administer.
    let ra = &accounts[0];
    let out = triage_as(
        &bin,
        &case,
        ra.uid,
        gid,
        &["user", "add", &outsider, "--role", "admin"],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("manage-people needs an admin"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bag = root.join("bag");
    let out = triage_as(
        &bin,
        &case,
        ra.uid,
        gid,
        &[
            "export",
            "--filter",
            "status:triaged",
            "--out",
            bag.to_str().expect("utf-8"),
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("export needs a lead"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!bag.exists(), "nothing was exported");
    // Every lead's and admin's command, refused to a reviewer with the right named.
    let refusals: [(&[&str], &str); 6] = [
        (
            &["assign", "--filter", "type:image", "--to", &rev_b],
            "assign needs a lead",
        ),
        (&["review", "sample", "10"], "review needs a lead"),
        (&["stats"], "review needs a lead"),
        (&["source", "add", "x"], "manage-sources needs an admin"),
        (&["user", "disable", &rev_b], "manage-people needs an admin"),
        (
            &["ingest", "--source", "x", "/etc/hostname"],
            "intake needs a lead",
        ),
    ];
    for (args, why) in refusals {
        let out = triage_as(&bin, &case, ra.uid, gid, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(why),
            "{args:?}: {err}"
        );
    }
    // A member disabled by the admin is refused at login.
    run(Command::new(&bin)
        .arg("--case")
        .arg(&case)
        .args(["user", "disable", &rev_b]));
    let mut d = ssh_session(&accounts[1], port, &homes.join(&rev_b));
    d.wait_for_within("the refusal", Duration::from_secs(20), |s| {
        s.contains("access to this case is disabled")
    });
    assert!(!d.wait_exit().success());
    let out = triage_as(&bin, &case, accounts[2].uid, gid, &["list"]);
    assert!(!out.status.success(), "an outsider cannot list the case");
    let out = triage_as(&bin, &case, ra.uid, gid, &["list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Originals stay read-only even for the group.
    let object = std::fs::read_dir(case.join("objects"))
        .expect("objects")
        .filter_map(|e| e.ok())
        .find(|e| e.path().is_dir())
        .and_then(|d| {
            std::fs::read_dir(d.path())
                .ok()?
                .filter_map(|e| e.ok())
                .next()
        })
        .expect("an object");
    use std::os::unix::fs::MetadataExt;
    let mode = std::fs::metadata(object.path()).expect("stat").mode();
    assert_eq!(mode & 0o222, 0, "originals are read-only: {mode:o}");
    drop(cleanup);
}
