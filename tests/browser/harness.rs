//! One headless Chromium per `Browser`, driven over WebDriver by fantoccini.
//!
//! Each `Browser` starts its own chromedriver on a free port, in its own process group, with
//! its own empty profile directory: two `Browser`s are two independent contexts (separate
//! cookie jars), and tests running in parallel threads do not share anything.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tempfile::TempDir;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Viewport sizes (CSS pixels) used for screenshots and layout checks.
pub const DESKTOP: (u32, u32) = (1280, 900);
pub const PHONE: (u32, u32) = (375, 812);

/// How long element waits may take: the machine is small and often busy compiling.
pub const WAIT: Duration = Duration::from_secs(15);

/// Flags this machine needs: no network but loopback, running as root (hence no sandbox),
/// no GPU, a small /dev/shm. The background/sync/component flags stop Chromium from trying
/// to reach Google, which would only time out here.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

const INSTALL_HINT: &str =
    "browser tests need Debian's chromium and chromium-driver: run `apt-get install -y chromium chromium-driver` (or use scripts/test, which installs them)";

/// A chromedriver child process in its own process group. Dropping it kills the whole group,
/// so Chromium and its helpers die with it even when a test panics before `Browser::close`.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    async fn start(log: &Path) -> Driver {
        // A free port can be taken by another test between our probe and chromedriver's bind;
        // chromedriver then exits at once, and we try another port.
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {CHROMEDRIVER}: {e}; {INSTALL_HINT}"));
            let mut driver = Driver { child, port };
            if driver.wait_ready().await {
                return driver;
            }
        }
        panic!(
            "chromedriver did not become ready; its log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }

    /// Polls `/status` until chromedriver says it is ready; false if it exited or timed out.
    async fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        let url = format!("{}/status", self.url());
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(response) = reqwest::get(&url).await {
                if let Ok(status) = response.json::<Value>().await {
                    if status["value"]["ready"] == true {
                        return true;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let pgid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) with a negative pid signals the process group we created for
        // chromedriver (process_group(0) makes its pid the group id); no memory is touched.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a probe port");
    listener.local_addr().expect("probe address").port()
}

/// One browser context: a chromedriver, a Chromium session, a fresh profile.
pub struct Browser {
    client: Option<Client>,
    base_url: String,
    // Field order matters for Drop: kill the processes before deleting their profile.
    _driver: Driver,
    _dir: TempDir,
}

impl Browser {
    /// Starts Chromium with a desktop-sized viewport; paths given to `goto` are relative to
    /// `base_url` (e.g. `app.address`).
    pub async fn launch(base_url: &str) -> Browser {
        for binary in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(binary).exists(),
                "{binary} is missing; {INSTALL_HINT}"
            );
        }
        let dir = tempfile::tempdir().expect("temporary directory for the browser profile");
        let log = dir.path().join("chromedriver.log");
        let driver = Driver::start(&log).await;

        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
        args.push(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver could not start Chromium: {e}\nchromedriver log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        let browser = Browser {
            client: Some(client),
            base_url: base_url.trim_end_matches('/').to_string(),
            _driver: driver,
            _dir: dir,
        };
        browser.set_size(DESKTOP.0, DESKTOP.1).await;
        browser
    }

    /// The fantoccini client, for anything the helpers below do not cover.
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("browser already closed")
    }

    /// Runs `script` in the page (a function body: `return` a value) and returns its result.
    pub async fn execute(&self, script: &str) -> Value {
        ok(
            self.client().execute(script, vec![]).await,
            format!("run script {script:?}"),
        )
    }

    /// Opens `path` (e.g. "/flights?from=DEL") on the app and waits for the page load.
    pub async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base_url);
        ok(self.client().goto(&url).await, format!("goto {url}"));
    }

    /// The path of the current page, without query or fragment.
    pub async fn current_path(&self) -> String {
        let url = ok(self.client().current_url().await, "current url");
        url.path().to_string()
    }

    /// Waits until the current path is `path` (after a click that navigates or redirects).
    pub async fn wait_for_path(&self, path: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let current = self.current_path().await;
            if current == path {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "expected to arrive at {path}, still at {current}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits (up to `WAIT`) for an element matching `css` to be in the page.
    pub async fn wait_for(&self, css: &str) -> Element {
        ok(
            self.client()
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Css(css))
                .await,
            format!("wait for element `{css}`"),
        )
    }

    /// Whether an element matching `css` is in the page right now (no waiting).
    pub async fn exists(&self, css: &str) -> bool {
        match self.client().find(Locator::Css(css)).await {
            Ok(_) => true,
            Err(e) if e.is_no_such_element() => false,
            Err(e) => panic!("find `{css}`: {e}"),
        }
    }

    /// The visible text of the first element matching `css` (waits for it to appear). An
    /// element found on a page that a navigation then replaced is looked up again.
    pub async fn text(&self, css: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let element = self.wait_for(css).await;
            match element.text().await {
                Err(e) if e.is_stale_element_reference() && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                result => return ok(result, format!("text of `{css}`")),
            }
        }
    }

    /// Waits until the element's visible text contains `needle` (for script-rendered
    /// content), and returns the whole text.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.text(css).await;
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` never contained {needle:?}; last text: {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Replaces the value of the input matching `css` with `text`, typing it like a person.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.wait_for(css).await;
        ok(element.clear().await, format!("clear `{css}`"));
        ok(element.send_keys(text).await, format!("type into `{css}`"));
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        let element = self.wait_for(css).await;
        ok(element.click().await, format!("click `{css}`"));
    }

    /// Sets the viewport (not the window) to `width` × `height` CSS pixels. Headless Chromium
    /// still reserves room for a pretend toolbar, so the window is sized up by the difference.
    pub async fn set_size(&self, width: u32, height: u32) {
        let client = self.client();
        ok(client.set_window_size(width, height).await, "resize window");
        let (inner_w, inner_h) = self.viewport().await;
        let (w, h) = (
            (2 * width).saturating_sub(inner_w),
            (2 * height).saturating_sub(inner_h),
        );
        if (w, h) != (width, height) {
            ok(client.set_window_size(w, h).await, "resize window");
        }
    }

    async fn viewport(&self) -> (u32, u32) {
        let size = ok(
            self.client()
                .execute("return [window.innerWidth, window.innerHeight]", vec![])
                .await,
            "read viewport size",
        );
        let dim = |i: usize| size[i].as_u64().expect("a viewport dimension") as u32;
        (dim(0), dim(1))
    }

    /// Saves `docs/screenshots/{name}-desktop.png` and `{name}-phone.png` of the current page
    /// (the viewport at each size), then restores the viewport size it had.
    pub async fn screenshot(&self, name: &str) -> [PathBuf; 2] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::create_dir_all(&dir).expect("create docs/screenshots");
        let before = self.viewport().await;
        let mut saved = Vec::new();
        for (suffix, (width, height)) in [("desktop", DESKTOP), ("phone", PHONE)] {
            self.set_size(width, height).await;
            // Let the page lay out and paint at the new size before capturing it.
            ok(
                self.client()
                    .execute_async(
                        "const done = arguments[0]; \
                         requestAnimationFrame(() => requestAnimationFrame(() => done()));",
                        vec![],
                    )
                    .await,
                "wait for a frame",
            );
            let png = ok(self.client().screenshot().await, "screenshot");
            let path = dir.join(format!("{name}-{suffix}.png"));
            std::fs::write(&path, png).expect("write screenshot");
            saved.push(path);
        }
        self.set_size(before.0, before.1).await;
        saved.try_into().expect("two screenshots")
    }

    /// Ends the WebDriver session (Chromium quits) and stops chromedriver. Call it at the end
    /// of every test; if a test panics first, Drop still kills the processes.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            ok(client.close().await, "close the browser session");
        }
    }
}

fn ok<T>(result: Result<T, CmdError>, what: impl std::fmt::Display) -> T {
    result.unwrap_or_else(|e| panic!("{what}: {e}"))
}
