//! Certificates and TLS for custom domains: what an imported certificate covers (checked when
//! it is imported), each domain's rustls server configuration (its certificate, the TLS
//! versions its security policy allows, its truststore of mutual TLS), chosen by the SNI a
//! client sends, and what a client certificate shows an integration (`clientCert`).
//!
//! A connection's handshake is made under its domain's configuration of that moment; when a
//! domain's truststore changes, a connection made before vouches for its client again, under
//! the new one, before its next request is served ([`TlsSession::vouched`]); one refused is
//! answered 403 and closed.

use std::collections::HashMap;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::UnixTime;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use serde::Serialize;

use crate::domain::domain_name::DomainRoute;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates of a PEM chain, the domain's own first.
pub fn parse_chain(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let chain = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("Unable to parse certificate: {e}"))?;
    if chain.is_empty() {
        return Err("Unable to parse certificate: no CERTIFICATE block".into());
    }
    Ok(chain)
}

pub fn parse_key(pem: &str) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| format!("Unable to parse the private key: {e}"))
}

/// What an imported certificate covers, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFacts {
    /// Its DNS names (subject alternative names, else its common name).
    pub names: Vec<String>,
    /// Seconds since the epoch.
    pub not_after: i64,
}

/// Checks that `key_pem` is the private key of the first certificate of `chain_pem`, and says
/// what the certificate covers.
pub fn describe(chain_pem: &str, key_pem: &str) -> Result<CertificateFacts, String> {
    let chain = parse_chain(chain_pem)?;
    let key = parse_key(key_pem)?;
    rustls::sign::CertifiedKey::from_der(chain.clone(), key, &provider())
        .map_err(|e| format!("the private key is not the certificate's: {e}"))?;
    let (_, cert) = x509_parser::parse_x509_certificate(&chain[0])
        .map_err(|e| format!("Unable to parse certificate: {e}"))?;
    let mut names: Vec<String> = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_ascii_lowercase()),
                _ => None,
            })
            .collect(),
        _ => vec![],
    };
    if names.is_empty() {
        names.extend(
            cert.subject()
                .iter_common_name()
                .filter_map(|cn| cn.as_str().ok())
                .map(str::to_ascii_lowercase),
        );
    }
    Ok(CertificateFacts {
        names,
        not_after: cert.validity().not_after.timestamp(),
    })
}

/// The TLS versions a security policy allows: TLS 1.3 alone for AWS's `*TLS13_1_3*`
/// policies, else 1.2 and 1.3 (TLS_1_0's 1.0 and 1.1 are not offered: rustls has neither).
fn versions(policy: &str) -> &'static [&'static rustls::SupportedProtocolVersion] {
    static TLS13_ONLY: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    static TLS12_UP: [&rustls::SupportedProtocolVersion; 2] =
        [&rustls::version::TLS12, &rustls::version::TLS13];
    if policy.contains("TLS13_1_3") {
        &TLS13_ONLY
    } else {
        &TLS12_UP
    }
}

/// A truststore of mutual TLS: its certificates as imported, and the verifier made of them.
pub struct Truststore {
    pem: String,
    verifier: Arc<dyn ClientCertVerifier>,
}

impl Truststore {
    fn new(pem: &str) -> Result<Self, String> {
        let mut roots = RootCertStore::empty();
        for c in parse_chain(pem)? {
            roots.add(c).map_err(|e| format!("the truststore: {e}"))?;
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .allow_unauthenticated()
            .build()
            .map_err(|e| format!("the truststore: {e}"))?;
        Ok(Self {
            pem: pem.to_owned(),
            verifier,
        })
    }

    /// Whether it vouches for the client certificate `chain` (the client's own first) now.
    fn vouches_for(&self, chain: &[CertificateDer<'static>]) -> bool {
        let Some((end_entity, intermediates)) = chain.split_first() else {
            return false;
        };
        self.verifier
            .verify_client_cert(end_entity, intermediates, UnixTime::now())
            .is_ok()
    }
}

impl std::fmt::Debug for Truststore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Truststore").finish_non_exhaustive()
    }
}

