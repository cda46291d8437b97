//! What each operation declares, carried through the document: its
//! credential (its `#[utoipa::path]` says `security(("bearer" = []))` for an
//! API key or `security(("cdsJwt" = []))` for a CDS Hooks JWT; one that
//! declares none is public, and the document says so with `security: []`),
//! and the refusals that follow from it and from taking a body.

use utoipa::Modify;
use utoipa::openapi::path::Operation;
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder};

use crate::http::BODY_LIMIT;

/// The API key's scheme.
pub const BEARER: &str = "bearer";
/// The CDS Hooks routes' scheme: a CDS client presents a signed JWT, not an
/// API key.
pub const CDS_JWT: &str = "cdsJwt";

/// The credential an operation asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credential {
    None,
    ApiKey,
    CdsJwt,
}

fn credential(op: &Operation) -> Credential {
    let scheme = |name: &str| SecurityRequirement::new(name, Vec::<String>::new());
    match &op.security {
        Some(s) if s.contains(&scheme(BEARER)) => Credential::ApiKey,
        Some(s) if s.contains(&scheme(CDS_JWT)) => Credential::CdsJwt,
        Some(s) => {
            // Only the schemes above exist: a typo must not make a route
            // look public.
            assert!(
                s.iter().all(|r| *r == SecurityRequirement::default()),
                "an operation names a security scheme that is not {BEARER} or {CDS_JWT}"
            );
            Credential::None
        }
        None => Credential::None,
    }
}

fn problem(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

/// Each operation of `api`, mutably.
fn operations(api: &mut OpenApi) -> impl Iterator<Item = &mut Operation> {
    api.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    })
}

/// The security schemes, each operation's credential, and the refusals a
/// credential brings: 401, 403 and 429 for an API key (a CDS route
/// documents its own 401; roles and the per-key rate limit are the API
/// keys').
pub struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key made with `facet-screen keys create`; it carries a role (intake, clinician, admin) and a clinic."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            CDS_JWT,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("CDS Hooks 2.0: a JWT signed (ES384 or RS384) by a trusted issuer (FACET_SCREEN_CDS_ISSUERS), with `iss`, `aud` (this route's URL), `exp` and a `jti` used once. The issuer's clinic owns the screenings it creates."))
                    .build(),
            ),
        );
        for op in operations(api) {
            match credential(op) {
                // Said, not left to a default: no credential here.
                Credential::None => op.security = Some(Vec::new()),
                Credential::CdsJwt => {}
                Credential::ApiKey => {
                    let responses = &mut op.responses.responses;
                    responses.insert("401".into(), problem(
                        "No key, or a malformed, unknown, revoked or expired one (with `WWW-Authenticate: Bearer`)",
                    ));
                    responses.insert("403".into(), problem("The key's role may not do this"));
                    // A route with a limit of its own (exports at once)
                    // keeps it.
                    let limited = "The key is over its rate limit (with `Retry-After`)";
                    let why = match responses.get("429") {
                        Some(RefOr::T(own)) => format!("{limited}, or: {}", own.description),
                        _ => limited.to_string(),
                    };
                    responses.insert("429".into(), problem(&why));
                }
            }
        }
    }
}

/// Every operation that takes a body: the body is required (a generator
/// otherwise makes it optional), and the request can be refused before its
/// content is looked at (400, 413, 415), unless it documents those itself.
pub struct Bodies;

impl Modify for Bodies {
    fn modify(&self, api: &mut OpenApi) {
        let too_large = format!("The body is over {} KiB", BODY_LIMIT / 1024);
        for op in operations(api) {
            let Some(body) = op.request_body.as_mut() else {
                continue;
            };
            if let RefOr::T(body) = body {
                required(body);
            }
            for (status, why) in [
                ("400", "Malformed JSON, query or header"),
                ("413", too_large.as_str()),
                ("415", "The body is not sent as JSON"),
            ] {
                op.responses
                    .responses
                    .entry(status.into())
                    .or_insert_with(|| problem(why));
            }
        }
    }
}

fn required(body: &mut RequestBody) {
    body.required = Some(Required::True);
}
