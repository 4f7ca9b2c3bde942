//! Signed seals in the SSH signature format (SSHSIG, namespace `triage-seal`): the signature
//! is written beside the seal as `SEAL.sig`, exactly what `ssh-keygen -Y sign -n triage-seal`
//! writes, so the stock `ssh-keygen -Y verify -f allowed_signers -I WHO -n triage-seal -s
//! SEAL.sig < SEAL` checks it, and so does `triage verify --against SEAL --allowed-signers F`.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

pub const NAMESPACE: &str = "triage-seal";

/// Where the signature of a seal is kept: `SEAL.sig`, as ssh-keygen names it.
pub fn sig_path(seal: &Path) -> PathBuf {
    let mut p = seal.as_os_str().to_os_string();
    p.push(".sig");
    PathBuf::from(p)
}

/// The private key in `path`, ready to sign (checked before anything is written).
pub fn load_key(path: &Path) -> Result<PrivateKey> {
    let key = PrivateKey::read_openssh_file(path).map_err(|e| {
        anyhow!(
            "{}: not an OpenSSH private key ({e}); give the private key file (e.g. \
             ~/.ssh/id_ed25519)",
            path.display()
        )
    })?;
    if key.is_encrypted() {
        bail!(
            "{}: the key is protected by a passphrase, which triage does not ask for; write the \
             seal without --sign and sign it with `ssh-keygen -Y sign -f {} -n {NAMESPACE} SEAL` \
             (it writes the same SEAL.sig)",
            path.display(),
            path.display()
        );
    }
    Ok(key)
}

/// Sign the seal's exact bytes; returns the armored signature (`-----BEGIN SSH SIGNATURE`).
pub fn sign(key: &PrivateKey, seal: &[u8]) -> Result<String> {
    let sig = key.sign(NAMESPACE, HashAlg::Sha512, seal).map_err(|e| {
        anyhow!(
            "cannot sign with this {} key ({e}); ed25519 and ECDSA (nistp256, nistp384) keys \
             are supported, or sign with `ssh-keygen -Y sign -n {NAMESPACE}`",
            key.algorithm()
        )
    })?;
    sig.to_pem(LineEnding::LF)
        .map_err(|e| anyhow!("cannot encode the signature: {e}"))
}

/// Who signed, as the allowed-signers file names them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Signer {
    pub principals: String,
    pub key: String,
}

/// Check `SEAL.sig` over the seal's bytes against an allowed-signers file (ssh-keygen's
/// format). `Err` says why the seal is not proved signed.
pub fn check(seal: &Path, allowed_signers: &Path) -> Result<std::result::Result<Signer, String>> {
    let msg = std::fs::read(seal).with_context(|| format!("{}", seal.display()))?;
    let sig_file = sig_path(seal);
    let armored = match std::fs::read_to_string(&sig_file) {
        Ok(t) => t,
        Err(e) => return Ok(Err(format!("no signature {}: {e}", sig_file.display()))),
    };
    let sig = match SshSig::from_pem(armored.trim()) {
        Ok(s) => s,
        Err(e) => {
            return Ok(Err(format!(
                "{}: not an SSH signature ({e})",
                sig_file.display()
            )))
        }
    };
    if sig.namespace() != NAMESPACE {
        return Ok(Err(format!(
            "signed for namespace {:?}, not {NAMESPACE}",
            sig.namespace()
        )));
    }
    let signers = std::fs::read_to_string(allowed_signers)
        .with_context(|| format!("{}", allowed_signers.display()))?;
    let Some((principals, key)) = allowed(&signers, sig.public_key()) else {
        return Ok(Err(format!(
            "the signing key is not in {} for namespace {NAMESPACE}",
            allowed_signers.display()
        )));
    };
    match key.verify(NAMESPACE, &msg, &sig) {
        Ok(()) => Ok(Ok(Signer {
            principals,
            key: key.fingerprint(HashAlg::Sha256).to_string(),
        })),
        Err(e) => Ok(Err(format!(
            "the signature does not match the seal ({e}): the seal or its signature was changed"
        ))),
    }
}

/// The line of an allowed-signers file that admits `key` for this namespace now: its
/// principals and key. Lines are `principals [options] keytype base64 [comment]`; the options
/// honoured are `namespaces="..."`, `valid-after` and `valid-before` (UTC); `cert-authority`
/// lines are skipped (certificates are not accepted here).
fn allowed(text: &str, key: &ssh_key::public::KeyData) -> Option<(String, PublicKey)> {
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let tokens = split_outside_quotes(line, |c| c == ' ' || c == '\t');
        let Some(principals) = tokens.first() else {
            continue;
        };
        let found = (1..=2).find_map(|k| {
            let (t, b) = (tokens.get(k)?, tokens.get(k + 1)?);
            PublicKey::from_openssh(&format!("{t} {b}"))
                .ok()
                .map(|pk| (k, pk))
        });
        let Some((k, pk)) = found else {
            continue;
        };
        if pk.key_data() != key {
            continue;
        }
        let options = if k == 2 { tokens[1].as_str() } else { "" };
        if options_admit(options) {
            return Some((principals.trim_matches('"').to_string(), pk));
        }
    }
    None
}

fn options_admit(options: &str) -> bool {
    let now = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    for opt in split_outside_quotes(options, |c| c == ',') {
        let (name, value) = match opt.split_once('=') {
            Some((n, v)) => (n.to_ascii_lowercase(), v.trim_matches('"').to_string()),
            None => (opt.to_ascii_lowercase(), String::new()),
        };
        match name.as_str() {
            "cert-authority" => return false,
            "namespaces" if !value.split(',').any(|n| n.trim() == NAMESPACE) => return false,
            "valid-after" | "valid-before" => {
                // YYYYMMDD[HHMM[SS]], compared with now at the same precision.
                let digits: String = value.chars().filter(char::is_ascii_digit).collect();
                let here = now.get(..digits.len()).unwrap_or(&now);
                let ok = if name == "valid-after" {
                    here >= digits.as_str()
                } else {
                    here < digits.as_str()
                };
                if !ok {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}

/// Split on `sep` where not inside double quotes; empty parts are dropped.
fn split_outside_quotes(s: &str, sep: impl Fn(char) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        if c == '"' {
            quoted = !quoted;
            cur.push(c);
        } else if !quoted && sep(c) {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_split_and_honoured() {
        assert_eq!(
            split_outside_quotes(
                r#"a@x namespaces="git,triage-seal" ssh-ed25519 AAA c"#,
                |c| c == ' '
            ),
            [
                "a@x",
                r#"namespaces="git,triage-seal""#,
                "ssh-ed25519",
                "AAA",
                "c"
            ]
        );
        assert!(options_admit(r#"namespaces="git,triage-seal""#));
        assert!(!options_admit(r#"namespaces="git""#));
        assert!(!options_admit("cert-authority"));
        assert!(options_admit(r#"valid-after="20000101""#));
        assert!(!options_admit(r#"valid-before="20000101""#));
        assert!(options_admit(""));
    }
}