/// A domain's server configuration: its certificate, its policy's versions, and with a
/// truststore a verifier of client certificates. A client may present none (its request is
/// then refused 403, as AWS does, and its connection closed); one the truststore does not vouch
/// for fails the handshake.
fn server_config(d: &DomainRoute, truststore: Option<&Truststore>) -> Result<ServerConfig, String> {
    let cert = d.certificate.as_ref().ok_or("its certificate is not imported")?;
    let chain = parse_chain(&cert.chain_pem)?;
    let key = parse_key(&cert.key_pem)?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(versions(&d.security_policy))
        .map_err(|e| e.to_string())?;
    let builder = match truststore {
        None if d.mutual_tls => return Err("its truststore is not imported".into()),
        Some(t) => builder.with_client_cert_verifier(t.verifier.clone()),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A domain's TLS: its server configuration and its truststore.
struct TlsDomain {
    config: Arc<ServerConfig>,
    truststore: Option<Arc<Truststore>>,
}

/// Every domain's TLS configuration, by name (a wildcard one as `*.{parent}`).
#[derive(Default)]
pub struct TlsDomains {
    by_name: HashMap<String, TlsDomain>,
}

/// The configuration a client's handshake is made in.
pub struct Chosen {
    /// The domain's name (`*.{parent}` for a wildcard one).
    pub domain: String,
    pub config: Arc<ServerConfig>,
    truststore: Option<Arc<Truststore>>,
}

impl TlsDomains {
    /// The configurations of `domains`; one that cannot be made (no certificate imported, a
    /// bad truststore) is logged and left out: its domain is then served over plain HTTP only.
    /// A truststore the same as in `previous` is kept as it was: connections it vouched for
    /// need not vouch again.
    pub fn build(domains: &[DomainRoute], previous: &TlsDomains) -> Self {
        let by_name = domains
            .iter()
            .filter_map(|d| {
                let kept = previous
                    .by_name
                    .get(&d.domain_name)
                    .and_then(|p| p.truststore.as_ref())
                    .filter(|t| d.truststore.as_deref() == Some(t.pem.as_str()));
                let truststore = match (kept, &d.truststore) {
                    (Some(t), _) => Some(Ok(t.clone())),
                    (None, Some(pem)) => Some(Truststore::new(pem).map(Arc::new)),
                    (None, None) => None,
                }
                .transpose();
                let made = truststore.and_then(|truststore| {
                    let config = server_config(d, truststore.as_deref())?;
                    Ok(TlsDomain {
                        config: Arc::new(config),
                        truststore,
                    })
                });
                match made {
                    Ok(t) => Some((d.domain_name.clone(), t)),
                    Err(e) => {
                        tracing::warn!(domain.name = %d.domain_name, error = %e, "the domain is not served over TLS");
                        None
                    }
                }
            })
            .collect();
        Self { by_name }
    }

    /// The configuration for the name a client asked for, and the domain it is of (a
    /// wildcard one as `*.{parent}`).
    pub fn config(&self, server_name: &str) -> Option<Chosen> {
        let chosen = |domain: String, d: &TlsDomain| Chosen {
            domain,
            config: d.config.clone(),
            truststore: d.truststore.clone(),
        };
        if let Some(d) = self.by_name.get(server_name) {
            return Some(chosen(server_name.to_owned(), d));
        }
        let (_, parent) = server_name.split_once('.')?;
        let wildcard = format!("*.{parent}");
        let d = self.by_name.get(&wildcard)?;
        Some(chosen(wildcard, d))
    }

    /// Whether the domain (`*.{parent}` for a wildcard one) is served over TLS: then it is
    /// served over TLS only.
    pub fn serves(&self, domain: &str) -> bool {
        self.by_name.contains_key(domain)
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// What a TLS connection established: the domain whose configuration it was made in and the
/// client's certificate, which that domain's truststore vouched for.
#[derive(Debug)]
pub struct TlsSession {
    /// The domain's name (`*.{parent}` for a wildcard one): the only one the connection serves.
    pub domain: String,
    pub client_cert: Option<ClientCert>,
    /// The client's certificate chain as it presented it, its own first.
    chain: Vec<CertificateDer<'static>>,
    /// When the first certificate of the chain expires: a kept connection's client is vouched
    /// for only until then, as a new handshake's would be.
    expires: Option<std::time::SystemTime>,
    /// The truststore that vouched for it last.
    vouched_by: arc_swap::ArcSwapOption<Truststore>,
    /// The last truststore that did not: a refused WebSocket session's messages, or a
    /// connection's requests that pass by the connection's end, cost no check of the chain again.
    refused_by: arc_swap::ArcSwapOption<Truststore>,
    /// Whether the last question [`Self::vouched`] answered was answered no.
    refused: std::sync::atomic::AtomicBool,
}

impl TlsSession {
    /// The session a handshake in `chosen` established, the client presenting `chain`.
    pub fn new(chosen: &Chosen, chain: Vec<CertificateDer<'static>>) -> Self {
        // rustls verified the certificate, so it can be read.
        let client_cert = chain.first().and_then(|c| ClientCert::of(c));
        let vouched_by = client_cert.as_ref().and(chosen.truststore.clone());
        let expires = chain
            .iter()
            .filter_map(|c| x509_parser::parse_x509_certificate(c).ok())
            .map(|(_, c)| c.validity().not_after.timestamp())
            .min()
            .map(|t| std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.max(0) as u64));
        Self {
            domain: chosen.domain.clone(),
            client_cert,
            chain,
            expires,
            vouched_by: arc_swap::ArcSwapOption::new(vouched_by),
            refused_by: arc_swap::ArcSwapOption::empty(),
            refused: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Whether the client was last found not vouched for: its connection is of no more use
    /// (the certificate it presented cannot change) and closes after the answer. (Also for a
    /// moment when mutual TLS is turned off: the domain's TLS changes before its routing does;
    /// the client connects again.)
    pub fn refused(&self) -> bool {
        self.refused.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether the client's certificate is vouched for at `now` by its domain's truststore in
    /// `tls` (the worker's domains now): the one that vouched in the handshake, or a new one
    /// that vouches for the certificate too (checked once per connection and truststore,
    /// whatever it says). False when the client presented none, when a certificate of its
    /// chain has expired since the handshake, or when the domain has no truststore now.
    pub fn vouched(&self, tls: &TlsDomains, now: std::time::SystemTime) -> bool {
        let vouched = self.check(tls, now);
        self.refused.store(!vouched, std::sync::atomic::Ordering::Relaxed);
        vouched
    }

    fn check(&self, tls: &TlsDomains, now: std::time::SystemTime) -> bool {
        let Some(current) = tls.by_name.get(&self.domain).and_then(|d| d.truststore.as_ref()) else {
            return false;
        };
        if self.client_cert.is_none() || self.expires.is_some_and(|at| now >= at) {
            return false;
        }
        let is_current = |t: &arc_swap::ArcSwapOption<Truststore>| {
            t.load().as_ref().is_some_and(|t| Arc::ptr_eq(t, current))
        };
        if is_current(&self.vouched_by) {
            return true;
        }
        if is_current(&self.refused_by) {
            return false;
        }
        let vouches = current.vouches_for(&self.chain);
        let verdict = if vouches {
            &self.vouched_by
        } else {
            &self.refused_by
        };
        verdict.store(Some(current.clone()));
        vouches
    }
}

/// A client's certificate as AWS shows it to integrations (`clientCert`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCert {
    pub client_cert_pem: String,
    #[serde(rename = "subjectDN")]
    pub subject_dn: String,
    #[serde(rename = "issuerDN")]
    pub issuer_dn: String,
    pub serial_number: String,
    pub validity: Validity,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Validity {
    pub not_before: String,
    pub not_after: String,
}

impl ClientCert {
    /// The certificate `der` described; `None` when it cannot be read (rustls verified it, so
    /// it can).
    pub fn of(der: &[u8]) -> Option<Self> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        // OpenSSL's text form, as AWS writes dates: `May 28 12:30:02 2019 GMT`.
        let date = |t: x509_parser::time::ASN1Time| {
            chrono::DateTime::from_timestamp(t.timestamp(), 0)
                .map(|d| d.format("%b %e %H:%M:%S %Y GMT").to_string())
                .unwrap_or_default()
        };
        let pem = {
            use base64::Engine;
            let b64 = base64::engine::general_purpose::STANDARD.encode(der);
            let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
            for line in b64.as_bytes().chunks(64) {
                pem.push_str(std::str::from_utf8(line).unwrap_or_default());
                pem.push('\n');
            }
            pem.push_str("-----END CERTIFICATE-----\n");
            pem
        };
        Some(Self {
            client_cert_pem: pem,
            subject_dn: cert.subject().to_string(),
            issuer_dn: cert.issuer().to_string(),
            serial_number: cert.raw_serial_as_string(),
            validity: Validity {
                not_before: date(cert.validity().not_before),
                not_after: date(cert.validity().not_after),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(names: &[&str]) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn certificates_say_what_they_cover_and_keys_must_match() {
        let (cert, key) = self_signed(&["api.example.com", "*.example.org"]);
        let facts = describe(&cert, &key).unwrap();
        assert_eq!(facts.names, ["api.example.com", "*.example.org"]);
        assert!(facts.not_after > chrono::Utc::now().timestamp());
        let (_, other_key) = self_signed(&["x.example.com"]);
        assert!(describe(&cert, &other_key).is_err());
        assert!(describe("not a pem", &key).is_err());
    }

    /// The domain `name` with the certificate `cert` and `key`, and mutual TLS with `truststore`.
    fn route(name: &str, (cert, key): &(String, String), truststore: Option<String>) -> DomainRoute {
        DomainRoute {
            domain_name: name.into(),
            account_id: "000000000000".into(),
            mappings: vec![],
            security_policy: "TLS_1_2".into(),
            certificate: Some(crate::domain::domain_name::CertifiedKey {
                arn: "arn".into(),
                chain_pem: cert.clone(),
                key_pem: key.clone(),
            }),
            mutual_tls: truststore.is_some(),
            truststore,
        }
    }

    /// A CA's certificate (PEM) and a client certificate it issued (DER).
    fn ca_and_client(name: &str) -> (String, CertificateDer<'static>) {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        let ca = rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap()).unwrap();
        let mut client = rcgen::CertificateParams::new(vec!["client.example.com".to_owned()]).unwrap();
        client.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let cert = client
            .signed_by(&rcgen::KeyPair::generate().unwrap(), &ca)
            .unwrap();
        (ca.pem(), cert.der().clone())
    }

    #[test]
    fn a_session_vouches_again_under_a_new_truststore_once() {
        let certified = self_signed(&["m.example.com"]);
        let (ca, client) = ca_and_client("CA");
        let (other_ca, _) = ca_and_client("Other CA");
        let domains = |truststore: String| [route("m.example.com", &certified, Some(truststore))];
        let truststore = |tls: &TlsDomains| tls.by_name["m.example.com"].truststore.clone().unwrap();
        let first = TlsDomains::build(&domains(ca.clone()), &TlsDomains::default());
        let session = TlsSession::new(&first.config("m.example.com").unwrap(), vec![client.clone()]);
        let without = TlsSession::new(&first.config("m.example.com").unwrap(), vec![]);
        assert!(session.vouched(&first, now()) && !session.refused());
        assert!(!without.vouched(&first, now()) && without.refused());
        // The same truststore is kept across rebuilds: nothing to vouch for again.
        let same = TlsDomains::build(&domains(ca.clone()), &first);
        assert!(Arc::ptr_eq(&truststore(&first), &truststore(&same)));
        // Another CA's truststore refuses the client, and is remembered as refusing it.
        let other = TlsDomains::build(&domains(other_ca.clone()), &same);
        assert!(!session.vouched(&other, now()) && session.refused());
        let refused = session.refused_by.load_full().unwrap();
        assert!(Arc::ptr_eq(&refused, &truststore(&other)));
        assert!(!session.vouched(&other, now()));
        // One of both CAs vouches for it again.
        let both = TlsDomains::build(&domains(format!("{ca}{other_ca}")), &other);
        assert!(session.vouched(&both, now()) && !session.refused());
        assert!(Arc::ptr_eq(
            &session.vouched_by.load_full().unwrap(),
            &truststore(&both)
        ));
        // A domain without mutual TLS any more vouches for no one.
        assert!(!session.vouched(&TlsDomains::default(), now()));
    }

    fn now() -> std::time::SystemTime {
        std::time::SystemTime::now()
    }

    #[test]
    fn a_session_is_not_vouched_for_once_its_certificate_has_expired() {
        let certified = self_signed(&["m.example.com"]);
        let (ca, client) = ca_and_client("CA");
        let tls = TlsDomains::build(
            &[route("m.example.com", &certified, Some(ca))],
            &TlsDomains::default(),
        );
        let session = TlsSession::new(&tls.config("m.example.com").unwrap(), vec![client.clone()]);
        let (_, cert) = x509_parser::parse_x509_certificate(&client).unwrap();
        let not_after = std::time::UNIX_EPOCH
            + std::time::Duration::from_secs(cert.validity().not_after.timestamp() as u64);
        let second = std::time::Duration::from_secs(1);
        assert!(session.vouched(&tls, not_after - second));
        // The truststore still vouches for the chain; its time has run out.
        assert!(!session.vouched(&tls, not_after) && session.refused());
        assert!(!session.vouched(&tls, not_after + second));
    }

    #[test]
    fn domains_are_chosen_by_name_or_wildcard() {
        let certified = self_signed(&["*.example.com"]);
        let mut without = route("plain.example.net", &certified, None);
        without.certificate = None;
        let wildcard = route("*.example.com", &certified, None);
        let tls = TlsDomains::build(&[wildcard, without], &TlsDomains::default());
        assert_eq!(tls.config("api.example.com").unwrap().domain, "*.example.com");
        assert!(tls.config("a.b.example.com").is_none());
        assert!(tls.config("plain.example.net").is_none());
    }
}
