//! WebDriver for the desktop window: `tauri-driver` (which runs Debian's WebKitWebDriver) in the
//! test's display and bus, and a small W3C WebDriver client over plain HTTP.

use crate::{START_TIMEOUT, wait_until};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long a WebDriver call may take (a new session starts the app).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// The key of an element reference in W3C WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// `tauri-driver` on PATH, in `$CARGO_HOME/bin` or in `~/.cargo/bin`.
pub fn tauri_driver_bin() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(cargo) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(cargo).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|d| d.join("tauri-driver"))
        .find(|p| p.is_file())
        .expect("tauri-driver is not installed: cargo install tauri-driver --locked --version '^2'")
}

/// A port that was free a moment ago (the driver binds it right after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("cannot find a free port")
        .port()
}

/// A running `tauri-driver`; killed when dropped (its WebKitWebDriver and the app it started
/// carry the test's environment and are ended by the desktop fixture).
pub struct TauriDriver {
    child: Child,
    url: String,
    agent: ureq::Agent,
}

impl std::fmt::Debug for TauriDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TauriDriver")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// A WebDriver error answer, or a transport failure.
#[derive(Debug)]
pub struct WdError {
    pub status: u16,
    pub error: String,
    pub message: String,
}

impl TauriDriver {
    /// Starts tauri-driver with `cmd`'s environment already set by the caller.
    pub fn start(mut cmd: Command, log: &Path) -> TauriDriver {
        let (port, native) = (free_port(), free_port());
        let stderr = std::fs::File::create(log).expect("cannot create the tauri-driver log");
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native.to_string())
            .stdin(Stdio::null())
            .stdout(stderr.try_clone().expect("a log handle"))
            .stderr(stderr);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start tauri-driver: {e}"));
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout(CALL_TIMEOUT)
            .build();
        let mut driver = TauriDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            agent,
        };
        let ready = wait_until(START_TIMEOUT, || {
            matches!(driver.child.try_wait(), Ok(Some(_)))
                || driver.call("GET", "/status", None).is_ok()
        });
        let exited = driver.child.try_wait().ok().flatten();
        assert!(
            ready && exited.is_none(),
            "tauri-driver did not answer on {} (exited: {exited:?}):\n{}",
            driver.url,
            std::fs::read_to_string(log).unwrap_or_default()
        );
        driver
    }

    /// One WebDriver call; the answer's `value`.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, WdError> {
        let request = self.agent.request(method, &format!("{}{path}", self.url));
        let result = match body {
            Some(b) => request.send_json(b.clone()),
            None => request.call(),
        };
        let (status, response) = match result {
            Ok(r) => (r.status(), r),
            Err(ureq::Error::Status(s, r)) => (s, r),
            Err(e) => {
                return Err(WdError {
                    status: 0,
                    error: "transport".into(),
                    message: e.to_string(),
                });
            }
        };
        let text = response.into_string().unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let value = value.get("value").cloned().unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(value);
        }
        Err(WdError {
            status,
            error: value["error"].as_str().unwrap_or("?").to_string(),
            message: value["message"].as_str().unwrap_or(&text).to_string(),
        })
    }

    /// A new session on `application` (which the driver starts).
    pub fn session(&self, application: &Path) -> WdSession<'_> {
        let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {
            "application": application,
        }}}});
        let value = self
            .call("POST", "/session", Some(&caps))
            .unwrap_or_else(|e| panic!("cannot create a WebDriver session: {e:?}"));
        let id = value["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        WdSession { driver: self, id }
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A WebDriver session: the app's window.
#[derive(Debug)]
pub struct WdSession<'a> {
    driver: &'a TauriDriver,
    pub id: String,
}

impl WdSession<'_> {
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, WdError> {
        self.driver
            .call(method, &format!("/session/{}{path}", self.id), body)
    }

    fn ok(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        self.call(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path} failed: {e:?}"))
    }

    /// Runs `script` (a function body) in the page; its return value.
    pub fn script(&self, script: &str) -> Value {
        self.ok(
            "POST",
            "/execute/sync",
            Some(&json!({"script": script, "args": []})),
        )
    }

    /// Waits until `script` returns something `cond` accepts; returns that value.
    pub fn wait_script(
        &self,
        timeout: Duration,
        what: &str,
        script: &str,
        mut cond: impl FnMut(&Value) -> bool,
    ) -> Value {
        let mut last = Value::Null;
        let ok = wait_until(timeout, || {
            last = self
                .call(
                    "POST",
                    "/execute/sync",
                    Some(&json!({"script": script, "args": []})),
                )
                .unwrap_or(Value::Null);
            cond(&last)
        });
        assert!(
            ok,
            "timed out after {timeout:?} waiting for {what}; the page last said {last}"
        );
        last
    }

    /// The `data-testid="…"` element's attribute, or None when there is no such element.
    pub fn testid_attr(&self, testid: &str, attr: &str) -> Value {
        self.script(&format!(
            "const e = document.querySelector('[data-testid=\"{testid}\"]'); \
             return e ? e.getAttribute('{attr}') : null;"
        ))
    }

    /// Finds an element by CSS selector; its reference.
    pub fn find(&self, css: &str) -> String {
        let v = self.ok(
            "POST",
            "/element",
            Some(&json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element reference in {v}"))
            .to_string()
    }

    /// Clicks an element the way a user does (WebDriver element click: scrolled into view,
    /// pointer events at its centre).
    pub fn click(&self, element: &str) {
        self.ok(
            "POST",
            &format!("/element/{element}/click"),
            Some(&json!({})),
        );
    }

    /// A PNG screenshot of the window.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let v = self.ok("GET", "/screenshot", None);
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("a screenshot is a base64 string"))
            .expect("a screenshot is valid base64")
    }

    /// Closes the current window (WebDriver "Close Window").
    pub fn close_window(&self) -> Result<Value, WdError> {
        self.call("DELETE", "/window", None)
    }
}
