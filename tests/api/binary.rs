//! The real binary as a separate process: the one way tests launch it. It
//! binds a port of its own choosing (port 0), so no test can take another's;
//! its address is read from its own "listening" log line. Whatever it writes
//! is kept for the test to search. A server that exits or does not listen
//! within the deadline fails the test with what it wrote.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a start may take before the test fails.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// Each test says where the data is: nothing from the caller's shell.
const NOT_INHERITED: [&str; 7] = [
    "DATABASE_URL",
    "FACET_SCREEN_CLINIC",
    "FACET_SCREEN_DATA_DIR",
    "FACET_SCREEN_RULES_DIR",
    "FACET_SCREEN_PROFILE",
    "FACET_SCREEN_ADDR",
    "RUST_LOG",
];

pub fn command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_facet-screen"));
    for var in NOT_INHERITED {
        c.env_remove(var);
    }
    c
}

/// A key of clinic `default` with `role`, made by `keys create` on the
/// SQLite data directory `data` (making its database if it holds none).
pub fn make_key(data: &std::path::Path, role: &str) -> String {
    let out = command()
        .args([
            "keys",
            "create",
            "--create-database",
            "--clinic",
            "default",
            "--role",
            role,
            "--label",
            role,
        ])
        .env("FACET_SCREEN_DATA_DIR", data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

pub struct Served {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

/// Starts `facet-screen serve` with `env` (on top of a clean environment)
/// and waits until it listens.
pub fn serve(env: &[(&str, &str)]) -> Served {
    serve_after("", env)
}

/// As `serve`, started by a shell after `prefix` (say `ulimit -Sn 1024;` or
/// `umask 022;`), so that the server process has those limits.
pub fn serve_after(prefix: &str, env: &[(&str, &str)]) -> Served {
    let mut cmd = command();
    if !prefix.is_empty() {
        let bin = cmd.get_program().to_owned();
        let mut shell = Command::new("bash");
        shell
            .arg("-c")
            .arg(format!("{prefix} exec \"$0\" serve"))
            .arg(bin);
        for var in NOT_INHERITED {
            shell.env_remove(var);
        }
        cmd = shell;
    } else {
        cmd.arg("serve");
    }
    cmd.env("FACET_SCREEN_ADDR", "127.0.0.1:0")
        .env("FACET_SCREEN_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the binary starts");
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    let stdout: Arc<Mutex<String>> = Arc::default();
    let stderr: Arc<Mutex<String>> = Arc::default();
    let out = child.stdout.take().unwrap();
    let kept = stdout.clone();
    let out_reader = std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if line.contains("facet-screen listening")
                && let Some(address) = line
                    .split(|c: char| c == '"' || c.is_whitespace() || c == '=')
                    .find(|w| w.starts_with("127.0.0.1:"))
            {
                let _ = address_tx.send(address.to_string());
            }
            let mut k = kept.lock().unwrap();
            k.push_str(&line);
            k.push('\n');
        }
    });
    let mut err = child.stderr.take().unwrap();
    let kept = stderr.clone();
    let err_reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 {
                break;
            }
            kept.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let started = Instant::now();
    let address = loop {
        if let Ok(address) = address_rx.recv_timeout(Duration::from_millis(50)) {
            break address;
        }
        if let Some(status) = child.try_wait().unwrap() {
            // All it wrote: the pipe ends when the process has exited.
            err_reader.join().unwrap();
            panic!(
                "the server exited ({status}) before listening:\n{}",
                stderr.lock().unwrap()
            );
        }
        if started.elapsed() > START_DEADLINE {
            let _ = child.kill();
            panic!(
                "the server did not listen within {START_DEADLINE:?}:\n{}",
                stderr.lock().unwrap()
            );
        }
    };
    // Listening is not yet serving: wait until it answers (by then it also
    // handles SIGTERM gracefully).
    while !answers_health(&address, Duration::from_secs(2)) {
        if started.elapsed() > START_DEADLINE {
            let _ = child.kill();
            panic!(
                "the server did not answer /healthz within {START_DEADLINE:?}:\n{}",
                stderr.lock().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Served {
        child,
        base: format!("http://{address}"),
        stdout,
        stderr,
        readers: vec![out_reader, err_reader],
    }
}

/// `GET /healthz` answers 200 (plain HTTP/1.0 over a socket: no runtime).
fn answers_health(address: &str, within: Duration) -> bool {
    use std::io::Write;
    let Ok(mut s) = std::net::TcpStream::connect(address) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(within));
    let _ = s.write_all(b"GET /healthz HTTP/1.0\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.starts_with("HTTP/1.0 200") || out.starts_with("HTTP/1.1 200")
}

impl Served {
    /// The server's process id (to read its memory from /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// After a hostile scenario: the process is still running, it has not
    /// panicked (std's hook writes `panicked at` to stderr, also for a
    /// handler's panic answered 500), and it answers `/healthz`. A test then
    /// checks that it still answers its own question correctly.
    pub fn assert_unharmed(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("the server exited ({status}):\n{}", self.stderr());
        }
        let stderr = self.stderr();
        assert!(
            !stderr.contains("panicked"),
            "the server panicked:\n{stderr}"
        );
        let address = self.base.trim_start_matches("http://");
        assert!(
            answers_health(address, Duration::from_secs(10)),
            "the server no longer answers /healthz:\n{stderr}"
        );
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.finish();
    }

    /// `GET path` and its body as JSON (null when it is not JSON).
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        reqwest::get(self.url(path))
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or_default()
    }

    /// What it has written to stdout (its log) so far.
    pub fn log(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// What it has written to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends `signal` (such as `HUP`) to the server.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal}");
    }

    /// SIGTERM (a graceful stop); returns its exit status, stdout and stderr.
    pub fn terminate(mut self) -> (ExitStatus, String, String) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let status = self.finish();
        let out = self.stdout.lock().unwrap().clone();
        let err = self.stderr.lock().unwrap().clone();
        (status, out, err)
    }

    fn finish(&mut self) -> ExitStatus {
        let status = self.child.wait().unwrap();
        for r in self.readers.drain(..) {
            r.join().unwrap();
        }
        status
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // A test that failed midway leaves no server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
