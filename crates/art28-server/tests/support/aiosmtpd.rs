//! A real SMTP server for the mail tests: aiosmtpd (installed by scripts/test) storing what it
//! receives in a Maildir. Shared by the server's tests and the CLI's (`#[path]`), which are
//! separate test binaries.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running aiosmtpd; stopped when dropped.
pub struct Smtp {
    child: Child,
}

impl Smtp {
    /// Start aiosmtpd on `port`, storing messages in `maildir`, and wait until it listens.
    pub fn start(port: u16, maildir: &Path) -> Smtp {
        let ok = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            ok,
            "the mail tests need aiosmtpd: run scripts/test, or `python3 -m pip install aiosmtpd`"
        );
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
        Smtp { child }
    }

    /// Stop it now (a test that brings it up again later).
    #[allow(dead_code)] // not every test binary stops it by hand
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Every message that arrived, as raw text.
pub fn raw_messages(maildir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(maildir.join(sub)) else {
            continue;
        };
        for e in entries.flatten() {
            out.push(std::fs::read_to_string(e.path()).expect("read mail"));
        }
    }
    out
}

/// A header's value (folded lines joined), or "" when the message has none.
pub fn header(raw: &str, name: &str) -> String {
    let mut lines = raw.lines().peekable();
    let prefix = format!("{}:", name.to_ascii_lowercase());
    while let Some(l) = lines.next() {
        if l.is_empty() {
            break;
        }
        if l.to_ascii_lowercase().starts_with(&prefix) {
            let mut v = l[prefix.len()..].trim().to_string();
            while let Some(n) = lines.peek() {
                if n.starts_with(' ') || n.starts_with('\t') {
                    v.push(' ');
                    v.push_str(n.trim());
                    lines.next();
                } else {
                    break;
                }
            }
            return v;
        }
    }
    String::new()
}
