//! Security headers on every answer: routes, errors, 404s, timeouts and refused bodies alike.
//!
//! One layer, outermost in [`crate::app`], fills in what an answer does not set itself. A route
//! that needs another policy (the portal's pages will need a `Content-Security-Policy` that
//! allows their own styles and scripts) sets the header on its answer, or builds its router
//! with [`SecurityHeaders::with_csp`]; this layer then leaves it as it is. HSTS is the
//! exception: when TLS is on it is set on everything, whatever a route said.

use axum::Router;
use axum::extract::State;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderMap, HeaderName, HeaderValue, REFERRER_POLICY,
    STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::response::Response;

/// The API's policy: it serves JSON only, so a browser may load nothing from it and frame it
/// nowhere.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// HTTPS only, for a year, subdomains included; sent only when the server speaks TLS.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The headers every answer carries.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    csp: HeaderValue,
    hsts: bool,
}

impl SecurityHeaders {
    /// The API's headers; HSTS only when `tls`.
    pub fn api(tls: bool) -> Self {
        Self {
            csp: HeaderValue::from_static(API_CSP),
            hsts: tls,
        }
    }

    /// The same with another default `Content-Security-Policy` (for pages rendered by the
    /// server, which load their own vendored assets).
    #[must_use]
    pub fn with_csp(self, csp: HeaderValue) -> Self {
        Self { csp, ..self }
    }

    /// Set the headers an answer lacks; HSTS always when TLS is on.
    pub fn apply(&self, headers: &mut HeaderMap) {
        let fixed: [(HeaderName, HeaderValue); 5] = [
            (CONTENT_SECURITY_POLICY, self.csp.clone()),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            // Answers hold customers' data and keys: no cache keeps them.
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ];
        for (name, value) in fixed {
            headers.entry(name).or_insert(value);
        }
        if self.hsts {
            headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
        }
    }

    /// Wrap `router` so every answer it gives carries these headers.
    pub fn layer(self, router: Router) -> Router {
        router.layer(axum::middleware::map_response_with_state(self, set_headers))
    }
}

async fn set_headers(State(headers): State<SecurityHeaders>, mut response: Response) -> Response {
    headers.apply(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_what_is_missing_and_keeps_what_a_route_set() {
        let mut h = HeaderMap::new();
        h.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=60"));
        SecurityHeaders::api(false).apply(&mut h);
        assert_eq!(h[CACHE_CONTROL], "max-age=60");
        assert_eq!(h[CONTENT_SECURITY_POLICY], API_CSP);
        assert_eq!(h[X_FRAME_OPTIONS], "DENY");
        assert!(h.get(STRICT_TRANSPORT_SECURITY).is_none());

        let mut h = HeaderMap::new();
        h.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=0"));
        SecurityHeaders::api(true)
            .with_csp(HeaderValue::from_static("default-src 'self'"))
            .apply(&mut h);
        assert_eq!(h[STRICT_TRANSPORT_SECURITY], HSTS);
        assert_eq!(h[CONTENT_SECURITY_POLICY], "default-src 'self'");
    }
}
