//! Headless Chromium driven through WebDriver (chromedriver), for the tests of the server's
//! pages: a browser session per test, and small helpers over the client.
//!
//! Needs `chromium` and `chromedriver` (`scripts/install-deps.sh test` installs them); without
//! them a test fails, it never passes silently.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use fantoccini::{Client, Locator};
use serde_json::{Value, json};

pub const INSTALL_HINT: &str =
    "run `scripts/install-deps.sh test` to install Chromium and chromedriver";
/// How long a page, an element or a download may take on a slow shared machine.
pub const WAIT: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------------------------
// The browser
// ---------------------------------------------------------------------------------------------

/// The first of `names` found as an executable file in `PATH` (or the path in `env`, if set).
pub fn find_program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A chromedriver child process on a free loopback port, in its own process group so that
/// the Chromium it starts is ended with it.
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub fn start(log: &Path) -> Driver {
        let Some(exe) = find_program("CHROMEDRIVER", &["chromedriver"]) else {
            panic!("chromedriver is not installed: {INSTALL_HINT}");
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(&exe)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}; {INSTALL_HINT}", exe.display()))
        };
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Waits for chromedriver to answer `/status` with `ready`.
    pub async fn ready(&mut self) {
        let http = reqwest::Client::new();
        let until = Instant::now() + WAIT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver exited at once ({status}): {INSTALL_HINT}");
            }
            if let Ok(r) = http.get(format!("{}/status", self.url)).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == json!(true)
            {
                return;
            }
            assert!(
                Instant::now() < until,
                "chromedriver did not become ready in {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and any Chromium left behind by a failed test.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the browser's window looks like.
pub enum Screen {
    Desktop {
        width: u32,
        height: u32,
    },
    /// A phone: mobile emulation (the viewport meta tag applies, touch, a phone user agent).
    Phone {
        width: u32,
        height: u32,
    },
}

/// Starts chromedriver and a headless Chromium session downloading into `downloads`, runs
/// `body` with it, and always ends the session (then re-raises `body`'s panic, if any).
pub fn with_browser<F, Fut>(dir: &Path, screen: Screen, body: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(chromium) = find_program(
        "CHROME_BIN",
        &["chromium", "chromium-browser", "google-chrome"],
    ) else {
        panic!("Chromium is not installed: {INSTALL_HINT}");
    };
    let downloads = dir.join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let log = dir.join("chromedriver.log");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut driver = Driver::start(&log);
    rt.block_on(async {
        driver.ready().await;
        let (w, h) = match screen {
            Screen::Desktop { width, height } | Screen::Phone { width, height } => {
                (width, height)
            }
        };
        let mut options = json!({
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                format!("--window-size={w},{h}"),
            ],
            "prefs": {
                "download.default_directory": downloads,
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
                "safebrowsing.enabled": false,
            },
        });
        if let Screen::Phone { width, height } = screen {
            options["mobileEmulation"] = json!({
                "deviceMetrics": {
                    "width": width, "height": height, "pixelRatio": 3.0,
                    "mobile": true, "touch": true,
                },
                "userAgent": "Mozilla/5.0 (Linux; Android 14; SM-S921N) AppleWebKit/537.36 \
                              (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
            });
        }
        let mut caps = fantoccini::wd::Capabilities::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), options);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = Client::with_capabilities_and_connector(&driver.url, &caps, connector)
            .await
            .unwrap_or_else(|e| {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: String = log.lines().rev().take(20).collect::<Vec<_>>().join("\n");
                panic!(
                    "no browser session with {}: {e}; {INSTALL_HINT}\nchromedriver log (last lines, newest first):\n{tail}",
                    chromium.display()
                )
            });
        // The body runs as its own task so that a failed assertion still ends the session.
        let outcome = tokio::spawn(body(client.clone())).await;
        let _ = client.close().await;
        if let Err(e) = outcome {
            if e.is_panic() {
                std::panic::resume_unwind(e.into_panic());
            }
            panic!("the browser test was cancelled: {e}");
        }
    });
    drop(driver);
}

// ---------------------------------------------------------------------------------------------
// Small helpers over the WebDriver client
// ---------------------------------------------------------------------------------------------

pub async fn find(c: &Client, css: &str) -> fantoccini::elements::Element {
    match c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
        Ok(e) => e,
        Err(e) => {
            let at = c.current_url().await.map(|u| u.to_string());
            let html = c.source().await.unwrap_or_default();
            panic!("no `{css}` on {at:?}: {e}\n{html}")
        }
    }
}

pub async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("script `{script}`: {e}"))
}

/// Polls `check` (every 100 ms, at most [`WAIT`]) until it answers `Some`.
pub async fn poll<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let until = Instant::now() + WAIT;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < until, "waited {WAIT:?} for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn wait_url(
    c: &Client,
    what: &str,
    pred: impl Fn(&reqwest::Url) -> bool,
) -> reqwest::Url {
    let pred = &pred;
    poll(what, || async move {
        c.current_url().await.ok().filter(|u| pred(u))
    })
    .await
}

/// Waits for the page in `lang` (`<html lang>`).
pub async fn wait_lang(c: &Client, lang: &str) {
    poll(&format!("a page in {lang}"), || async move {
        (page_lang(c).await == lang).then_some(())
    })
    .await
}

pub async fn page_lang(c: &Client) -> String {
    js(c, "return document.documentElement.lang")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

pub async fn h1(c: &Client) -> String {
    find(c, "h1").await.text().await.unwrap()
}

/// Signs in through the staff sign-in form and waits to leave it.
pub async fn sign_in(c: &Client, url: &str, email: &str, password: &str) {
    c.goto(&format!("{url}/staff/login")).await.unwrap();
    find(c, "input[name=email]")
        .await
        .send_keys(email)
        .await
        .unwrap();
    find(c, "input[name=password]")
        .await
        .send_keys(password)
        .await
        .unwrap();
    click(c, "form button[type=submit]").await;
    wait_url(c, "the staff pages after signing in", |u| {
        !u.path().starts_with("/staff/login")
    })
    .await;
}

/// Replaces the value of a form field.
pub async fn fill(c: &Client, css: &str, value: &str) {
    let field = find(c, css).await;
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

/// Chooses an option of a `<select>` by its value.
pub async fn choose(c: &Client, select_css: &str, value: &str) {
    click(c, &format!("{select_css} option[value='{value}']")).await;
}

/// Saves the browser's window as `PROMO_KEEP_SHOTS/pages/<name>.png` when that variable is set,
/// to look at the page as staff see it.
pub async fn keep_shot(c: &Client, name: &str) {
    let Some(dir) = std::env::var_os("PROMO_KEEP_SHOTS") else {
        return;
    };
    let dir = PathBuf::from(dir).join("pages");
    std::fs::create_dir_all(&dir).unwrap();
    let png = c.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// Clicks the element `css` finds (waiting for it, as [`find`] does).
pub async fn click(c: &Client, css: &str) {
    find(c, css).await.click().await.unwrap();
}

/// Signs out with the header's button and waits for the sign-in page.
pub async fn sign_out(c: &Client) {
    click(c, "header form button[type=submit]").await;
    wait_url(c, "the sign-in page after signing out", |u| {
        u.path() == "/staff/login"
    })
    .await;
}
