//! Request validation of WebSocket routes: `$connect`'s required handshake parameters (400
//! `Missing required request parameters: [...]`, as REST answers it) and a message against
//! the request model its route picks (an `Invalid request body` error frame, 400). No
//! integration is called for what fails.

use crate::compiler::validation::ParamLocation;
use crate::compiler::websocket::validation::{NoModel, WsValidation};

use super::event::ConnectionInfo;

/// Why a message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// It does not match its model, or no model is for it: 400.
    Body,
    /// Its model does not compile: 500.
    Model,
}

/// The handshake's missing required parameters, in AWS's message; `Ok` when none is.
pub fn handshake(v: &WsValidation, info: &ConnectionInfo) -> Result<(), String> {
    let missing: Vec<&str> = v
        .required_parameters
        .iter()
        .filter(|p| match p.location {
            ParamLocation::Header => !info.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&p.name)),
            ParamLocation::QueryString => !info.query.iter().any(|(n, _)| *n == p.name),
            ParamLocation::Path => false,
        })
        .map(|p| p.name.as_str())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "Missing required request parameters: [{}]",
        missing.join(", ")
    ))
}

/// Checks a message against the model its route's selection picks (`lookup` reads the
/// selection expression's variables).
pub fn message(
    v: &WsValidation,
    body: &[u8],
    lookup: impl FnMut(&str) -> Option<String>,
) -> Result<(), Invalid> {
    let Some(schema) = v.schema(lookup) else {
        return Ok(());
    };
    let schema = schema.map_err(|NoModel| Invalid::Body)?;
    let schema = schema.as_ref().as_ref().map_err(|e| {
        tracing::warn!(error = %e, "a request model does not compile");
        Invalid::Model
    })?;
    let instance: serde_json::Value = serde_json::from_slice(body).map_err(|_| Invalid::Body)?;
    if schema.is_valid(&instance) {
        Ok(())
    } else {
        Err(Invalid::Body)
    }
}
