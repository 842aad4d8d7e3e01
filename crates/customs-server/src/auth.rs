//! Token authentication: `Authorization: Bearer TOKEN` on every route but
//! the operational ones. The token is compared in constant time (as SHA-256
//! digests, so neither its length nor a prefix leaks through timing); a
//! comparison of two 32-byte digests is small enough to write here.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::Arc;

use crate::AppState;

fn same(a: &[u8], b: &[u8]) -> bool {
    let (x, y) = (Sha256::digest(a), Sha256::digest(b));
    x.iter()
        .zip(y.iter())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}

/// The bearer token of a request, if it carries one.
pub fn bearer(req: &Request) -> Option<&str> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub async fn require_token(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(want) = state.config.token.as_deref() else {
        return next.run(req).await;
    };
    match bearer(&req) {
        Some(got) if same(got.as_bytes(), want.as_bytes()) => next.run(req).await,
        Some(_) => {
            state.metrics.auth_failures.inc();
            crate::api::error(StatusCode::UNAUTHORIZED, "the token is not valid").into_response()
        }
        None => {
            state.metrics.auth_failures.inc();
            let mut r = crate::api::error(
                StatusCode::UNAUTHORIZED,
                "a token is required: Authorization: Bearer TOKEN",
            )
            .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"customs\""),
            );
            r
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_same_token_matches() {
        assert!(super::same(b"abc", b"abc"));
        assert!(!super::same(b"abc", b"abd"));
        assert!(!super::same(b"abc", b"abcd"));
        assert!(!super::same(b"", b"x"));
    }
}
