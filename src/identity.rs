//! Who is acting: the login name of the process (over SSH, the SSH login).
//!
//! Only the password database says who we are. The environment (`USER`, `LOGNAME`) is set by
//! whoever starts the process, so trusting it would let anyone act as anyone: when the
//! database cannot answer, the command is refused instead.

use std::ffi::CStr;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("uid {0} has no entry in the password database; refusing to act without a login name")]
    NoEntry(u32),
    #[error("the password database could not be read for uid {uid} ({error}); refusing to act without a login name")]
    Lookup { uid: u32, error: std::io::Error },
    #[error("uid {0}: the login name in the password database is not valid UTF-8")]
    NotUtf8(u32),
}

/// The largest buffer tried for one entry: far above any real entry, small enough that a
/// broken NSS module answering ERANGE forever cannot make us allocate without bound.
const MAX_BUF: usize = 1 << 20;

/// The login name of the real user id, from the password database; an error when there is
/// no entry or the lookup fails (never a fallback).
pub fn login_name() -> Result<String, IdentityError> {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    login_of(uid)
}

/// The login name of `uid` from the password database.
pub fn login_of(uid: u32) -> Result<String, IdentityError> {
    let mut size = 4096;
    loop {
        let mut buf = vec![0u8; size];
        // SAFETY: a zeroed passwd is a valid value for getpwuid_r to fill in.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: getpwuid_r writes only into the buffers we pass, within the given length.
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &mut pwd,
                buf.as_mut_ptr() as *mut libc::c_char,
                buf.len(),
                &mut result,
            )
        };
        // An entry larger than the buffer: try again with a larger one.
        if rc == libc::ERANGE && size < MAX_BUF {
            size *= 4;
            continue;
        }
        if rc != 0 {
            return Err(IdentityError::Lookup {
                uid,
                error: std::io::Error::from_raw_os_error(rc),
            });
        }
        if result.is_null() || pwd.pw_name.is_null() {
            return Err(IdentityError::NoEntry(uid));
        }
        // SAFETY: pw_name points into `buf`, NUL-terminated by getpwuid_r.
        let name = unsafe { CStr::from_ptr(pwd.pw_name) };
        return match name.to_str() {
            Ok("") => Err(IdentityError::NoEntry(uid)),
            Ok(s) => Ok(s.to_string()),
            Err(_) => Err(IdentityError::NotUtf8(uid)),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_root_and_an_unknown_uid_is_refused() {
        assert_eq!(login_of(0).ok().as_deref(), Some("root"));
        assert!(matches!(
            login_of(3_999_999_999),
            Err(IdentityError::NoEntry(_))
        ));
    }
}
