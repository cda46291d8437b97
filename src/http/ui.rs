//! The intake form and the review page: static files built into the binary,
//! so the pages work on a closed network. They use the public API like any
//! clinic's client.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

fn file(content_type: &'static str, body: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

pub async fn index() -> Response {
    file("text/html; charset=utf-8", include_str!("ui/index.html"))
}

pub async fn app_js() -> Response {
    file("text/javascript; charset=utf-8", include_str!("ui/app.js"))
}

pub async fn style_css() -> Response {
    file("text/css; charset=utf-8", include_str!("ui/style.css"))
}
