//! Reading the staff pages over HTTP in tests: signing in with the login form's CSRF token, and
//! the tables' cells by their rows' `data-key`.

use std::collections::BTreeMap;

use reqwest::redirect::Policy;

/// A client signed in as `email` (redirects not followed, cookies kept).
pub async fn sign_in(url: &str, email: &str, password: &str) -> reqwest::Client {
    let attempt = try_sign_in(url, email, password, None).await;
    assert_eq!(attempt.status, 303, "{email} signs in");
    attempt.http
}

/// One sign-in through the form, as a browser does it (the form's CSRF cookie and token),
/// from `client` when given (an `X-Forwarded-For` a trusted proxy would add).
pub struct SignIn {
    pub http: reqwest::Client,
    pub status: u16,
    /// Where the answer sends the browser.
    pub location: String,
    /// How long the POST took.
    pub took: std::time::Duration,
}

pub async fn try_sign_in(url: &str, email: &str, password: &str, client: Option<&str>) -> SignIn {
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let html = http
        .get(format!("{url}/staff/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut post = http.post(format!("{url}/staff/login")).form(&[
        ("email", email),
        ("password", password),
        ("csrf", &csrf(&html)),
    ]);
    if let Some(ip) = client {
        post = post.header("x-forwarded-for", ip);
    }
    let started = std::time::Instant::now();
    let r = post.send().await.unwrap();
    let took = started.elapsed();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    SignIn {
        status: r.status().as_u16(),
        location,
        took,
        http,
    }
}

/// The first CSRF token in a page's forms.
pub fn csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[at..at + 64].to_owned()
}

/// A GET's status and body.
pub async fn get(http: &reqwest::Client, url: &str) -> (u16, String) {
    let r = http.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Keeps a page's HTML as `PROMO_KEEP_SHOTS/pages/<name>.html` when that variable is set, to
/// be rendered and looked at (`chromium --headless --screenshot`).
pub fn keep_html(name: &str, html: &str) {
    if let Some(dir) = std::env::var_os("PROMO_KEEP_SHOTS") {
        let dir = std::path::Path::new(&dir).join("pages");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.html")), html).unwrap();
    }
}

pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The text of a cell, tags left out.
pub fn text(cell: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in cell.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(out.trim())
}

/// The body rows of the table with this id, by their `data-key`: the cells' text (a row's
/// `<th>` included).
pub fn table(html: &str, id: &str) -> BTreeMap<String, Vec<String>> {
    let start = html
        .find(&format!("<table id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}"));
    let end = start + html[start..].find("</table>").unwrap();
    let body = &html[start..end];
    let body = &body[body.find("<tbody>").unwrap()..];
    let mut out = BTreeMap::new();
    for tr in body.split("<tr").skip(1) {
        let key = tr
            .split_once("data-key=\"")
            .map(|(_, r)| unescape(&r[..r.find('"').unwrap()]))
            .unwrap_or_default();
        let mut cells = Vec::new();
        let mut rest = tr;
        while let Some(i) = rest.find('<') {
            rest = &rest[i..];
            let open = if rest.starts_with("<td") || rest.starts_with("<th") {
                &rest[1..3]
            } else {
                rest = &rest[1..];
                continue;
            };
            let content_start = rest.find('>').unwrap() + 1;
            let close = format!("</{open}>");
            let content_end = rest.find(&close).unwrap();
            cells.push(text(&rest[content_start..content_end]));
            rest = &rest[content_end + close.len()..];
        }
        out.insert(key, cells);
    }
    out
}

/// A row's cells.
pub fn row(t: &BTreeMap<String, Vec<String>>, key: &str) -> Vec<String> {
    t.get(key)
        .unwrap_or_else(|| panic!("no row {key} in {t:?}"))
        .clone()
}

/// The rows' keys, in order.
pub fn keys(t: &BTreeMap<String, Vec<String>>) -> Vec<&str> {
    t.keys().map(String::as_str).collect()
}

/// A two-column table (a heading cell and a value) as key → value.
pub fn values(html: &str, id: &str) -> BTreeMap<String, String> {
    table(html, id)
        .into_iter()
        .map(|(k, v)| (k, v[1].clone()))
        .collect()
}
