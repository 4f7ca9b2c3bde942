//! Signed seals: `triage seal --sign KEY` writes SEAL.sig in the SSH signature format, which
//! the stock `ssh-keygen -Y verify` accepts, and `triage verify --against SEAL
//! --allowed-signers FILE` agrees with it, on a good seal and on one with a changed byte.

use crate::common::triage;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_triage");

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// ssh-keygen, or None when it is missing outside CI (CI installs openssh-client: there a
/// missing ssh-keygen fails the test).
fn ssh_keygen() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("ssh-keygen"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "ssh-keygen is missing (install openssh-client)"
        );
        eprintln!("note: ssh-keygen is not installed; signed-seal test skipped");
    }
    found
}

fn keygen(kg: &Path, key: &Path, kind: &[&str], passphrase: &str) {
    let out = Command::new(kg)
        .args(kind)
        .args(["-q", "-N", passphrase, "-C", "test", "-f"])
        .arg(key)
        .stdin(Stdio::null())
        .output()
        .expect("ssh-keygen");
    assert!(out.status.success(), "ssh-keygen: {}", text(&out.stderr));
}

/// `ssh-keygen -Y verify` of `seal` (with `seal.sig`) for `who`.
fn ssh_verify(kg: &Path, allowed: &Path, who: &str, seal: &Path) -> Output {
    let mut sig = seal.as_os_str().to_os_string();
    sig.push(".sig");
    Command::new(kg)
        .args(["-Y", "verify", "-f"])
        .arg(allowed)
        .args(["-I", who, "-n", "triage-seal", "-s"])
        .arg(sig)
        .stdin(std::fs::File::open(seal).expect("open seal"))
        .output()
        .expect("ssh-keygen -Y verify")
}

#[test]
fn a_signed_seal_verifies_with_ssh_keygen_and_triage() {
    let Some(kg) = ssh_keygen() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let case = tmp.path().join("case");
    let init = Command::new(BIN)
        .env_remove("TRIAGE_CASE")
        .arg("init")
        .arg(&case)
        .output()
        .expect("init");
    assert!(init.status.success(), "{}", text(&init.stderr));
    let allowed = tmp.path().join("allowed_signers");
    let mut signers = String::new();
    for (name, kind) in [
        ("ed25519", &["-t", "ed25519"][..]),
        ("ecdsa", &["-t", "ecdsa", "-b", "256"][..]),
    ] {
        let key = tmp.path().join(format!("id_{name}"));
        keygen(&kg, &key, kind, "");
        let public = std::fs::read_to_string(key.with_extension("pub"))
            .or_else(|_| std::fs::read_to_string(format!("{}.pub", key.display())))
            .expect("public key");
        signers.push_str(&format!(
            "{name}@example namespaces=\"triage-seal\" {}\n",
            public.trim()
        ));
    }
    std::fs::write(&allowed, &signers).expect("allowed signers");

    for name in ["ed25519", "ecdsa"] {
        let key = tmp.path().join(format!("id_{name}"));
        let seal = tmp.path().join(format!("seal-{name}.txt"));
        let key_s = key.to_str().expect("utf-8 path");
        let seal_s = seal.to_str().expect("utf-8 path");
        let out = triage(&case, &["seal", "--out", seal_s, "--sign", key_s]);
        assert!(out.status.success(), "seal --sign: {}", text(&out.stderr));
        let who = format!("{name}@example");
        let v = ssh_verify(&kg, &allowed, &who, &seal);
        assert!(
            v.status.success(),
            "ssh-keygen rejects the {name} seal: {}{}",
            text(&v.stdout),
            text(&v.stderr)
        );
        let allowed_s = allowed.to_str().expect("utf-8 path");
        let out = triage(
            &case,
            &[
                "verify",
                "--against",
                seal_s,
                "--allowed-signers",
                allowed_s,
            ],
        );
        assert!(
            out.status.success(),
            "triage verify: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(
            text(&out.stdout).contains(&format!("seal signed by {who}")),
            "{}",
            text(&out.stdout)
        );

        // One byte changed (in the time, so only the signature can tell): both refuse.
        let forged = tmp.path().join(format!("forged-{name}.txt"));
        let mut bytes = std::fs::read(&seal).expect("read seal");
        let at = bytes
            .windows(6)
            .position(|w| w == b"time: ")
            .expect("a time line")
            + 6;
        bytes[at] = if bytes[at] == b'1' { b'2' } else { b'1' };
        std::fs::write(&forged, &bytes).expect("write");
        std::fs::copy(format!("{seal_s}.sig"), format!("{}.sig", forged.display()))
            .expect("copy sig");
        let v = ssh_verify(&kg, &allowed, &who, &forged);
        assert!(!v.status.success(), "ssh-keygen accepted a changed seal");
        let out = triage(
            &case,
            &[
                "verify",
                "--against",
                forged.to_str().expect("utf-8"),
                "--allowed-signers",
                allowed_s,
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
        assert!(
            text(&out.stdout).contains("seal signature"),
            "{}",
            text(&out.stdout)
        );
    }

    // A seal signed by ssh-keygen itself (here with a key not in the file) is refused.
    let stranger = tmp.path().join("id_stranger");
    keygen(&kg, &stranger, &["-t", "ed25519"], "");
    let plain = tmp.path().join("plain.txt");
    let out = triage(&case, &["seal", "--out", plain.to_str().expect("utf-8")]);
    assert!(out.status.success());
    let s = Command::new(&kg)
        .args(["-Y", "sign", "-n", "triage-seal", "-f"])
        .arg(&stranger)
        .arg(&plain)
        .output()
        .expect("ssh-keygen -Y sign");
    assert!(s.status.success(), "{}", text(&s.stderr));
    let out = triage(
        &case,
        &[
            "verify",
            "--against",
            plain.to_str().expect("utf-8"),
            "--allowed-signers",
            allowed.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("not in"),
        "{}",
        text(&out.stdout)
    );

    // A passphrase-protected key: a clear refusal, and no unsigned seal left behind.
    let locked = tmp.path().join("id_locked");
    keygen(&kg, &locked, &["-t", "ed25519"], "secret words");
    let seal = tmp.path().join("locked.txt");
    let out = triage(
        &case,
        &[
            "seal",
            "--out",
            seal.to_str().expect("utf-8"),
            "--sign",
            locked.to_str().expect("utf-8"),
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("passphrase"),
        "{}",
        text(&out.stderr)
    );
    assert!(!seal.exists());
}
