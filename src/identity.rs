//! Who is acting: the login name of the process (over SSH, the SSH login).

use std::ffi::CStr;

/// The login name of the real user id, from the password database; `$USER`/`$LOGNAME` only
/// when the database has no entry (some containers), then the numeric uid.
pub fn login_name() -> String {
    // SAFETY: getuid cannot fail; getpwuid_r writes only into the buffers we pass.
    let uid = unsafe { libc::getuid() };
    let mut buf = vec![0u8; 4096];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    let rc = unsafe {
        libc::getpwuid_r(
            uid,
            &mut pwd,
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            &mut result,
        )
    };
    if rc == 0 && !result.is_null() && !pwd.pw_name.is_null() {
        let name = unsafe { CStr::from_ptr(pwd.pw_name) };
        if let Ok(s) = name.to_str() {
            if !s.is_empty() {
                return s.to_string();
            }
        }
    }
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| format!("uid{uid}"))
}
