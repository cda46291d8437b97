//! JSON answers, serialized into one buffer of the size most answers need.
//!
//! axum's `Json` starts from 128 bytes and grows as it writes: a 2 KB
//! evaluation is copied into five buffers on its way out, each write going
//! through `BytesMut`'s writer. This one writes into a `Vec` that starts at
//! 4 KiB (an evaluation, a screening or a problem fits; a longer answer, such
//! as a page of screenings, grows as before), which becomes the body without
//! a copy.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// What a buffer starts at: the largest answers on the hot paths (an
/// evaluation is about 2 KB, a created screening about 3.6 KB) fit.
const INITIAL_CAPACITY: usize = 4096;

/// The headers an answer carries when it leaves: its content type, the
/// five security headers, the request id, and a few a route or CORS adds.
const HEADERS: usize = 12;

/// A JSON answer (`application/json`), written with serde_json as axum's
/// `Json` writes it: the same bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut buf = Vec::with_capacity(INITIAL_CAPACITY);
        match serde_json::to_writer(&mut buf, &self.0) {
            Ok(()) => {
                let mut res = Response::new(Body::from(buf));
                let headers = res.headers_mut();
                // Room for the headers every answer gets on its way out
                // (the security headers, the request id), so that the map
                // is not grown and rehashed half way.
                headers.reserve(HEADERS);
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                res
            }
            // Only a type that cannot be JSON gets here (a map with keys
            // that are not strings): a fault of ours, answered as the
            // problem layer answers any bare 500, with nothing of the value.
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;
    use serde_json::json;

    use super::*;

    async fn written<T: Serialize>(value: T) -> (StatusCode, Option<HeaderValue>, Vec<u8>) {
        let res = Json(value).into_response();
        let status = res.status();
        let ct = res.headers().get(header::CONTENT_TYPE).cloned();
        let body = to_bytes(res.into_body(), usize::MAX).await.unwrap();
        (status, ct, body.to_vec())
    }

    #[tokio::test]
    async fn writes_what_axum_json_writes_small_and_past_the_first_buffer() {
        let long = "é\"\\\u{1}x".repeat(3000);
        for value in [
            json!({}),
            json!({"a": [1, 2.5, null, true], "b": "quote \" and \\"}),
            json!({"long": long}),
        ] {
            let ours = written(&value).await;
            let res = axum::Json(&value).into_response();
            let theirs = to_bytes(res.into_body(), usize::MAX).await.unwrap();
            assert_eq!(ours.0, StatusCode::OK);
            assert_eq!(ours.1.unwrap(), "application/json");
            assert_eq!(ours.2, theirs.to_vec());
        }
    }

    #[tokio::test]
    async fn a_value_that_cannot_be_json_is_a_bare_500_without_it() {
        let mut map = std::collections::HashMap::new();
        map.insert((1, "secret"), 2);
        let (status, _, body) = written(map).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!String::from_utf8_lossy(&body).contains("secret"));
    }
}
